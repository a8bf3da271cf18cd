"""Generated config files: what one generator produces, and how it reaches the disk.

Every file lands under `DATA/config/{service}/` (Home Assistant's own data folder is the one
exception, see `homeassistant.py`). A file is written only when its content differs, so `up`
run twice touches nothing. Files marked `once` (a users database the user edits afterwards)
are written only when absent.

The files of one run are written as one change (`write_all`): each is first staged in a temp
file beside its target (fsynced), then all are renamed into place; if any step fails, the
targets already replaced get their previous file back (it was kept as a hard link) and the
new ones are removed, so the services never mount half of a new set. A run killed between
those steps leaves the `.tmp` and `.old` names behind; the next run's `recover` removes them
(or gives an `.old` whose file is gone its name back). A new secret a file
depends on (Authelia's admin password, hashed into its users file) is created just before
them (`create_secrets`) and removed again if they fail.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

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
    #: a homestack secret (under SECRETS_DIR): created with the run's files, never replacing
    #: one (see create_secrets)
    secret: bool = False


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


class _AnyTagLoader(yaml.SafeLoader):
    """Safe YAML that accepts application tags (Home Assistant's !secret, !include)."""


_AnyTagLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def check_all(files: Sequence[GeneratedFile]) -> None:
    """Every YAML and JSON file parses, before any is written: a renderer bug (or a value
    that breaks the syntax) must not reach a service that then refuses to start."""
    for wanted in files:
        suffix = wanted.path.suffix
        try:
            if suffix in (".yml", ".yaml"):
                yaml.load(wanted.content, Loader=_AnyTagLoader)  # noqa: S506 - safe subclass
            elif suffix == ".json" or wanted.path.name == "core.config_entries":
                json.loads(wanted.content)
        except (yaml.YAMLError, ValueError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise OperationFailed(
                f"generated config {wanted.path} for {wanted.service} would not parse "
                f"({detail}); nothing was written",
                "Check the values it is made from (.env, the x-homestack blocks: a quote or "
                "a colon in a title?); `homestack generate --dry-run` shows the same check.",
                file=wanted.path,
                service=wanted.service,
            ) from None


def create_secrets(files: Sequence[GeneratedFile]) -> list[Path]:
    """Create these new secret files (0600, never replacing one: a secret that appeared
    since it was planned fails the run, OperationFailed); what was made, folders included,
    deepest last, for `remove_made` when a later step fails."""
    from ..deploy.secrets import write_new

    made: list[Path] = []
    try:
        for wanted in files:
            folders = _new_folders(wanted.path.parent)
            wanted.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            made += reversed(folders)
            write_new(wanted.path, wanted.content, wanted.mode, None, None)
            made.append(wanted.path)
    except BaseException:
        remove_made(made)
        raise
    return made


def remove_made(made: Sequence[Path]) -> None:
    """Take back what create_secrets made (files, then the folders made for them)."""
    for path in reversed(made):
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                path.rmdir()  # only when empty
            else:
                path.unlink()


_HINT = (
    "Check that DATA_ROOT is writable by the user running homestack and has free space "
    "(`homestack install data` creates the folders), then run it again."
)


def _failed(wanted: GeneratedFile, exc: OSError, note: str) -> OperationFailed:
    return OperationFailed(
        f"cannot write generated config {wanted.path} for {wanted.service}: "
        f"{exc.strerror or exc}; {note}",
        _HINT,
        file=wanted.path,
        service=wanted.service,
    )


def _new_folders(folder: Path) -> list[Path]:
    """The folders `folder.mkdir(parents=True)` would create, deepest first."""
    missing: list[Path] = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _side_name(name: str, kind: str) -> str:
    """`.NAME.PID.HEX.tmp|old`: a staged copy or the second name of a file being replaced;
    the pid tells a later run whether the run that made it is still alive."""
    return f".{name}.{os.getpid()}.{os.urandom(4).hex()}.{kind}"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this run writes nothing while it recovers
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def recover(files: Sequence[GeneratedFile]) -> bool:
    """Clean up what a run killed between the steps of write_all left beside these files:
    `.tmp` copies are removed, and an `.old` second name too while its file is there (that
    file is the current one; this run rewrites the set anyway); an `.old` whose file is gone
    is given the file's name again (the newest, when several), so nothing the user had is
    lost. Names without a pid (older versions) count as left by a dead run; those of a run
    still alive are not touched. True when a file was put back (plan again)."""
    put_back = False
    by_folder: dict[Path, set[str]] = {}
    for wanted in files:
        by_folder.setdefault(wanted.path.parent, set()).add(wanted.path.name)
    for folder, names in by_folder.items():
        try:
            entries = sorted(
                (p for p in folder.iterdir() if p.name.startswith(".")),
                key=lambda p: p.lstat().st_mtime_ns,
                reverse=True,  # the newest .old first
            )
        except OSError:
            continue  # no folder yet (nothing to recover) or unreadable: write_all says
        for entry in entries:
            for name in names:
                match = _leftover(name).match(entry.name)
                if match is None or (match["pid"] and _alive(int(match["pid"]))):
                    continue
                target = folder / name
                with contextlib.suppress(OSError):
                    if match["kind"] == "old" and not os.path.lexists(target):
                        os.link(entry, target, follow_symlinks=False)  # never over a file
                        put_back = True
                    entry.unlink()
                break
    return put_back


@functools.cache
def _leftover(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"^\.{re.escape(name)}\.(?:(?P<pid>\d+)\.)?[0-9a-f]{{8}}\.(?P<kind>tmp|old)$"
    )


class _Folders:
    """The target folders of one run, each held open as a file descriptor reached from the
    anchor (DATA_ROOT) without following a symlink (fsutil.open_folder_below): the
    container owns DATA/config/{service} and Home Assistant's .storage, and a link it
    planted there (`.storage -> /etc`) must not turn a root write into one elsewhere.
    Folders outside the anchor (none today) are used by path."""

    def __init__(self, anchor: Path | None) -> None:
        self.anchor = anchor
        self.fds: dict[Path, int] = {}

    def target(self, path: Path) -> Path:
        """`path`, with its folder replaced by the held-open one (created when missing)."""
        folder = path.parent
        if self.anchor is None or not folder.is_relative_to(self.anchor):
            folder.mkdir(parents=True, exist_ok=True)
            return path
        if folder not in self.fds:
            self.anchor.mkdir(parents=True, exist_ok=True)
            self.fds[folder] = fsutil.open_folder_below(self.anchor, folder, create=True)
        return fsutil.fd_path(self.fds[folder]) / path.name

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()


def _stage(wanted: GeneratedFile, target: Path) -> Path:
    """The content in a temp file beside `target` (the file's held-open name; its mode
    and owner set, fsynced)."""
    folder = target.parent
    info = folder.stat()
    # the container's user owns DATA/config/{service}; the file follows the folder
    owner = (info.st_uid, info.st_gid) if os.geteuid() == 0 else None
    tmp = folder / _side_name(wanted.path.name, "tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        view = memoryview(wanted.content.encode("utf-8"))
        while view:
            view = view[os.write(fd, view) :]
        if owner is not None:
            os.fchown(fd, *owner)
        os.fchmod(fd, wanted.mode)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp


def _keep_old(path: Path) -> Path | None:
    """A second name for the file about to be replaced (None: there is none to keep). A
    symbolic link the user put there is kept as the link, not as the file it points to."""
    backup = path.with_name(_side_name(path.name, "old"))
    if path.is_symlink():
        try:
            os.link(path, backup, follow_symlinks=False)  # the link itself
        except OSError:
            backup.symlink_to(path.readlink())
        return backup
    if not path.is_file():
        return None
    try:
        os.link(path, backup)  # the same inode: content, mode and owner as they were
    except OSError:
        shutil.copy2(path, backup)  # a file system without hard links
        info = path.stat()
        if os.geteuid() == 0:
            os.chown(backup, info.st_uid, info.st_gid)
    return backup


def _put_back(replaced: list[tuple[Path, Path | None]]) -> list[str]:
    """Undo the renames done so far, newest first; the paths that could not be undone."""
    stuck: list[str] = []
    for path, backup in reversed(replaced):
        try:
            if backup is None:
                path.unlink(missing_ok=True)  # it did not exist before this run
            else:
                backup.replace(path)
        except OSError:
            stuck.append(str(path))
    return stuck


def write_all(files: Sequence[GeneratedFile], anchor: Path | None = None) -> None:
    """Write these files as one change: all of them, or (on any error) none of them.
    Below `anchor` (DATA_ROOT) no symlink is followed (see _Folders)."""
    folders = _Folders(anchor)
    try:
        _write_all(files, folders)
    finally:
        folders.close()


def _write_all(files: Sequence[GeneratedFile], folders: _Folders) -> None:
    staged: list[tuple[GeneratedFile, Path, Path]] = []
    replaced: list[tuple[Path, Path | None]] = []
    made: list[Path] = []  # folders this run created, deepest first
    current: GeneratedFile | None = None
    try:
        for current in files:
            made[:0] = _new_folders(current.path.parent)
            target = folders.target(current.path)  # creates them
            staged.append((current, _stage(current, target), target))
        for current, tmp, target in staged:  # noqa: B007 - the error names `current`
            backup = _keep_old(target)
            try:
                tmp.replace(target)
            except BaseException:
                if backup is not None:
                    backup.unlink(missing_ok=True)
                raise
            replaced.append((target, backup))
    except BaseException as exc:
        stuck = _put_back(replaced)
        for _, tmp, _target in staged:
            tmp.unlink(missing_ok=True)
        for folder in made:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: a file put there since stays
        if not isinstance(exc, OSError) or current is None:
            raise
        if stuck:
            note = "these files could not be put back and hold the new content: " + ", ".join(stuck)
        elif replaced:
            note = (
                f"nothing was changed (the {len(replaced)} file(s) already replaced were put back)"
            )
        else:
            note = "nothing was changed"
        raise _failed(current, exc, note) from None
    for folder in dict.fromkeys(path.parent for path, _ in replaced):
        fsutil.fsync_dir(folder)  # (a held-open folder's /proc name: the same folder)
    for _, backup in replaced:
        if backup is not None:
            backup.unlink(missing_ok=True)
