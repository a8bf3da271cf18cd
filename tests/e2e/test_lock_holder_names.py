"""The site lock's holder note names the command as typed, with its names: a second command
prints `waiting for the site: pid N, homestack restart media, since …`; `restart media`
showed as "homestack restart", `up`/`down` as bare verbs. Real CLI processes: each takes the
site's lock, then waits for the prefix lock this test holds, so its note can be read (it
is killed there, before it changes anything)."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from homestack import sitelock
from testkit.sites import copy_catalog

pytestmark = pytest.mark.e2e

CLI = "import sys; from homestack.cli.app import run; sys.exit(run(sys.argv[1:]))"


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["restart", "media"], "homestack restart media"),
        (["up", "jellyfin", "--stand-in"], "homestack up jellyfin --stand-in"),
        (["down", "media", "--no-dependents"], "homestack down media --no-dependents"),
        (["install", "all", "--stack", "media"], "homestack install all --stack media"),
    ],
)
def test_a_holder_is_named_with_its_command_and_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], shown: str
) -> None:
    root = copy_catalog(tmp_path / "site")
    prefix = f"hold{os.getpid()}{tmp_path.name[-6:]}-"
    monkeypatch.setenv("HOMESTACK_PREFIX", prefix)
    lock = sitelock._prefix_spot(root.resolve()).lock
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDONLY | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)  # the child gets the site, then waits here
    child = subprocess.Popen(
        [sys.executable, "-c", CLI, "--site", str(root), *argv],
        env={**os.environ, "HOMESTACK_LOCK_TIMEOUT": "60"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        notes: list[str] = []
        while not notes and child.poll() is None and time.monotonic() < deadline:
            notes = sitelock.holders(root)
            time.sleep(0.05)
        assert notes, child.communicate() if child.poll() is not None else "no note in 60 s"
        assert notes == [notes[0]]
        assert notes[0].startswith(f"pid {child.pid}, {shown}, since "), notes
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        os.close(fd)


def test_a_command_that_waits_for_a_holder_names_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This process holds the site as `restart media` (as the CLI notes it); a real
    `homestack up jellyfin` that may not wait names the holder and itself with their names."""
    root = copy_catalog(tmp_path / "site")
    monkeypatch.setenv("HOMESTACK_PREFIX", f"wait{os.getpid()}-")
    words = sitelock.command_words(["--site", str(root), "restart", "media"])
    with sitelock.site_lock(root, "restart", command=words):
        (note,) = sitelock.holders(root)
        assert note.startswith(f"pid {os.getpid()}, homestack restart media, since ")
        child = subprocess.run(
            [sys.executable, "-c", CLI, "--site", str(root), "up", "jellyfin"],
            env={**os.environ, "HOMESTACK_LOCK_TIMEOUT": "0"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert child.returncode == 1, child.stderr
    assert f"the site is busy (pid {os.getpid()}, homestack restart media, since " in (child.stderr)
    assert "`homestack up jellyfin` waited 0 s" in child.stderr
    # a library call whose action the command line does not start with keeps its own
    with sitelock.site_lock(root, "backup jellyfin", shared=True, command=words):
        (note,) = sitelock.holders(root)
        assert ", homestack backup jellyfin, since " in note
