"""`homestack install secrets` and `homestack secrets ls`.

Each secret a service declares in `x-homestack` is a file `SECRETS_DIR/{service}_{name}`,
generated once with Python's `secrets` module and never rewritten. The folder is 0700; a
file is 0600, or 0440 owned by the container's uid/gid when the metadata names one (Compose
without Swarm ignores a secret's `uid`/`mode`, so the file itself must carry them). A value
is never printed, put in an environment or on a command line: this module reads a secret
file's metadata only, and writes new values straight from memory into the file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets as random
import shlex
import stat
import string
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..catalog import Service, Site
from ..errors import BadInput, OperationFailed
from ..models import SecretSpec
from ..modes import PRIVATE_FOLDER_MODE, PRIVATE_MODE, SHARED_MODE
from ..resolved import Resolved
from ..serial import Serialised, entry
from .data import has_data
from .folders import check_folder, folder_error
from .report import StepReport

ALPHABETS = {
    "alnum": string.ascii_letters + string.digits,
    "hex": "0123456789abcdef",
    "urlsafe": string.ascii_letters + string.digits + "-_",
    "ascii": string.ascii_letters + string.digits + string.punctuation,
}


@dataclass(frozen=True)
class Wanted:
    """One secret a service declares, and how its file must look."""

    service: str
    spec: SecretSpec
    path: Path
    uid: int | None
    gid: int | None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def mode(self) -> int:
        return SHARED_MODE if self.uid is not None or self.gid is not None else PRIVATE_MODE


@dataclass(frozen=True)
class SecretChange:
    name: str
    service: str
    action: str  # create, unchanged, fix-mode, fix-owner
    mode: str
    owner: str
    path: str
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class SecretsReport(StepReport):
    fixed: list[str] = field(default_factory=list)
    changes: list[SecretChange] = field(default_factory=list, metadata=entry(key="secrets"))
    folder: str = ""
    # SECRETS_DIR created or tightened to 0700 (in `changed`, not in the data)
    folder_changed: bool = field(default=False, metadata=entry(omit=True))

    DATA_ORDER = ("folder", "created", "unchanged", "fixed", "changed", "dry_run", "secrets")

    @property
    def changed(self) -> bool:
        return bool(self.created or self.fixed or self.folder_changed)


def generate(spec: SecretSpec) -> str:
    alphabet = ALPHABETS[spec.alphabet]
    return spec.prefix + "".join(random.choice(alphabet) for _ in range(spec.length))


def wanted_secrets(
    site: Site, services: list[Service], resolved: Resolved | None = None
) -> list[Wanted]:
    out: list[Wanted] = []
    for service in services:
        meta = service.meta
        # a secret is readable by the user the container runs as (spec, else the service's);
        # refuses ids chown cannot use
        runs_as = resolved.of(service).user if resolved else site.container_user(service)
        for spec in meta.secrets if meta else []:
            uid = spec.uid if spec.uid is not None else (runs_as[0] if runs_as else None)
            gid = spec.gid if spec.gid is not None else (runs_as[1] if runs_as else None)
            if uid is not None and gid is None:
                gid = uid
            if gid is not None and uid is None:
                uid = os.geteuid()
            out.append(
                Wanted(service.id, spec, site.secrets_dir / f"{service.id}_{spec.name}", uid, gid)
            )
    return out


def check_file(path: Path, folder: Path) -> str | None:
    """What is wrong with an existing secret file (None: nothing)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        try:
            target = path.resolve(strict=True)
        except FileNotFoundError:
            target = path.resolve()
        except (RuntimeError, OSError):  # a loop (RuntimeError before Python 3.13)
            return "is a symlink that loops (it never reaches a file)"
        if not target.is_relative_to(folder.resolve()):
            return f"is a symlink pointing out of {folder} (to {target})"
        if not target.exists():
            return f"is a dangling symlink (to {target})"
        info = target.stat()
    if stat.S_ISDIR(info.st_mode):
        return "is a directory, not a file"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    if info.st_size == 0:
        return "is empty"
    if info.st_mode & stat.S_IROTH or info.st_mode & stat.S_IWOTH:
        return f"is world-accessible (mode {stat.S_IMODE(info.st_mode):04o})"
    if info.st_mode & stat.S_IWGRP:
        return f"is group-writable (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def acceptable_mode(have: int, want: int) -> bool:
    """The file's mode grants nothing beyond `want` and the owner can read: a mode
    stricter than homestack's (0400 for 0600) is the user's choice, kept as is."""
    return have & ~want == 0 and bool(have & stat.S_IRUSR)


def problem_fix(path: Path, problem: str, mode: int = PRIVATE_MODE) -> str:
    """The one fix for a secret file's problem, as `up`/`install` and `doctor` say it (they
    told a secret with its own mode `chmod 600` in one and `chmod 440` in the other)."""
    if "directory" in problem or "symlink" in problem or "not a regular" in problem:
        return f"Move {path} away; `homestack install secrets` then generates a new file."
    if "empty" in problem:
        return f"Delete {path} (the service cannot use it); the next install generates it."
    shown = shlex.quote(str(path))
    return f"Run `chmod {mode:o} {shown}`, and change that secret if others could read it."


def _problem(path: Path, problem: str, mode: int = PRIVATE_MODE) -> BadInput:
    return BadInput(f"secret file {path} {problem}", problem_fix(path, problem, mode), file=path)


def _owner(info: os.stat_result) -> str:
    return f"{info.st_uid}:{info.st_gid}"


@contextlib.contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def write_new(path: Path, value: str, mode: int, uid: int | None, gid: int | None) -> None:
    """Write a new secret file atomically; never replaces an existing one."""
    tmp = path.with_name(f".{path.name}.{random.token_hex(4)}.tmp")
    try:
        with _umask(0o077):
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, value.encode("utf-8"))
            os.fsync(fd)
            if uid is not None or gid is not None:
                os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        _publish(tmp, path)
    except FileExistsError:
        raise OperationFailed(
            f"secret file {path} appeared while homestack was writing it",
            "Another homestack may be running; run the command again.",
            file=path,
        ) from None
    except OSError as exc:
        raise OperationFailed(
            f"cannot write secret file {path}: {exc.strerror or exc}",
            "Check that SECRETS_DIR is writable by the user running homestack.",
            file=path,
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(path.parent)


def _publish(tmp: Path, path: Path) -> None:
    """Give the finished temp file its name. A hard link fails when the name exists, so a
    secret is never replaced; where links are not supported, rename after a check."""
    try:
        os.link(tmp, path)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        if path.exists() or path.is_symlink():
            raise FileExistsError(str(path)) from None
        tmp.rename(path)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _ensure_folder(folder: Path, dry_run: bool, notes: list[str]) -> bool:
    """Create SECRETS_DIR 0700 or tighten it; True when something changed."""
    if folder.exists() and not folder.is_dir():  # a symlink to a folder is fine
        raise BadInput(
            f"SECRETS_DIR {folder} is not a folder",
            "Point SECRETS_DIR in .env at a folder, or move the file away.",
            file=folder,
        )
    if not folder.exists():
        notes.append(f"create folder {folder} (mode 0700)")
        if not dry_run:
            with _umask(0o077):
                folder.mkdir(mode=PRIVATE_FOLDER_MODE)  # its parent exists: check_folder said so
            folder.chmod(PRIVATE_FOLDER_MODE)
        return True
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode != PRIVATE_FOLDER_MODE:
        notes.append(f"tighten folder {folder} from {mode:04o} to 0700")
        if not dry_run:
            folder.chmod(PRIVATE_FOLDER_MODE)
        return True
    return False


def _new_value_note(site: Site, item: Wanted, dry_run: bool) -> list[str]:
    """A secret made anew for a service whose DATA folder already holds data: that data was
    made with the old value (Authelia's storage key, Grafana's admin password), so say how
    to get the old one back."""
    if not has_data(site, item.service):
        return []
    return [
        f"{item.name}: {'would make' if dry_run else 'made'} a NEW value, but "
        f"{site.data_root / item.service} already holds data made with the old one; if "
        f"{item.service} refuses it, put back your copy of {item.path} or run `homestack "
        f"restore {item.service}` (its backups hold its secrets), then `homestack restart "
        f"{item.service}`"
    ]


def ensure_secrets(
    site: Site,
    services: list[Service],
    *,
    dry_run: bool = False,
    folder_checked: bool = False,
    resolved: Resolved | None = None,
) -> SecretsReport:
    """Generate every missing secret the services declare; check the existing ones.
    `folder_checked`: the caller has run check_folder on SECRETS_DIR (`up` does, first);
    `resolved`: the services resolved once by the caller (their users)."""
    folder = site.secrets_dir
    wanted = wanted_secrets(site, services, resolved)
    notes: list[str] = []
    if not wanted:
        return SecretsReport(folder=str(folder), dry_run=dry_run)
    if not folder_checked:
        check_folder(site, folder, "SECRETS_DIR")
    try:
        # check every existing file before writing anything
        for item in wanted:
            problem = check_file(item.path, folder) if folder.exists() else None
            if problem:
                raise _problem(item.path, problem, item.mode)
        folder_changed = _ensure_folder(folder, dry_run, notes)
    except OSError as exc:
        raise folder_error(site, folder, "SECRETS_DIR", exc) from None
    root = os.geteuid() == 0
    created: list[str] = []
    unchanged: list[str] = []
    fixed: list[str] = []
    changes: list[SecretChange] = []
    for item in wanted:
        uid, gid = item.uid, item.gid
        if (uid is not None or gid is not None) and not root:
            notes.append(
                f"{item.name}: cannot give it to {uid}:{gid} without root; kept 0600 for this user"
            )
            uid = gid = None
        mode = item.mode if uid is not None or gid is not None else PRIVATE_MODE
        want_owner = f"{uid}:{gid}" if uid is not None else f"{os.geteuid()}:{os.getegid()}"
        if not item.path.exists():
            if not dry_run:
                write_new(item.path, generate(item.spec), mode, uid, gid)
            created.append(item.name)
            notes += _new_value_note(site, item, dry_run)
            changes.append(
                SecretChange(
                    item.name,
                    item.service,
                    "create",
                    f"{mode:04o}",
                    want_owner,
                    str(item.path),
                    f"{item.spec.length} {item.spec.alphabet} characters"
                    + (f" after {item.spec.prefix}" if item.spec.prefix else ""),
                )
            )
            continue
        info = item.path.stat()
        have_mode = stat.S_IMODE(info.st_mode)
        actions: list[str] = []
        try:
            if uid is not None and (info.st_uid, info.st_gid) != (uid, gid):
                actions.append(f"owner {_owner(info)} → {uid}:{gid}")
                if not dry_run:
                    os.chown(item.path, uid, -1 if gid is None else gid)
            if not acceptable_mode(have_mode, mode):
                actions.append(f"mode {have_mode:04o} → {mode:04o}")
                if not dry_run:
                    item.path.chmod(mode)
        except OSError as exc:
            raise folder_error(site, folder, "SECRETS_DIR", exc) from None
        (fixed if actions else unchanged).append(item.name)
        changes.append(
            SecretChange(
                item.name,
                item.service,
                "fix" if actions else "unchanged",
                f"{mode:04o}" if actions else f"{have_mode:04o}",
                want_owner if actions else _owner(info),
                str(item.path),
                "; ".join(actions),
            )
        )
    return SecretsReport(
        created=created,
        unchanged=unchanged,
        fixed=fixed,
        changes=changes,
        notes=notes,
        folder=str(folder),
        dry_run=dry_run,
        folder_changed=folder_changed,
    )


# ---- secrets ls ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SecretRow:
    name: str
    service: str | None  # None: no enabled service declares it
    owner: str
    mode: str
    age_s: float | None
    size: int | None
    problem: str | None = None


@dataclass(frozen=True)
class SecretsListing(Serialised):
    folder: str
    rows: list[SecretRow] = field(metadata=entry(key="secrets"))
    missing: list[str] = field(default_factory=list)  # declared, not generated yet

    DATA_EXTRA = (("problems", lambda listing: len(listing.problems)),)

    @property
    def problems(self) -> list[SecretRow]:
        return [r for r in self.rows if r.problem]


def list_secrets(site: Site, services: list[Service] | None = None) -> SecretsListing:
    """Every file in SECRETS_DIR with its owner, mode, age and size — never its value."""
    folder = site.secrets_dir
    declared = {
        w.name: w for w in wanted_secrets(site, services or site.services(enabled_only=True))
    }
    everything = {w.name: w for w in wanted_secrets(site, site.services())}
    rows: list[SecretRow] = []
    now = time.time()
    try:
        names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    except OSError as exc:
        raise folder_error(site, folder, "SECRETS_DIR", exc) from None
    for name in names:
        if name.startswith("."):
            continue  # temp files of an interrupted write
        path = folder / name
        problem = check_file(path, folder)
        try:
            info = path.stat() if problem is None else path.lstat()
        except OSError:
            info = path.lstat()
        owner_of = declared.get(name) or everything.get(name)
        if problem is None and owner_of is not None:
            want = owner_of.mode if os.geteuid() == 0 else PRIVATE_MODE
            if not acceptable_mode(stat.S_IMODE(info.st_mode), want):
                problem = f"mode {stat.S_IMODE(info.st_mode):04o}, expected {want:04o}"
        rows.append(
            SecretRow(
                name,
                owner_of.service if owner_of else None,
                _owner(info),
                f"{stat.S_IMODE(info.st_mode):04o}",
                round(now - info.st_mtime, 1),
                info.st_size if stat.S_ISREG(info.st_mode) else None,
                problem,
            )
        )
    missing = sorted(set(declared) - set(names))
    return SecretsListing(str(folder), rows, missing)
