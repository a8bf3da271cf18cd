"""The site's two folders from .env, DATA_ROOT and SECRETS_DIR, checked before anything is
written into them: a file in their place, a path whose parent does not exist (a typo, an
unmounted disk) or a folder this user cannot enter is one error naming the setting and the
fix, not a traceback halfway through `up` or `install`."""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path

from ..catalog import Site
from ..errors import BadInput
from ..settings import layer_file


def settings_file(site: Site) -> Path:
    """The file the root settings come from (.env, else .env.example)."""
    return layer_file(site.root) or site.root / ".env"


def check_folder(site: Site, path: Path, setting: str) -> None:
    """BadInput unless `path` is a folder this user can read, or can be made with one mkdir
    (its parent exists: homestack makes the folder, never a chain of missing ones)."""
    env = settings_file(site)
    try:
        info = path.stat()
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise BadInput(
                f"{setting} {path} does not exist, and neither does {path.parent}",
                f"Fix {setting} in {env} (a typo, or a disk that is not mounted?), or create "
                f"the folder first: `mkdir -p {shlex.quote(str(path))}`.",
                file=env,
            ) from None
        return
    except OSError as exc:  # a file on the way (ENOTDIR), a loop, no search permission
        raise folder_error(site, path, setting, exc) from None
    if not stat.S_ISDIR(info.st_mode):
        raise BadInput(
            f"{setting} {path} is a file, not a folder",
            f"Point {setting} in {env} at a folder, or move {path} away.",
            file=env,
        )
    if not os.access(path, os.R_OK | os.X_OK):
        raise folder_error(site, path, setting, PermissionError(13, "Permission denied"))


def folder_error(site: Site, path: Path, setting: str, exc: OSError) -> BadInput:
    """The one-screen error for an OSError met under DATA_ROOT or SECRETS_DIR."""
    where = Path(exc.filename) if exc.filename else path
    reason = exc.strerror or str(exc)
    if isinstance(exc, PermissionError):
        fix = (
            f"Run homestack as the user who owns {where} (or as root), or give this user "
            f"access (`ls -ld {shlex.quote(str(where))}` shows owner and mode)."
        )
    else:
        fix = f"Check {setting} in {settings_file(site)}: it must name a folder you can use."
    return BadInput(f"{setting} {path}: cannot use {where}: {reason}", fix, file=where)
