"""Lock holder notes (`…holder.PID`) left by killed runs are cleaned up (issue 15): they
piled up in /run/lock and in the site's .homestack/site.holders. A real process holds the
lock and is killed -9; the next command that takes the lock removes its notes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from homestack import sitelock

CHILD = """
import sys, time
from pathlib import Path
from homestack.sitelock import site_lock
with site_lock(Path(sys.argv[1]), "up", prefix="hstlk_"):
    print("held", flush=True)
    time.sleep(120)
"""


def _notes(root: Path) -> list[str]:
    folder = sitelock.shared_lock_dir()
    return sorted(p.name for p in folder.glob("homestack-prefix-hstlk_.holder.*")) + sorted(
        p.name for p in (root / ".homestack" / "site.holders").glob("*")
    )


def test_the_next_lock_removes_the_notes_of_a_holder_killed_9(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    left = _notes(root)
    assert any(name.endswith(f".{child.pid}") for name in left), left
    with sitelock.site_lock(root, "down", prefix="hstlk_"):
        mine = _notes(root)
    assert all(str(child.pid) not in name for name in mine), mine
    assert _notes(root) == []
