"""`homestack install data`: each service's folders under DATA_ROOT, and its volume's binding.

Both seed conventions hold at once: the folders `DATA/{service}`, `DATA/config/{service}`
and `DATA/backups/{service}` exist, owned by PUID:PGID, and the named volume
`{stack}_{service}_data` that the compose file declares is a bind of `DATA/{service}`.
Folders that already exist with another owner are left alone and reported. A volume of that
name that Docker already has, bound somewhere else, is drift: an error with the fix.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..catalog import Service, Site
from ..errors import BadInput, EngineUnavailable, OperationFailed
from ..models import MAX_ID
from ..modes import DATA_MODE, PRIVATE_FOLDER_MODE, SERVICE_MODE
from ..resolved import Resolved, resolve
from .folders import check_folder, folder_error
from .report import StepReport

if TYPE_CHECKING:
    from ..engine.backend import Backend
    from ..engine.docker import VolumeInfo


@dataclass(frozen=True)
class FolderChange:
    path: str
    service: str
    action: str  # create, unchanged, foreign-owner
    owner: str
    detail: str = ""


@dataclass(frozen=True)
class VolumeCheck:
    name: str
    service: str
    device: str  # the folder the compose file binds
    state: str  # ok, absent (compose creates it on up), not-declared, not-bind
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class DataReport(StepReport):
    foreign: list[str] = field(default_factory=list)  # exists, owned by someone else
    folders: list[FolderChange] = field(default_factory=list)
    volumes: list[VolumeCheck] = field(default_factory=list)
    owner: str = ""

    DATA_ORDER = (
        "owner",
        "created",
        "unchanged",
        "foreign",
        "changed",
        "dry_run",
        "folders",
        "volumes",
    )


def owner_ids(site: Site) -> tuple[int, int]:
    """PUID:PGID from the root env (default: the user running homestack)."""
    env = site.root_env
    values: list[int] = []
    for key, default in (("PUID", os.geteuid()), ("PGID", os.getegid())):
        raw = env.get(key, "").strip()
        if not raw:
            values.append(default)
            continue
        if not raw.isdigit() or int(raw) > MAX_ID:
            raise BadInput(
                f"{key}={raw} is not a numeric id (0 to {MAX_ID})",
                f"Set {key} to a number in .env (`id -u` / `id -g` print yours).",
                file=site.root / ".env",
            )
        values.append(int(raw))
    return values[0], values[1]


def service_owner(
    site: Site, service: Service, resolved: Resolved | None = None
) -> tuple[int, int]:
    """Who owns a service's data and config: the user its container runs as, else PUID:PGID.
    A root container with every capability dropped cannot write into a folder another user
    owns, so the owner must follow the container."""
    runs_as = resolved.of(service).user if resolved else site.container_user(service)
    return runs_as or owner_ids(site)


def has_data(site: Site, service_id: str) -> bool:
    """Whether DATA/{service} holds anything: a secret made anew now is not the value that
    data was made with (an encryption key, an admin password)."""
    try:
        with os.scandir(site.data_root / service_id) as entries:
            return any(True for _ in entries)
    except OSError:  # not there yet (a first install), or not a folder
        return False


def service_folders(site: Site, service: Service) -> list[tuple[Path, int]]:
    root = site.data_root
    return [
        (root / service.id, SERVICE_MODE),
        (root / "config" / service.id, SERVICE_MODE),
        (root / "backups" / service.id, PRIVATE_FOLDER_MODE),
    ]


def declared_volume(
    site: Site, service: Service, resolved: Resolved | None = None
) -> tuple[str, dict[str, Any]] | None:
    """(engine name, definition) of the service's `{stack}_{service}_data` volume, if declared."""
    return (resolved or resolve(site, [service])).of(service).volume


class _Volumes:
    """The engine's volumes, listed once per run (None: no engine answered)."""

    def __init__(self, backend: Backend | None = None) -> None:
        self._backend = backend
        self._by_name: dict[str, VolumeInfo] | None = None
        self.reachable = True

    def get(self, name: str) -> VolumeInfo | None:
        if self._by_name is None:
            from ..engine.backend import default_backend

            try:
                engine = self._backend or default_backend()
                self._by_name = {v.name: v for v in engine.volumes()}
            except EngineUnavailable:
                self.reachable = False
                self._by_name = {}
        return self._by_name.get(name)


def _check_volume(
    site: Site, service: Service, volumes: _Volumes, resolved: Resolved
) -> VolumeCheck | None:
    declared = resolved.of(service).volume
    expected = str(site.data_root / service.id)
    if declared is None:
        return None
    name, definition = declared
    opts = definition.get("driver_opts") or {}
    device = str(opts.get("device") or "") if isinstance(opts, dict) else ""
    binds = isinstance(opts, dict) and "bind" in str(opts.get("o", "")).split(",")
    if not binds or os.path.normpath(device) != os.path.normpath(expected):
        return VolumeCheck(
            name,
            service.id,
            device,
            "not-bind",
            f"the compose file does not bind it to {expected}",
        )
    found = volumes.get(name)
    if not volumes.reachable:
        return VolumeCheck(name, service.id, device, "unchecked", "no Docker engine answered")
    if found is None:
        return VolumeCheck(name, service.id, device, "absent", "compose creates it on up")
    bound = found.bind_device
    if bound is None or os.path.normpath(bound) != os.path.normpath(expected):
        where = f"bound to {bound}" if bound else f"a {found.driver} volume that is not a bind"
        raise OperationFailed(
            f"volume {name} of {service.id} exists as {where}, expected a bind of {expected}",
            f"Copy its data into {expected} if you need it (`docker run --rm -v {name}:/from "
            f"-v {shlex.quote(expected + ':/to')} … cp -a /from/. /to/`), then `docker volume rm "
            f"{name}` "
            "(with the stack down) and run `homestack install data` again.",
            service=service.id,
        )
    return VolumeCheck(name, service.id, device, "ok", f"bound to {bound}")


@dataclass(frozen=True)
class DataChecked:
    """What ensure_data checks before it writes: PUID:PGID and each service's owner, ids
    chown can use, and DATA_ROOT a folder (or one mkdir away). `up` makes these checks
    before anything is written and hands the result on, so they run once per command."""

    puid: tuple[int, int]
    owners: dict[str, tuple[int, int]]


def check_data(
    site: Site, services: list[Service], resolved: Resolved | None = None
) -> DataChecked:
    puid = owner_ids(site)
    check_folder(site, site.data_root, "DATA_ROOT")
    resolved = resolved or resolve(site, services)
    return DataChecked(puid, {s.id: service_owner(site, s, resolved) for s in services})


def ensure_data(
    site: Site,
    services: list[Service],
    *,
    dry_run: bool = False,
    checked: DataChecked | None = None,
    resolved: Resolved | None = None,
    backend: Backend | None = None,
) -> DataReport:
    """Create the services' DATA folders owned by PUID:PGID; check their volumes.
    `checked`: check_data's result for these services, when the caller made it already;
    `resolved`: the services resolved once by the caller; `backend`: the context's
    (default: engine.backend.default_backend())."""
    resolved = resolved or resolve(site, services)
    checked = checked or check_data(site, services, resolved)
    uid, gid = puid, pgid = checked.puid
    root = os.geteuid() == 0
    notes: list[str] = []
    if not root and (uid, gid) != (os.geteuid(), os.getegid()):
        notes.append(
            f"not root: new folders belong to {os.geteuid()}:{os.getegid()}, not PUID:PGID "
            f"{uid}:{gid}"
        )
    owners = checked.owners  # ids chown can use, checked first
    # the volumes first: a drifted volume stops the run before any folder is made
    engine_volumes = _Volumes(backend)
    volumes = [
        v for s in services if (v := _check_volume(site, s, engine_volumes, resolved)) is not None
    ]
    if not engine_volumes.reachable:
        notes.append("no Docker engine answered: the volumes' bindings were not checked")
    for check in volumes:
        if check.state == "not-bind":
            notes.append(f"{check.name}: {check.detail} (see `homestack validate`)")
    created: list[str] = []
    unchanged: list[str] = []
    foreign: list[str] = []
    folders: list[FolderChange] = []
    try:
        parents = [site.data_root, site.data_root / "config", site.data_root / "backups"]
        for parent in parents:
            if not parent.exists():
                if not dry_run:
                    _make(parent, DATA_MODE, uid, gid, root)
                created.append(str(parent))
                folders.append(FolderChange(str(parent), "", "create", f"{uid}:{gid}"))
        for service in services:
            owner = owners[service.id]
            backups = site.data_root / "backups" / service.id
            for path, mode in service_folders(site, service):
                # DATA/backups/{service} belongs to homestack's PUID; data and config follow the
                # container's user
                uid, gid = (puid, pgid) if path == backups else owner
                if path.is_symlink() or (path.exists() and not path.is_dir()):
                    raise BadInput(
                        f"{path} exists and is not a folder",
                        f"Move it away so homestack can create the folder for {service.id}.",
                        file=path,
                        service=service.id,
                    )
                if not path.exists():
                    if not dry_run:
                        _make(path, mode, uid, gid, root)
                    created.append(str(path))
                    folders.append(
                        FolderChange(str(path), service.id, "create", f"{uid}:{gid}", f"{mode:04o}")
                    )
                    continue
                info = path.stat()
                have = f"{info.st_uid}:{info.st_gid}"
                fine = {(uid, gid)} if root else {(uid, gid), (os.geteuid(), os.getegid())}
                if (info.st_uid, info.st_gid) not in fine:
                    foreign.append(str(path))
                    folders.append(
                        FolderChange(
                            str(path),
                            service.id,
                            "foreign-owner",
                            have,
                            f"left as is; PUID:PGID is {uid}:{gid} (`chown -R {uid}:{gid} "
                            f"{shlex.quote(str(path))}` if the service runs as PUID)",
                        )
                    )
                else:
                    unchanged.append(str(path))
                    folders.append(FolderChange(str(path), service.id, "unchanged", have))
    except OSError as exc:  # a folder under DATA_ROOT this user cannot enter or stat
        raise folder_error(site, site.data_root, "DATA_ROOT", exc) from None
    return DataReport(
        created=created,
        unchanged=unchanged,
        foreign=foreign,
        folders=folders,
        volumes=volumes,
        notes=notes,
        owner=f"{puid}:{pgid}",
        dry_run=dry_run,
    )


def _make(path: Path, mode: int, uid: int, gid: int, root: bool) -> None:
    try:
        path.mkdir(mode=mode, parents=True, exist_ok=True)
        path.chmod(mode)  # mkdir's mode is filtered by the umask
        if root:
            os.chown(path, uid, gid)
    except OSError as exc:
        raise OperationFailed(
            f"cannot create {path}: {exc.strerror or exc}",
            "Check DATA_ROOT in .env and that homestack may write there (run as root to "
            "set the owner to PUID:PGID).",
            file=path,
        ) from None
