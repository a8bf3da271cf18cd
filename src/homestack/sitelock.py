"""One command at a time changes a site's containers: an flock on `.homestack/site.lock`.

`up`, `down`, `restart`, `install` and `restore` hold it exclusively for their whole run;
`backup` holds it shared, per service, while it stops, pauses or dumps that service and
starts it again: backups of different services may run side by side (each service has its
own backup lock), but not beside a command that deploys. Without it a nightly
`backup --all` and a `homestack up` could race: `up` starting a service that backup had
stopped for a consistent copy, or backup starting one that `down` had just removed.

A command that finds the site busy says once, on stderr, who holds it, and waits up to
HOMESTACK_LOCK_TIMEOUT seconds (default 900; 0: do not wait), then fails with exit 1 naming
the holder. The kernel drops an flock when its process dies, so a killed command never
leaves the site locked. The lock is re-entrant within one process (`install all` runs `up`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .errors import BadInput, OperationFailed

LOCK_FILE = Path(".homestack") / "site.lock"
HOLDERS = Path(".homestack") / "site.holders"  # one file per holding process: who and since
DEFAULT_TIMEOUT_S = 900.0
POLL_S = 0.2


@dataclass
class _Hold:
    """This process's hold on one site's lock."""

    fd: int
    shared: bool
    depth: int = 1


_held: dict[Path, _Hold] = {}  # lock file → this process's hold
_guard = threading.Lock()
# one thread at a time takes a new hold: threads asking at once (`backup --all --jobs N`)
# would each take an flock, and the second hold would replace the first
_taking = threading.Lock()


class SiteBusy(OperationFailed):
    """Another homestack command is changing this site's containers."""


def _timeout() -> float:
    raw = os.environ.get("HOMESTACK_LOCK_TIMEOUT", "")
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise BadInput(
            f"HOMESTACK_LOCK_TIMEOUT={raw} is not a number of seconds",
            "Set it to how long a command may wait for another one (0: do not wait).",
        )
    return value


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holders(root: Path) -> list[str]:
    """Who holds the site now, as each holder wrote it (`pid N, homestack up, since …`)."""
    found = []
    folder = root / HOLDERS
    for entry in sorted(folder.glob("*")) if folder.is_dir() else []:
        if not entry.name.isdigit() or not _alive(int(entry.name)):
            with contextlib.suppress(OSError):
                entry.unlink()  # a holder killed -9 left its note; its flock is long gone
            continue
        with contextlib.suppress(OSError):
            found.append(entry.read_text(encoding="utf-8", errors="replace").strip())
    return [text for text in found if text]


@contextlib.contextmanager
def site_lock(root: Path, action: str, *, shared: bool = False) -> Iterator[None]:
    """Hold the site's lock for `action` (`up`, `backup jellyfin` …), exclusively or shared;
    waits for other holders up to HOMESTACK_LOCK_TIMEOUT seconds, then raises SiteBusy."""
    root = root.resolve()
    path = root / LOCK_FILE
    timeout = _timeout()
    with _taking:
        with _guard:
            mine = _held.get(path)
            if mine is not None:
                if mine.shared and not shared:
                    raise RuntimeError(f"{action}: the site lock is held shared, not exclusively")
                mine.depth += 1
        if mine is None:
            fd = _acquire(root, path, action, timeout, shared)
            with _guard:
                _held[path] = _Hold(fd, shared)
    try:
        yield
    finally:
        _leave(path, root)


def site_lock_if(
    needed: bool, root: Path, action: str, *, shared: bool = False
) -> contextlib.AbstractContextManager[None]:
    """site_lock when `needed` (not for a dry run, not for a backup that leaves its service
    running), else nothing."""
    return site_lock(root, action, shared=shared) if needed else contextlib.nullcontext()


def _leave(path: Path, root: Path) -> None:
    with _guard:
        mine = _held[path]
        mine.depth -= 1
        if mine.depth:
            return
        del _held[path]
    with contextlib.suppress(OSError):
        (root / HOLDERS / str(os.getpid())).unlink()
    fcntl.flock(mine.fd, fcntl.LOCK_UN)
    os.close(mine.fd)


def _acquire(root: Path, path: Path, action: str, timeout: float, shared: bool) -> int:
    with contextlib.suppress(OSError):  # the notes are only for messages
        (root / HOLDERS).mkdir(parents=True, exist_ok=True)
    try:
        # read-only is enough for flock: a site installed with sudo stays usable by its owner
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OperationFailed(
            f"cannot open the site lock {path}: {exc.strerror}",
            "Run homestack as the user who owns the site folder (or as root).",
        ) from None
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    deadline = time.monotonic() + timeout
    said = False
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            who = "; ".join(holders(root)) or "another homestack command"
            if time.monotonic() >= deadline:
                os.close(fd)
                raise SiteBusy(
                    f"the site is busy ({who}); `homestack {action}` waited {timeout:g} s",
                    "Wait for that command to finish, then run this again (or raise "
                    "HOMESTACK_LOCK_TIMEOUT). A command that died frees the site at once.",
                ) from None
            if not said:
                sys.stderr.write(f"waiting for the site: {who} …\n")
                sys.stderr.flush()
                said = True
            time.sleep(POLL_S)
    since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    note = f"pid {os.getpid()}, homestack {action}, since {since}\n"
    with contextlib.suppress(OSError):
        (root / HOLDERS / str(os.getpid())).write_text(note, encoding="utf-8")
    return fd
