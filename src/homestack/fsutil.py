"""One way to replace a file so a crash leaves the old content or the new, never a mix."""

from __future__ import annotations

import errno
import os
from pathlib import Path


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
