"""One command at a time changes a site's containers: an flock on `.homestack/site.lock`.

`up`, `down`, `restart`, `install` and `restore` hold it for their whole run; `backup` holds it
for each service from the moment it stops (or pauses) the service until it has started it
again. Without it a nightly `backup --all` and a `homestack up` could race: `up` starting a
service that backup had stopped for a consistent copy, or backup starting a service that
`down` had just removed.

A second command waits for the first (saying once, on stderr, who holds the site) up to
HOMESTACK_LOCK_TIMEOUT seconds (default 900), then fails with exit 1 naming the holder. The
kernel drops an flock when its process dies, so a killed command never leaves the site
locked. The lock is re-entrant within one process (`install all` runs `up`, `restore` runs
the health wait of `up`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from .errors import BadInput, OperationFailed

LOCK_FILE = Path(".homestack") / "site.lock"
DEFAULT_TIMEOUT_S = 900.0
POLL_S = 0.2

_held: dict[Path, int] = {}  # lock file → depth, in this process
_guard = threading.Lock()


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


def holder(path: Path) -> str:
    """Who holds the lock, as its holder wrote it: `pid N, homestack up, since …`."""
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


@contextlib.contextmanager
def site_lock(root: Path, action: str) -> Iterator[None]:
    """Hold the site's lock for `action` (`up`, `backup jellyfin` …); waits for another
    holder up to HOMESTACK_LOCK_TIMEOUT seconds, then raises SiteBusy."""
    path = (root / LOCK_FILE).resolve()
    with _guard:
        if _held.get(path):
            _held[path] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                _held[path] -= 1
        return
    fd = _acquire(path, action, _timeout())
    with _guard:
        _held[path] = 1
    try:
        yield
    finally:
        with _guard:
            _held.pop(path, None)
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _acquire(path: Path, action: str, timeout: float) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OperationFailed(
            f"cannot open the site lock {path}: {exc.strerror}",
            "Run homestack as the user who owns the site folder (or as root).",
        ) from None
    deadline = time.monotonic() + timeout
    said = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            who = holder(path) or "another homestack command"
            if time.monotonic() >= deadline:
                os.close(fd)
                raise SiteBusy(
                    f"the site is busy: {who}; `homestack {action}` waited {timeout:g} s",
                    "Wait for that command to finish, then run this again (or raise "
                    "HOMESTACK_LOCK_TIMEOUT). A command that died frees the site at once.",
                ) from None
            if not said:
                sys.stderr.write(f"waiting for the site: {who} …\n")
                sys.stderr.flush()
                said = True
            time.sleep(POLL_S)
    since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()}, homestack {action}, since {since}\n".encode(), 0)
    return fd
