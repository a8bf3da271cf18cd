"""Every mutating operation takes the site lock itself: called straight from Python (no CLI)
while another process holds the site, each one fails with SiteBusy naming the holder, and
changes nothing. Real flocks, a real holder process, the shipped catalog; the operations
are refused before they reach the engine, so none is needed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from homestack import api
from homestack.catalog import Site
from homestack.context import Context
from homestack.events import Collected, LockWaiting
from homestack.sitelock import SiteBusy
from testkit.sites import copy_catalog

SRC = Path(__file__).resolve().parents[2] / "src"
HOLDER = """
import sys, time
from pathlib import Path
from homestack.sitelock import site_lock
with site_lock(Path(sys.argv[1]), "backup jellyfin", shared=True):
    print("held", flush=True)
    time.sleep(60)
"""


def _install_all(ctx: Context) -> Any:
    from homestack.host.install_all import install_all
    from homestack.host.probe import CommandResult, HostProbe, no_nvml

    def run(argv: Any, *, timeout: float = 60.0) -> CommandResult:
        raise AssertionError(f"install all ran {argv} without the lock")

    probe = HostProbe(root=ctx.site.root / "host", run=run, which=lambda _: None, nvml=no_nvml)
    return install_all(ctx.site.root, ctx.sink, probe=probe)


OPERATIONS: dict[str, Callable[[Context], Any]] = {
    "up": lambda ctx: api.up(ctx, ["caddy"]),
    "down": lambda ctx: api.down(ctx, ["media"]),
    "restart": lambda ctx: api.restart(ctx, ["jellyfin"]),
    "stop": lambda ctx: api.stop(ctx, ["jellyfin"]),
    "start": lambda ctx: api.start(ctx, ["jellyfin"]),
    "install networks": lambda ctx: api.install_networks(ctx, ["media"]),
    "install secrets": lambda ctx: api.install_secrets(ctx, ["media"]),
    "install data": lambda ctx: api.install_data(ctx, ["media"]),
    "install all": _install_all,
}


@pytest.fixture(scope="module")
def held(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A site whose lock another process holds (shared, as a backup holds it)."""
    root = copy_catalog(tmp_path_factory.mktemp("locked") / "site")
    prefix = f"hslock{os.getpid()}_"
    (root / ".env").write_text(
        (root / ".env.example").read_text() + f"\nHOMESTACK_PREFIX={prefix}\nDATA_ROOT=./DATA\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "HOMESTACK_PREFIX"}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root)],
        stdout=subprocess.PIPE,
        text=True,
        env={**env, "PYTHONPATH": str(SRC)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield root
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_an_operation_called_directly_waits_for_the_holder_then_fails(
    held: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMESTACK_LOCK_TIMEOUT", "0.3")
    monkeypatch.delenv("HOMESTACK_PREFIX", raising=False)
    heard = Collected()
    ctx = Context.for_site(Site.load(held), sink=heard)
    with pytest.raises(SiteBusy) as busy:
        OPERATIONS[name](ctx)
    assert "homestack backup jellyfin" in busy.value.message
    assert f"`homestack {name}" in busy.value.message
    (waited,) = heard.of(LockWaiting)  # reported to the context's sink, not printed
    assert waited.what == "the site"
    assert not (held / "secrets").exists() and not (held / "DATA").exists()


def test_restore_called_directly_is_refused_while_the_site_is_held(
    held: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from homestack.backup.restic import restic_binary
    from homestack.errors import HomestackError

    try:
        restic_binary()
    except HomestackError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("restic is not installed")
    monkeypatch.setenv("HOMESTACK_LOCK_TIMEOUT", "0.3")
    monkeypatch.delenv("HOMESTACK_PREFIX", raising=False)
    ctx = Context.for_site(Site.load(held))
    with pytest.raises(SiteBusy, match="`homestack restore jellyfin` waited"):
        api.restore(ctx, ctx.site.service("jellyfin"))


def test_the_cli_renders_the_wait_on_stderr_and_names_the_command_as_typed(
    held: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the CLI the same wait is a line on stderr (the LockWaiting event, rendered),
    and the refusal names the command line as typed (Context.command)."""
    from homestack.cli.app import run

    monkeypatch.setenv("HOMESTACK_LOCK_TIMEOUT", "0.3")
    monkeypatch.delenv("HOMESTACK_PREFIX", raising=False)
    assert run(["--site", str(held), "install", "networks", "media"]) == 1
    err = capsys.readouterr().err
    assert "waiting for the site: pid " in err and ", homestack backup jellyfin, since " in err
    assert "`homestack install networks media` waited 0.3 s" in err


def test_a_long_wait_line_stays_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """The wait was written raw to stderr before it became an event: however long the
    holders' notes, the rendered line is not wrapped at the console's width (200)."""
    from homestack.cli.events import CliSink

    holders = "; ".join(
        f"pid {n}, homestack up, since 2026-12-07, site folder /srv/x{n}" for n in range(6)
    )
    CliSink()(LockWaiting("the site", holders))
    assert capsys.readouterr().err == f"waiting for the site: {holders} …\n"
