"""Root working in a user's clone (`sudo ./install-stack.sh`, even `--dry-run`) leaves
`.homestack/` (the YAML parse cache, the site lock and its holders' notes) to the clone's
owner, whose own commands then lock, cache and run as before. Before, the parse cache made
`.homestack` root's, and the owner's next locking command failed with "cannot open the lock
…: Permission denied — run homestack as the user who owns the site folder", which they do.

A real second user (useradd) runs the real CLI (runuser); no engine is needed: `install
secrets` takes the site lock and writes files. Needs root, `useradd` and `runuser`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import homestack
from testkit.sites import copy_catalog

pytestmark = pytest.mark.e2e

CLI = "import sys; from homestack.cli.app import run; sys.exit(run(sys.argv[1:]))"
SRC = str(Path(homestack.__file__).resolve().parents[1])


def _python_for(user: str) -> list[str] | None:
    """An interpreter the user may run with homestack and its dependencies importable: this
    one, else the system's of the same version (this one may live under /root)."""
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    path = os.pathsep.join(
        [SRC, sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    )
    for python in (sys.executable, f"/usr/bin/python{version}"):
        probe = subprocess.run(
            [
                "runuser",
                "-u",
                user,
                "--",
                "env",
                f"PYTHONPATH={path}",
                python,
                "-c",
                "import homestack.cli.app",
            ],
            capture_output=True,
            check=False,
        )
        if probe.returncode == 0:
            return ["env", f"PYTHONPATH={path}", python]
    return None


@pytest.fixture(scope="module")
def owner() -> Iterator[tuple[str, list[str]]]:
    if os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("runuser"):
        pytest.skip("needs root, useradd and runuser")
    name = f"hs{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--no-create-home", name], check=True)
    try:
        python = _python_for(name)
        if python is None:
            pytest.skip("no Python with homestack that a second user may run")
        yield name, python
    finally:
        subprocess.run(["userdel", name], check=False)


@pytest.fixture
def clone(owner: tuple[str, list[str]]) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="homestack-sudo-", dir="/tmp"))
    folder.chmod(0o755)  # pytest's tmp_path is root's alone: the user could not reach it
    root = copy_catalog(folder / "site")
    locks = folder / "locks"  # the prefix locks, shared by root and the owner (as /run/lock)
    locks.mkdir()
    locks.chmod(0o1777)
    (root / ".env").write_text(f"HOMESTACK_PREFIX={folder.name}-\n")
    subprocess.run(["chown", "-R", f"{owner[0]}:{owner[0]}", str(root)], check=True)
    yield root
    shutil.rmtree(folder, ignore_errors=True)


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HOMESTACK_PREFIX"}
    return {**env, "HOMESTACK_LOCK_DIR": str(root.parent / "locks")}


def _as_root(root: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CLI, "--site", str(root), *argv],
        env=_env(root),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _as_owner(
    owner: tuple[str, list[str]], root: Path, *argv: str
) -> subprocess.CompletedProcess[str]:
    name, python = owner
    return subprocess.run(
        ["runuser", "-u", name, "--", *python, "-c", CLI, "--site", str(root), *argv],
        env=_env(root),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd="/",
    )


def _roots_files(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for p in [root, *root.rglob("*")] if p.lstat().st_uid == 0]


def test_a_sudo_dry_run_and_a_sudo_install_leave_the_site_state_to_its_owner(
    owner: tuple[str, list[str]], clone: Path
) -> None:
    dry = _as_root(clone, "install", "all", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert (clone / ".homestack" / "cache" / "yaml.marshal").is_file()  # the cache was written
    assert _roots_files(clone) == []  # … and a dry run leaves nothing of root's

    done = _as_owner(owner, clone, "install", "secrets")  # the owner's locking command
    assert done.returncode == 0, done.stderr
    assert "cannot open the lock" not in done.stderr

    again = _as_root(clone, "install", "secrets")  # a real sudo run: takes the lock
    assert again.returncode == 0, again.stderr
    state = clone / ".homestack"
    assert [p for p in _roots_files(clone) if p.startswith(".homestack")] == []
    assert (state / "site.lock").stat().st_uid != 0

    # the owner's run replaces the cache root wrote (a changed file is parsed and stored)
    before = (state / "cache" / "yaml.marshal").stat().st_ino
    service = clone / "ai-stack" / "services" / "ollama.docker-compose.yaml"
    subprocess.run(
        ["runuser", "-u", owner[0], "--", "sh", "-c", f"echo '# edited' >> {service}"],
        check=True,
    )
    listed = _as_owner(owner, clone, "ls")
    assert listed.returncode == 0, listed.stderr
    assert (state / "cache" / "yaml.marshal").stat().st_ino != before


def test_an_unwritable_cache_is_ignored_silently(owner: tuple[str, list[str]], clone: Path) -> None:
    """A cache left root's alone (an older homestack): the owner's runs go uncached."""
    assert _as_root(clone, "ls").returncode == 0
    cache = clone / ".homestack" / "cache"
    subprocess.run(["chown", "-R", "root:root", str(cache)], check=True)
    cache.chmod(0o700)
    listed = _as_owner(owner, clone, "ls")
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr == ""
    locked = _as_owner(owner, clone, "install", "secrets")
    assert locked.returncode == 0, locked.stderr


def test_a_state_folder_root_kept_is_named_as_the_cause_with_its_fix(
    owner: tuple[str, list[str]], clone: Path
) -> None:
    """`.homestack` made root's by an older homestack: the owner is told that, and how to
    take it back, not to 'run homestack as the user who owns the site folder'."""
    state = clone / ".homestack"
    state.mkdir()
    subprocess.run(["chown", "root:root", str(state)], check=True)
    done = _as_owner(owner, clone, "install", "secrets")
    assert done.returncode == 1, done.stderr
    assert f"cannot open the lock {state / 'site.lock'}" in done.stderr
    assert f"{state} belongs to root" in done.stderr
    assert f"sudo chown -R $USER {state}" in done.stderr
    assert "Run homestack as the user who owns the site folder" not in done.stderr
