"""The prefix lock: two site folders with one HOMESTACK_PREFIX act on the same Compose
projects, networks and volumes, so they take turns too. Real flocks, real processes."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from homestack import sitelock
from homestack.events import Collected

SRC = Path(__file__).resolve().parents[2] / "src"

HOLDER = """
import os, sys, time
from pathlib import Path
os.umask(int(sys.argv[5], 8))
from homestack.sitelock import site_lock
with site_lock(Path(sys.argv[1]), sys.argv[3], shared=sys.argv[4] == "shared"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _site(folder: Path, prefix: str) -> Path:
    folder.mkdir(parents=True)
    (folder / ".env").write_text(f"HOMESTACK_PREFIX={prefix}\nDATA_ROOT=./DATA\n")
    return folder


def hold(
    root: Path,
    action: str = "up",
    mode: str = "exclusive",
    *,
    umask: str = "022",
    python: str = sys.executable,
    user: int | None = None,
) -> subprocess.Popen[str]:
    """Another process holding `root`'s lock (once it printed 'held')."""
    env = {k: v for k, v in os.environ.items() if k != "HOMESTACK_PREFIX"}
    env["PYTHONPATH"] = str(SRC)
    process = subprocess.Popen(
        [python, "-c", HOLDER, str(root), "30", action, mode, umask],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd="/",
        user=user,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if line != "held":
        process.kill()
        pytest.fail(f"the holder did not get the lock: {process.communicate()}")
    return process


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOMESTACK_PREFIX", raising=False)
    monkeypatch.setenv("HOMESTACK_LOCK_TIMEOUT", "0.5")


def test_two_site_folders_with_one_prefix_take_turns_naming_the_other_folder(
    tmp_path: Path,
) -> None:
    first = _site(tmp_path / "checkout-a", "hsshared_")
    second = _site(tmp_path / "checkout-b", "hsshared_")
    other = hold(first, "up")
    heard = Collected()
    try:
        with (
            pytest.raises(sitelock.SiteBusy) as busy,
            sitelock.site_lock(second, "down", waiting=heard),
        ):
            pytest.fail("a second checkout with the same prefix went ahead")
    finally:
        other.kill()
        other.wait()
    message = busy.value.message
    assert "HOMESTACK_PREFIX=hsshared_" in message
    assert f"pid {other.pid}, homestack up" in message
    assert f"site folder {first.resolve()}" in message
    assert busy.value.hint and "its own prefix" in busy.value.hint
    assert any(e.line().startswith("waiting for HOMESTACK_PREFIX=hsshared_") for e in heard)
    with sitelock.site_lock(second, "down"):  # the holder died: free at once
        assert sitelock.holders(second)[0].startswith(f"pid {os.getpid()}, homestack down")
    assert sitelock._held == {}


def test_other_prefixes_do_not_wait_and_backups_share_one_prefix(tmp_path: Path) -> None:
    first = _site(tmp_path / "a", "hsone_")
    other = hold(first, "up")
    try:
        with sitelock.site_lock(_site(tmp_path / "b", "hstwo_"), "up"):
            pass  # another prefix: other projects, no wait
    finally:
        other.kill()
        other.wait()
    backing_up = hold(first, "backup ollama", "shared")
    second = _site(tmp_path / "c", "hsone_")
    try:
        with sitelock.site_lock(second, "backup jellyfin", shared=True):
            pass  # two backups side by side
        with (
            pytest.raises(sitelock.SiteBusy, match="backup ollama"),
            sitelock.site_lock(second, "up"),
        ):
            pass
    finally:
        backing_up.kill()
        backing_up.wait()


def test_the_prefix_comes_from_the_environment_before_the_site_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _site(tmp_path / "a", "hsfile_")
    assert sitelock.prefix_of(site) == "hsfile_"
    monkeypatch.setenv("HOMESTACK_PREFIX", "hsenv_")
    assert sitelock.prefix_of(site) == "hsenv_"
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / ".env.example").write_text("HOMESTACK_PREFIX=hsexample_\n")
    monkeypatch.delenv("HOMESTACK_PREFIX")
    assert sitelock.prefix_of(bare) == "hsexample_"


def test_lock_folder_is_the_first_every_user_may_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root and the site's owner must pick the same folder, so the choice depends on the
    folders' modes, never on who asks (a per-user folder would split the lock in two)."""
    private = tmp_path / "private"
    private.mkdir(mode=0o755)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    monkeypatch.setattr(sitelock, "SHARED_LOCK_DIRS", (tmp_path / "missing", private, shared))
    monkeypatch.delenv("HOMESTACK_LOCK_DIR")
    assert sitelock.shared_lock_dir() == shared
    monkeypatch.setattr(sitelock, "SHARED_LOCK_DIRS", (private,))
    with pytest.raises(sitelock.OperationFailed, match="no folder every user may write") as none:
        sitelock.shared_lock_dir()
    assert none.value.hint and "HOMESTACK_LOCK_DIR" in none.value.hint
    monkeypatch.setenv("HOMESTACK_LOCK_DIR", str(private))
    assert sitelock.shared_lock_dir() == private


def test_the_prefix_lock_is_readable_by_every_user_whatever_the_umask(tmp_path: Path) -> None:
    site = _site(tmp_path / "a", "hsumask_")
    other = hold(site, "up", umask="077")
    try:
        folder = sitelock.shared_lock_dir()
        lock = folder / "homestack-prefix-hsumask_.lock"
        assert stat.S_IMODE(lock.stat().st_mode) == 0o644
        (note,) = folder.glob("homestack-prefix-hsumask_.holder.*")
        assert stat.S_IMODE(note.stat().st_mode) == 0o644
    finally:
        other.kill()
        other.wait()


def test_a_site_locked_with_sudo_stays_usable_by_its_owner() -> None:
    """root (sudo) takes the lock first in a site owned by a user: what it creates under
    .homestack/ belongs to that user, who then locks the site (notes included) and shares
    the prefix lock with root."""
    python = shutil.which("python3", path="/usr/bin:/bin")
    if os.geteuid() != 0 or python is None:
        pytest.skip("needs root and a system python3 another user can run")
    owner = 4321
    tmp_path = Path(tempfile.mkdtemp(prefix="homestack-sudo-test-"))  # pytest's is 0700
    try:
        _sudo_then_owner(tmp_path, python, owner)
    finally:
        shutil.rmtree(tmp_path)


def _sudo_then_owner(tmp_path: Path, python: str, owner: int) -> None:
    tmp_path.chmod(0o755)
    site = _site(tmp_path / "site", "hssudo_")
    (site / ".env").chmod(0o644)
    os.chown(site, owner, owner)
    shared = tmp_path / "locks"
    shared.mkdir()
    shared.chmod(0o1777)
    os.environ["HOMESTACK_LOCK_DIR"] = str(shared)  # restored by conftest's fixture
    with sitelock.site_lock(site, "install all"):
        pass
    for made in (site / ".homestack", site / sitelock.HOLDERS, site / sitelock.LOCK_FILE):
        assert made.stat().st_uid == owner, made
    as_owner = hold(site, "backup ollama", "exclusive", python=python, user=owner)
    try:
        (note,) = sitelock.holders(site)
        assert note.startswith(f"pid {as_owner.pid}, homestack backup ollama")
        with (
            pytest.raises(sitelock.SiteBusy, match="backup ollama"),
            sitelock.site_lock(_site(tmp_path / "root-copy", "hssudo_"), "up"),
        ):
            pass  # root's other checkout, same prefix: waits for the owner's
    finally:
        as_owner.kill()
        as_owner.wait()


def test_a_loaded_sites_prefix_is_the_one_prefix_of_reads_and_is_locked_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """up, down and restart pass site.prefix (Site already read .env) instead of having
    prefix_of read .env again: the same value, the process environment first."""
    from homestack.catalog import Site

    monkeypatch.setenv("HOMESTACK_NO_CACHE", "1")
    first = _site(tmp_path / "a", "hsfile_")
    (first / "base.docker-compose.yaml").write_text("services: {}\n")
    assert Site.load(first).prefix == sitelock.prefix_of(first) == "hsfile_"
    monkeypatch.setenv("HOMESTACK_PREFIX", "hsenv_")
    assert Site.load(first).prefix == sitelock.prefix_of(first) == "hsenv_"
    monkeypatch.delenv("HOMESTACK_PREFIX")
    expanded = _site(tmp_path / "c", "hs${STAGE}_")  # both expand it, as Compose does
    (expanded / "base.docker-compose.yaml").write_text("services: {}\n")
    monkeypatch.setenv("STAGE", "dev")
    assert Site.load(expanded).prefix == sitelock.prefix_of(expanded) == "hsdev_"
    monkeypatch.delenv("STAGE")
    other = _site(tmp_path / "b", "hsother_")
    holder = hold(first)
    try:  # the prefix given is the one locked, whatever b's .env says
        with pytest.raises(sitelock.SiteBusy), sitelock.site_lock(other, "up", prefix="hsfile_"):
            pass
        with sitelock.site_lock(other, "up", prefix="hsother_"):
            pass
    finally:
        holder.kill()
        holder.wait()
