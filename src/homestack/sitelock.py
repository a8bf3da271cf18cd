"""One command at a time changes a site's containers: an flock on `.homestack/site.lock`.

`up`, `down`, `restart`, `install` and `restore` hold it exclusively for their whole run;
`backup` holds it shared, per service, while it stops, pauses or dumps that service and
starts it again: backups of different services may run side by side (each service has its
own backup lock), but not beside a command that deploys. Without it a nightly
`backup --all` and a `homestack up` could race: `up` starting a service that backup had
stopped for a consistent copy, or backup starting one that `down` had just removed.

Each holder leaves a note naming its command as typed (`pid 4242, homestack restart media,
since …`: the CLI's Context carries the command line). A command that finds the site
busy says once (a LockWaiting event to its Context's sink) who holds it, and waits up to
HOMESTACK_LOCK_TIMEOUT seconds (default 900; 0: do not wait), then fails with exit 1 naming
the holder. The kernel drops an flock when its process dies, so a killed command never
leaves the site locked. The lock is re-entrant within one process (`install all` runs `up`).

Two checkouts with one HOMESTACK_PREFIX share Compose projects, networks and volumes, but
not their site folders: each hold therefore also takes a second flock keyed by the prefix,
always after the site's own (one order, so two commands never wait for each other in a
circle). It lives in one folder every user of the machine shares, so `sudo homestack up`
and its owner's `homestack backup` exclude each other: `/run/lock` (FHS, world-writable
and sticky on Debian and Ubuntu), else `/tmp` where /run/lock is not writable for
everyone, or HOMESTACK_LOCK_DIR. Per-user folders (XDG_RUNTIME_DIR, /tmp/homestack-UID)
would give root and the owner two different locks for one engine. Its lock file is
readable by all (flock needs no write access) and each holder leaves a note there naming
its site folder, which a command that has to wait prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shlex
import stat
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BadInput, OperationFailed
from .fsutil import hand_to_site_owner

if TYPE_CHECKING:
    from .events import LockWaiting

LOCK_FILE = Path(".homestack") / "site.lock"
HOLDERS = Path(".homestack") / "site.holders"  # one file per holding process: who and since
# machine-wide; the first one every user may write. Files there are opened with O_NOFOLLOW
# (and O_EXCL when made), so a planted symlink or file cannot redirect them.
SHARED_LOCK_DIRS = (Path("/run/lock"), Path("/tmp"))  # noqa: S108
DEFAULT_TIMEOUT_S = 900.0
POLL_S = 0.2


@dataclass
class _Hold:
    """This process's hold on one lock file."""

    fd: int
    shared: bool
    depth: int = 1


@dataclass(frozen=True)
class _Spot:
    """One lock a site's hold takes: its file, the folder of its holders' notes, and how
    a note is named there and what waiting for it is called."""

    lock: Path
    notes: Path
    note_prefix: str  # note files are {note_prefix}{pid}
    what: str  # "the site", "HOMESTACK_PREFIX=x (shared with another site folder)"
    site: Path

    @property
    def own_site(self) -> bool:
        """The site's own lock (in SITE/.homestack), not the machine-wide prefix lock."""
        return not self.note_prefix


_held: dict[Path, _Hold] = {}  # lock file → this process's hold
_guard = threading.Lock()
# one thread at a time takes a new hold: threads asking at once (`backup --all --jobs N`)
# would each take an flock, and the second hold would replace the first
_taking = threading.Lock()


class SiteBusy(OperationFailed):
    """Another homestack command is changing this site's containers."""


def command_words(argv: Sequence[str]) -> tuple[str, ...] | None:
    """The command line as a holder note and a wait name it: argv without the global
    options (--site X, --debug); None when nothing is left."""
    words: list[str] = []
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "--site":
            skip = True
        elif word != "--debug" and not word.startswith("--site="):
            words.append(word)
    return tuple(words) or None


def described(action: str, command: Sequence[str] | None = None) -> str:
    """`action` (`up`, `install all`, `backup jellyfin`) as the user typed it when the
    `command` line (Context.command: the CLI's words) starts with it (`up media
    --stand-in`); else `action` itself (`backup --all` holds the site per service: `backup
    jellyfin` says more)."""
    words = list(command or ())
    head = action.split()
    if words and words[: len(head)] == head:
        return shlex.join(words)
    return action


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
    return _notes(_site_spot(root.resolve()))


def _notes(spot: _Spot) -> list[str]:
    found = []
    folder = spot.notes
    entries = sorted(folder.glob(f"{spot.note_prefix}*")) if folder.is_dir() else []
    for entry in entries:
        pid = entry.name[len(spot.note_prefix) :]
        if not pid.isdigit() or not _alive(int(pid)):
            with contextlib.suppress(OSError):
                entry.unlink()  # a holder killed -9 left its note; its flock is long gone
            continue
        with contextlib.suppress(OSError):
            found.append(entry.read_text(encoding="utf-8", errors="replace").strip())
    return [text for text in found if text]


def prefix_of(root: Path) -> str:
    """The site's HOMESTACK_PREFIX as Site reads it: the process environment, else the
    root settings layer (.env, else .env.example)."""
    if "HOMESTACK_PREFIX" in os.environ:
        return os.environ["HOMESTACK_PREFIX"]
    from .settings import layer_file, merge_layers, read_env

    layer = layer_file(root)
    # merged as Site.root_env merges it (`${VAR}` expanded), so a command that passes
    # site.prefix and one that has no Site loaded take one lock
    return merge_layers([read_env(layer) if layer else None]).get("HOMESTACK_PREFIX", "")


def shared_lock_dir() -> Path:
    """The folder of the prefix locks: HOMESTACK_LOCK_DIR, else the first of /run/lock and
    /tmp that every user may write (world-writable and sticky), so the choice is the same
    for root and for the site's owner."""
    chosen = os.environ.get("HOMESTACK_LOCK_DIR", "")
    if chosen:
        return Path(chosen)
    for candidate in SHARED_LOCK_DIRS:
        try:
            mode = candidate.stat().st_mode
        except OSError:
            continue
        if stat.S_ISDIR(mode) and mode & (stat.S_IWOTH | stat.S_ISVTX) == (
            stat.S_IWOTH | stat.S_ISVTX
        ):
            return candidate
    raise OperationFailed(
        "no folder every user may write for homestack's prefix lock (/run/lock, /tmp)",
        "Set HOMESTACK_LOCK_DIR to a folder every user who runs homestack can write.",
    )


def _prefix_key(prefix: str) -> str:
    if not prefix:
        return "homestack-prefix"
    if re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", prefix):
        return f"homestack-prefix-{prefix}"
    return f"homestack-prefix-{hashlib.sha256(prefix.encode()).hexdigest()[:16]}"


def _site_spot(root: Path) -> _Spot:
    return _Spot(root / LOCK_FILE, root / HOLDERS, "", "the site", root)


def _prefix_spot(root: Path, prefix: str | None = None) -> _Spot:
    prefix = prefix_of(root) if prefix is None else prefix
    key = _prefix_key(prefix)
    folder = shared_lock_dir()
    shown = f"HOMESTACK_PREFIX={prefix}" if prefix else "the empty HOMESTACK_PREFIX"
    return _Spot(
        folder / f"{key}.lock",
        folder,
        f"{key}.holder.",
        f"{shown} (its Compose projects, networks and volumes; also used by another site folder)",
        root,
    )


@contextlib.contextmanager
def site_lock(
    root: Path,
    action: str,
    *,
    shared: bool = False,
    prefix: str | None = None,
    command: Sequence[str] | None = None,
    waiting: Callable[[LockWaiting], None] | None = None,
) -> Iterator[None]:
    """Hold the site's lock for `action` (`up`, `backup jellyfin` …), exclusively or shared,
    and then its prefix's; waits for other holders up to HOMESTACK_LOCK_TIMEOUT seconds,
    then raises SiteBusy. `prefix`: the site's HOMESTACK_PREFIX where the caller has the
    Site loaded (`site.prefix`, read the same way); else prefix_of reads it. `command`: the
    command line as typed (notes and messages name it, see described); `waiting` hears
    once per lock that this call waits for another holder (Context.lock sends it to the
    context's event sink). Operations take it through their Context: `ctx.lock.hold(…)`."""
    root = root.resolve()
    timeout = _timeout()
    deadline = time.monotonic() + timeout
    taken: list[_Spot] = []
    asked = _Ask(action, command, waiting)
    try:
        for spot in (_site_spot(root), _prefix_spot(root, prefix)):  # always in this order
            _enter(spot, asked, timeout, deadline, shared)
            taken.append(spot)
        yield
    finally:
        for spot in reversed(taken):
            _leave(spot)


@dataclass(frozen=True)
class _Ask:
    """Who asks for a lock: the action, the command line as typed, and who hears of a wait."""

    action: str
    command: Sequence[str] | None
    waiting: Callable[[LockWaiting], None] | None

    def described(self) -> str:
        return described(self.action, self.command)


def _enter(spot: _Spot, asked: _Ask, timeout: float, deadline: float, shared: bool) -> None:
    with _taking:
        with _guard:
            mine = _held.get(spot.lock)
            if mine is not None:
                if mine.shared and not shared:
                    raise RuntimeError(
                        f"{asked.action}: {spot.lock} is held shared, not exclusively"
                    )
                mine.depth += 1
        if mine is None:
            fd = _acquire(spot, asked, timeout, deadline, shared)
            with _guard:
                _held[spot.lock] = _Hold(fd, shared)


def _leave(spot: _Spot) -> None:
    with _guard:
        mine = _held[spot.lock]
        mine.depth -= 1
        if mine.depth:
            return
        del _held[spot.lock]
    with contextlib.suppress(OSError):
        (spot.notes / f"{spot.note_prefix}{os.getpid()}").unlink()
    fcntl.flock(mine.fd, fcntl.LOCK_UN)
    os.close(mine.fd)


def _denied_hint(root: Path) -> str:
    """The fix for a lock homestack may not open: the real cause when it is a `.homestack`
    that another user (a `sudo` run) owns, in a site folder this user owns."""
    state = root / LOCK_FILE.parent
    try:
        state_uid, site_uid = state.stat().st_uid, root.stat().st_uid
    except OSError:
        state_uid = site_uid = -1
    me = os.geteuid()
    if state_uid not in (-1, me) and site_uid == me:
        try:
            import pwd

            who = pwd.getpwuid(state_uid).pw_name
        except (ImportError, KeyError):
            who = f"uid {state_uid}"
        return (
            f"{state} belongs to {who} (a homestack command run with sudo or as {who}), "
            f"though you own the site folder: `sudo chown -R $USER {state}`. Newer homestack "
            "gives it to the site's owner itself."
        )
    return "Run homestack as the user who owns the site folder (or as root)."


def _open_lock(path: Path) -> int:
    """Open (creating it readable by all) a lock file; never through a symlink, and without
    O_CREAT on a file that exists (protected_regular refuses that to root in /tmp)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW
    try:
        return os.open(path, flags)
    except FileNotFoundError:
        pass
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return os.open(path, flags)  # another process made it meanwhile
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o644)  # whatever the umask: every user opens it to flock
    return fd


def _acquire(spot: _Spot, asked: _Ask, timeout: float, deadline: float, shared: bool) -> int:
    with contextlib.suppress(OSError):  # the notes are only for messages
        spot.notes.mkdir(parents=True, exist_ok=True)
    try:
        # read-only is enough for flock: a site installed with sudo stays usable by its owner
        fd = _open_lock(spot.lock)
    except OSError as exc:
        raise OperationFailed(
            f"cannot open the lock {spot.lock} of {spot.what}: {exc.strerror}",
            _denied_hint(spot.site)
            if spot.own_site and isinstance(exc, PermissionError)
            else "Run homestack as the user who owns the site folder (or as root).",
        ) from None
    if spot.own_site:  # root in a user's site: .homestack stays theirs (also one made earlier)
        hand_to_site_owner(spot.site, spot.notes.parent, spot.notes, spot.lock)
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    said = False
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            who = "; ".join(_notes(spot)) or "another homestack command"
            if time.monotonic() >= deadline:
                os.close(fd)
                raise SiteBusy(
                    f"{spot.what} is busy ({who}); `homestack {asked.described()}` waited "
                    f"{timeout:g} s",
                    "Wait for that command to finish, then run this again (or raise "
                    "HOMESTACK_LOCK_TIMEOUT). A command that died frees it at once."
                    + (
                        " Two checkouts with one HOMESTACK_PREFIX act on the same containers:"
                        " give each its own prefix in its .env."
                        if not spot.own_site
                        else ""
                    ),
                ) from None
            if not said:
                if asked.waiting is not None:
                    from .events import LockWaiting  # only when it waits: `ls` stays light

                    asked.waiting(LockWaiting(spot.what, who))
                said = True
            time.sleep(POLL_S)
    if not shared:  # holding it alone: every other note is a dead holder's (killed -9)
        _notes(spot)  # (which removes the notes of processes that are gone)
    since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    note = f"pid {os.getpid()}, homestack {asked.described()}, since {since}"
    if not spot.own_site:  # a prefix lock: say which site folder holds it
        note += f", site folder {spot.site}"
    with contextlib.suppress(OSError):
        path = spot.notes / f"{spot.note_prefix}{os.getpid()}"
        path.unlink(missing_ok=True)  # a note of a dead process whose pid came back
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        os.fchmod(descriptor, 0o644)  # whatever the umask: every waiter reads it
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(note + "\n")
    return fd
