"""What a backup or restore is in the middle of, on disk, so a killed run can be undone.

Each operation writes `DATA/.homestack/backup/{service}.journal.json` before it changes
anything (stops the service, writes a dump, swaps folders) and removes it when it is done.
The next operation on that service (holding the lock, so the writer is dead) reads a journal
left behind and puts things back: previous data back in place, the service running again.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import fsutil


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write a file under its final name only once it is whole (creating its folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fsutil.write_atomic(path, data, mode=mode)


def remove_path(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path)


@dataclass
class Swap:
    """Replace `live` by `incoming`, keeping the old one as `previous`."""

    live: str
    incoming: str
    previous: str
    had_live: bool

    def swap_out(self) -> None:
        if self.had_live:
            Path(self.live).rename(self.previous)

    def swap_in(self) -> None:
        Path(self.incoming).rename(self.live)

    def undo(self) -> None:
        """Idempotent: whatever step a run died at, `live` ends as it was before."""
        live, previous = Path(self.live), Path(self.previous)
        if self.had_live:
            if previous.exists() or previous.is_symlink():
                if live.exists() or live.is_symlink():
                    remove_path(live)  # the restored copy (swap was complete)
                previous.rename(live)
            # else: the swap never began for this path; live is untouched
        elif live.exists() or live.is_symlink():
            remove_path(live)  # restored where there was nothing
        remove_path(Path(self.incoming))


@dataclass
class Journal:
    service: str
    op: str  # backup | restore
    phase: str = "start"
    pid: int = field(default_factory=os.getpid)
    started: float = field(default_factory=time.time)
    was_running: bool = False
    was_paused: bool = False
    dump_temp: str | None = None
    staging: str | None = None
    swaps: list[Swap] = field(default_factory=list)
    keep_previous: bool = False
    #: the restic it started: recovery ends it when it outlived a killed homestack
    restic_pid: int | None = None

    @staticmethod
    def path(folder: Path, service: str) -> Path:
        return folder / f"{service}.journal.json"

    def save(self, folder: Path) -> None:
        write_atomic(
            self.path(folder, self.service), json.dumps(asdict(self), indent=2).encode(), 0o600
        )

    @classmethod
    def load(cls, folder: Path, service: str) -> Journal | None:
        path = cls.path(folder, service)
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            # a torn journal can only come from a crash before anything changed
            return cls(service, "unknown", phase="unreadable")
        swaps = [Swap(**s) for s in raw.pop("swaps", []) if isinstance(s, dict)]
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        journal = cls(**known)
        journal.swaps = swaps
        return journal

    @classmethod
    def clear(cls, folder: Path, service: str) -> None:
        cls.path(folder, service).unlink(missing_ok=True)


def hold_point(name: str) -> None:
    """Fault injection for the kill -9 tests: with HOMESTACK_TEST_HOLD_AT=name the process
    announces it reached `name` (in HOMESTACK_TEST_HOLD_FILE) and waits to be killed, or
    only HOMESTACK_TEST_HOLD_SECONDS."""
    if os.environ.get("HOMESTACK_TEST_HOLD_AT") != name:
        return
    marker = os.environ.get("HOMESTACK_TEST_HOLD_FILE")
    if marker:
        Path(marker).write_text(name, encoding="utf-8")
    seconds = os.environ.get("HOMESTACK_TEST_HOLD_SECONDS")
    if seconds:  # hold this long, then go on (a long pause, a slow restic)
        time.sleep(float(seconds))
        return
    while True:
        time.sleep(60)
