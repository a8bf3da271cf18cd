"""Generated config files: what one generator produces, and how it reaches the disk.

Every file lands under `DATA/config/{service}/` (Home Assistant's own data folder is the one
exception, see `homeassistant.py`). A file is written atomically (temp file in the same
folder, fsync, rename) and only when its content differs, so `up` run twice touches nothing.
Files marked `once` (a users database the user edits afterwards) are written only when absent.
"""

from __future__ import annotations

import contextlib
import os
import secrets as random
from dataclasses import dataclass
from pathlib import Path

from ..errors import OperationFailed


@dataclass(frozen=True)
class GeneratedFile:
    """One file a generator wants on disk."""

    service: str  # the service that mounts it
    path: Path  # absolute
    content: str
    mode: int = 0o644
    once: bool = False  # write only when absent: the user owns it afterwards


def state_of(wanted: GeneratedFile) -> str:
    """create, update, unchanged or kept (a `once` file that exists)."""
    try:
        have = wanted.path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return "create"
    except (OSError, UnicodeDecodeError):
        return "update"
    if wanted.once:
        return "kept"
    return "unchanged" if have == wanted.content else "update"


def write_atomic(wanted: GeneratedFile) -> None:
    """Replace `wanted.path` with its content in one rename; the folder's owner owns it."""
    folder = wanted.path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        owner = folder.stat()
        tmp = folder / f".{wanted.path.name}.{random.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                os.write(fd, wanted.content.encode("utf-8"))
                os.fsync(fd)
                if os.geteuid() == 0:  # the container's user owns DATA/config/{service}
                    os.fchown(fd, owner.st_uid, owner.st_gid)
                os.fchmod(fd, wanted.mode)
            finally:
                os.close(fd)
            tmp.replace(wanted.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    except OSError as exc:
        raise OperationFailed(
            f"cannot write generated config {wanted.path} for {wanted.service}: "
            f"{exc.strerror or exc}",
            "Check that DATA_ROOT is writable by the user running homestack "
            "(`homestack install data` creates the folders).",
            file=wanted.path,
            service=wanted.service,
        ) from None
