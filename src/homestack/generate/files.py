"""Generated config files: what one generator produces, and how it reaches the disk.

Every file lands under `DATA/config/{service}/` (Home Assistant's own data folder is the one
exception, see `homeassistant.py`). A file is written atomically (temp file in the same
folder, fsync, rename) and only when its content differs, so `up` run twice touches nothing.
Files marked `once` (a users database the user edits afterwards) are written only when absent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .. import fsutil
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
        info = folder.stat()
        # the container's user owns DATA/config/{service}; the file follows the folder
        owner = (info.st_uid, info.st_gid) if os.geteuid() == 0 else None
        fsutil.write_atomic(wanted.path, wanted.content, mode=wanted.mode, owner=owner)
    except OSError as exc:
        raise OperationFailed(
            f"cannot write generated config {wanted.path} for {wanted.service}: "
            f"{exc.strerror or exc}",
            "Check that DATA_ROOT is writable by the user running homestack "
            "(`homestack install data` creates the folders).",
            file=wanted.path,
            service=wanted.service,
        ) from None
