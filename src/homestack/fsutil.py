"""Files and folders: one way to read a text file (with the fix when it cannot be), one way
to replace a file so a crash leaves the old content or the new, never a mix, and the hand-over
of what root makes in a user's site to that user. It imports nothing of homestack but errors,
so every module may use it (yamlio, settings and sitelock do)."""

from __future__ import annotations

import contextlib
import errno
import os
import shlex
import shutil
from pathlib import Path

from .errors import BadInput, HomestackError


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(
    path: Path,
    data: str | bytes,
    *,
    mode: int = 0o644,
    owner: tuple[int, int] | None = None,
    durable: bool = True,
) -> None:
    """Write `data` to a temporary file beside `path` (never readable by others while it is
    written), give it `mode` and `owner`, then rename it over `path`. With `durable`, the
    file and the rename are fsynced."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            if owner is not None:
                os.fchown(fd, *owner)
            os.fchmod(fd, mode)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def open_folder_below(anchor: Path, folder: Path, *, create: bool = False) -> int:
    """A file descriptor of `folder`, reached from `anchor` one component at a time without
    following a symlink below `anchor` (O_NOFOLLOW): a folder a container can write may hold
    a link planted to send a root write elsewhere on the host. With `create`, missing
    folders are made (0755). Raises OSError (ELOOP, naming the link) on a symlink."""
    relative = folder.relative_to(anchor)
    if ".." in relative.parts:
        raise ValueError(f"{folder} climbs out of {anchor}")
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
    fd = os.open(anchor, flags)
    here = anchor
    try:
        for part in relative.parts:
            here = here / part
            try:
                below = os.open(part, flags | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(part, 0o755, dir_fd=fd)
                below = os.open(part, flags | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) and here.is_symlink():
                    raise OSError(
                        errno.ELOOP,
                        "is a symlink; homestack never follows one inside a folder a "
                        "container can write (move it away)",
                        str(here),
                    ) from None
                raise
            os.close(fd)
            fd = below
    except BaseException:
        os.close(fd)
        raise
    return fd


def fd_path(fd: int) -> Path:
    """A path naming the folder `fd` holds open: names below it are resolved from that
    very folder (Linux /proc), never by walking its path again."""
    return Path(f"/proc/self/fd/{fd}")


def read_text(path: Path, *, newline: str | None = None) -> str:
    """A file's UTF-8 text; BadInput with the fix when it cannot be read (a missing file
    raises FileNotFoundError: callers tell what it should contain). `newline` as for open():
    "" keeps every CR (env files: Compose keeps a CR inside quotes)."""
    try:
        with path.open(encoding="utf-8", newline=newline) as file:
            text = file.read()
        # a BOM (Windows editors write one) is dropped, as Compose and YAML parsers do
        return text.removeprefix("\ufeff")
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise BadInput(
            f"{path}: is a folder, not a file",
            f"Replace the folder with the file {path.name} (move the folder away).",
            file=path,
        ) from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise BadInput(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} on line {line})",
            "Save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8`).",
            file=path,
            line=line,
        ) from None
    except OSError as exc:
        hint = "Make it readable by this user (check its owner and mode)."
        if exc.errno == errno.ELOOP:  # a link to itself, or round a chain of links
            shown = shlex.quote(str(path))
            hint = f"Replace the symbolic link with the file itself (`ls -l {shown}` shows it)."
        raise BadInput(f"{path}: cannot read: {exc.strerror}", hint, file=path) from None


def site_owner(root: Path) -> tuple[int, int] | None:
    """Root working in someone's site (sudo): that user, who must keep using what root makes
    under .homestack/ (lock, notes); None otherwise."""
    if os.geteuid() != 0:
        return None
    try:
        info = root.stat()
    except OSError:
        return None
    return (info.st_uid, info.st_gid) if info.st_uid != 0 else None


def hand_to_site_owner(root: Path, *paths: Path) -> None:
    """Root working in a user's site: give `paths` (the state folder, the parse cache, a
    lock) to the site folder's owner, so their own next command can open, replace and lock
    them; "Permission denied" on a `.homestack` that a `sudo` run made is what they got.
    Best effort (a path another process removed meanwhile is simply left)."""
    owner = site_owner(root)
    if owner is None:
        return
    for path in paths:
        with contextlib.suppress(OSError):
            info = path.lstat()
            if (info.st_uid, info.st_gid) != owner:
                os.chown(path, *owner, follow_symlinks=False)


def require_command(name: str, missing: HomestackError) -> str:
    """The path of the program `name` on PATH; `missing` (saying how to install it) is
    raised when there is none."""
    found = shutil.which(name)
    if not found:
        raise missing
    return found
