"""`./install-stack.sh` from a fresh clone on this machine (real engine, no registry).

Without --stand-in it gets as far as pulling images and stops there with a clear message;
with --stand-in every enabled stack comes up healthy; a second run changes nothing. All it
creates is namespaced with HOMESTACK_PREFIX and removed afterwards. The repository's .venv is
reused (HOMESTACK_VENV) so the script does not install homestack again.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.engine import REPO, remove_everything_named

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _venv() -> Path:
    """The virtual environment running the tests (sys.prefix, not the resolved interpreter)."""
    venv = Path(sys.prefix)
    if not (venv / "pyvenv.cfg").is_file() or not (venv / "bin" / "homestack").exists():
        pytest.skip("the tests do not run from a virtual environment with homestack in it")
    return venv


@pytest.fixture
def clone(tmp_path: Path, engine_cleanup: str, standin_image: str) -> Iterator[Path]:
    """A fresh clone of HEAD; afterwards `homestack down` and whatever is left is removed."""
    target = tmp_path / "homelab"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(target)],
        check=True,
        capture_output=True,
    )
    _images_on_loopback(target)
    yield target
    subprocess.run(
        [str(_venv() / "bin" / "homestack"), "--site", str(target), "down"],
        env=_env(engine_cleanup),
        capture_output=True,
        check=False,
        timeout=300,
    )
    remove_everything_named(engine_cleanup)


def _images_on_loopback(site: Path) -> None:
    """Point every image at a registry on loopback that is not there.

    A pull of `ollama/ollama:…` would make the engine ask the host's resolver for the
    registry's address: traffic that leaves this machine. From 127.0.0.1:5999 the pull fails
    the same way a user without internet meets it (connection refused), and nothing leaves.
    """
    for path in site.glob("*-stack/services/*.docker-compose.yaml"):
        text = path.read_text()
        moved = re.sub(r"(?m)^(\s*image:\s*)(?!127\.0\.0\.1)(\S)", r"\g<1>127.0.0.1:5999/\2", text)
        path.write_text(moved)


def _env(prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOMESTACK_", "SUDO_"))}
    env.update(HOMESTACK_PREFIX=prefix, HOMESTACK_VENV=str(_venv()), NO_COLOR="1")
    return env


def _install(clone: Path, prefix: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["./install-stack.sh", *args],
        cwd=clone,
        env=_env(prefix),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_install_stack_stops_at_pull_then_stand_in_comes_up_and_rerun_changes_nothing(
    clone: Path, engine_cleanup: str
) -> None:
    prefix = engine_cleanup
    dry = _install(clone, prefix, "--dry-run")
    out = dry.stdout + dry.stderr
    assert dry.returncode == 0, out
    assert "settings: would create .env" in out and "up: would bring up" in out
    assert out.rstrip().endswith("dry run: nothing was changed")
    assert not (clone / ".env").exists() and not (clone / "DATA").exists()
    assert not (clone / "secrets").exists()

    first = _install(clone, prefix)
    out = first.stdout + first.stderr
    assert first.returncode != 0, out
    assert "cannot pull" in out and "no image registry is reachable" in out, out
    assert "127.0.0.1:5999/" in out  # the pull went to loopback, not out to a registry
    assert "./install-stack.sh --stand-in" in out  # the hint names the installer form
    assert "Traceback" not in out
    assert (clone / ".env").is_file() and "TZ=" in (clone / ".env").read_text()
    assert "networks: create network" in out

    second = _install(clone, prefix, "--stand-in")
    out = second.stdout + second.stderr
    assert second.returncode == 0, out
    assert "settings: .env exists: nothing to change" in out
    assert "networks: nothing to change" in out  # made by the first run
    ps = subprocess.run(
        ["docker", "ps", "--filter", f"name=^/?{prefix}", "--format", "{{.Names}} {{.Status}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert ps, "no containers came up"
    running = [line for line in ps if "(healthy)" in line or "Up" in line]
    assert running == ps and not any("unhealthy" in line for line in ps), ps

    third = _install(clone, prefix, "--stand-in")
    out = third.stdout + third.stderr
    assert third.returncode == 0, out
    assert "nothing changed: settings, drivers, Docker, networks" in out, out
    assert "up: nothing to do" in out
