"""`homestack restore SERVICE [SNAPSHOT]`: all or nothing.

Order: enough free space? → (asked, when the caller asks) → stop the service → a safety
snapshot of the live data (tagged `before-restore`: undo with `homestack restore SERVICE ID`)
→ restore into a staging folder on the same filesystem → check it against the snapshot →
what changes (restic diff of the safety snapshot and the chosen one) → swap by rename (the
previous data kept as `{path}.before-restore-{time}`) → start and wait for health → drop (or
keep) the previous data.
Any failure puts the previous data back, restarts the service and says so.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from .. import __version__
from ..backup_record import state_dir
from ..catalog import Service, Site
from ..context import Context, context_for
from ..engine import backup_ops
from ..errors import BadInput, HomestackError, OperationFailed
from . import config
from .journal import Journal, Swap, hold_point, remove_path
from .lock import ServiceLock
from .recover import recover
from .restic import Restic, Snapshot, restic_binary
from .results import RestoreResult
from .run import require_readable, restic_started

#: free space asked for beyond the snapshot's size
SPACE_MARGIN = 64 * 1024 * 1024
#: the tag of the snapshot a restore takes of the live data first (its undo)
BEFORE_RESTORE = "before-restore"


def _pick(snapshots: list[Snapshot], wanted: str | None, service: str) -> Snapshot:
    if not snapshots:
        raise OperationFailed(
            f"{service} has no backups to restore",
            f"Run `homestack backup {service}` first, or check BACKUP_REPOSITORY.",
            service=service,
        )
    if wanted is None or wanted == "latest":  # a restore's own safety snapshot is no backup
        return ([s for s in snapshots if BEFORE_RESTORE not in s.tags] or snapshots)[-1]
    matches = [s for s in snapshots if s.id.startswith(wanted) or s.short_id == wanted]
    if len(matches) != 1:
        raise BadInput(
            f"{service} has {'no' if not matches else 'several'} snapshots matching {wanted!r}",
            f"Run `homestack backups {service}` and pass a full snapshot id.",
            service=service,
        )
    return matches[0]


def _tree_size(root: Path) -> tuple[int, int]:
    """(regular-file bytes, entries) under root, not following symlinks."""
    size = count = 0
    for folder, dirs, files in os.walk(root):
        count += len(dirs) + len(files)
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                size += path.lstat().st_size
    return size, count


def _copy_across(source: Path, target: Path) -> None:
    """Copy keeping modes, owners, times and symlinks (staging on another filesystem)."""
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, target, symlinks=True, copy_function=shutil.copy2)
        for folder, dirs, files in os.walk(target):
            for name in (*dirs, *files):
                src = source / Path(folder).relative_to(target) / name
                info = os.lstat(src)
                os.lchown(Path(folder) / name, info.st_uid, info.st_gid)
    else:
        shutil.copy2(source, target, follow_symlinks=False)
    info = os.lstat(source)
    os.lchown(target, info.st_uid, info.st_gid)


def restore(
    site: Site,
    service: Service,
    snapshot: str | None = None,
    *,
    keep_previous: bool = False,
    health_timeout: float = 180,
    confirm: Callable[[Snapshot], bool] | None = None,
    ctx: Context | None = None,
) -> RestoreResult:
    """Restore `service`; `confirm` (when given) is asked with the chosen snapshot before
    anything is stopped or replaced, and a False answer cancels the restore."""
    require_readable(site, service)
    started = time.monotonic()
    restic_binary()
    ctx = context_for(site, ctx)
    try:
        result = _restore(site, service, snapshot, keep_previous, health_timeout, confirm, ctx)
    except OSError as error:
        raise OperationFailed(
            f"restore of {service.id}: {error.strerror or error} ({error.filename or 'file'})",
            "Check the free space and permissions of DATA; nothing was swapped in.",
            service=service.id,
        ) from error
    return dataclasses.replace(result, duration_s=time.monotonic() - started)


def _restore(
    site: Site,
    service: Service,
    snapshot: str | None,
    keep_previous: bool,
    health_timeout: float,
    confirm: Callable[[Snapshot], bool] | None = None,
    ctx: Context | None = None,
) -> RestoreResult:
    folder = state_dir(site)
    with (
        ServiceLock(folder, service.id, "restore"),
        context_for(site, ctx).lock.hold(f"restore {service.id}"),
    ):
        recovered = recover(site, service)
        restic = config.restic_for(site, service.id)
        if type(restic) is not Restic:  # swarm: restic runs on the data node, in a task
            from ..swarm.data import require_local

            require_local(site, service, "restore")  # the swaps below are renames here
        # `install data` creates DATA/backups/{service} empty: a repository has its config
        if (
            config.is_local(restic.repository)
            and not (Path(restic.repository) / "config").is_file()
        ):
            raise OperationFailed(
                f"{service.id} has no backups to restore: no backup repository at "
                f"{restic.repository}",
                f"Run `homestack backup {service.id}` first, or check BACKUP_REPOSITORY.",
                service=service.id,
            )
        if recovered:
            restic.unlock()
        # only this service's snapshots: a repository another service shares (or a
        # snapshot id of another service) never restores over this one
        chosen = _pick(restic.snapshots(tag=config.service_tag(service.id)), snapshot, service.id)
        _require_contained(site, service.id, chosen)
        _require_space(site, restic, chosen, service.id)
        if confirm is not None and not confirm(chosen):
            raise OperationFailed(
                f"restore of {service.id} cancelled: nothing was changed",
                f"Run it again and answer yes, or pass --yes (`homestack restore {service.id} "
                "--yes`).",
                service=service.id,
            )
        result = _restore_locked(site, service, restic, chosen, keep_previous, health_timeout)
    return dataclasses.replace(result, recovered=recovered)


def chosen_size(restic: Restic, chosen: Snapshot) -> int:
    """The snapshot's file bytes (asked once per snapshot and process)."""
    if chosen.id not in _SIZES:
        _SIZES[chosen.id] = restic.stats(chosen.id).total_size
    return _SIZES[chosen.id]


_SIZES: dict[str, int] = {}


def _require_space(site: Site, restic: Restic, chosen: Snapshot, service: str) -> None:
    """The staging filesystem (DATA), and each other filesystem a restored path lands on,
    must hold the whole snapshot plus a margin: the current data stays until the end."""
    need = chosen_size(restic, chosen) + SPACE_MARGIN
    places = [site.data_root] + [live_path(site, service, p).parent for p in chosen.paths]
    seen: set[int] = set()
    for wanted in places:
        place = wanted
        while not place.exists() and place != place.parent:
            place = place.parent
        device = place.stat().st_dev
        if device in seen:
            continue
        seen.add(device)
        free = shutil.disk_usage(place).free
        if free < need:
            raise OperationFailed(
                f"not enough free space to restore {service}: the snapshot needs "
                f"{need // 2**20} MiB in {place}, {free // 2**20} MiB are free",
                "Free some space (the restore keeps the current data until the service is "
                "healthy again), then run it again.",
                service=service,
            )


def _restore_locked(
    site: Site,
    service: Service,
    restic: Restic,
    chosen: Snapshot,
    keep_previous: bool,
    health_timeout: float,
) -> RestoreResult:
    folder = state_dir(site)
    current = backup_ops.state(site, service)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    staging = folder / f"restore-{service.id}"
    planned = _plan_swaps(site, service.id, chosen, stamp)
    journal = Journal(
        service.id,
        "restore",
        was_running=current.running or current.paused,
        staging=str(staging),
        keep_previous=keep_previous,
    )
    journal.save(folder)
    try:
        remove_path(staging)
        staging.mkdir(parents=True)
        if current.paused:
            backup_ops.unpause(site, service)
        if current.running or current.paused:
            backup_ops.stop(site, service)
        _set_phase(journal, folder, "safety")
        safety = _safety_snapshot(restic, service, planned, current.image)
        _set_phase(journal, folder, "staging")
        restic.restore(
            chosen.id, staging, on_started=lambda p: restic_started(journal, folder, p.pid)
        )
        _check_staging(restic, chosen, staging, service.id)
        changes = restic.diff(safety, chosen.id) if safety else None
        journal.swaps = planned  # saved before any incoming copy exists: undo removes them
        journal.save(folder)
        for swap, original in zip(planned, chosen.paths, strict=True):
            _stage_incoming(swap, staging / original.lstrip("/"), staging)
        _set_phase(journal, folder, "swapping")
        for swap in journal.swaps:
            swap.swap_out()
            hold_point("swapping")
            swap.swap_in()
        _set_phase(journal, folder, "starting")
        healthy = False
        if journal.was_running:
            backup_ops.start(site, service)
            backup_ops.wait_healthy(site, service, health_timeout)
            healthy = True
        _set_phase(journal, folder, "cleanup")
    except BaseException as exc:
        problems = _roll_back(site, service, journal)
        if not problems:
            Journal.clear(folder, service.id)
        cause = exc.message if isinstance(exc, HomestackError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, Exception):
            raise
        raise OperationFailed(
            f"restore of {service.id} from snapshot {chosen.short_id or chosen.id[:8]} FAILED: "
            f"{cause}\n"
            + (
                "The previous data was put back"
                + (" and the service restarted." if journal.was_running else ".")
                if not problems
                else "Putting the previous data back ALSO failed: " + "; ".join(problems)
            ),
            "Nothing was restored. Run `homestack verify "
            f"{service.id} --read-data` to check the repository, or restore an older "
            "snapshot (`homestack backups " + service.id + "`).",
            service=service.id,
        ) from exc
    kept: list[str] = []
    for swap in journal.swaps:
        if keep_previous and swap.had_live:
            kept.append(swap.previous)
        else:
            remove_path(Path(swap.previous))
    remove_path(staging)
    Journal.clear(folder, service.id)
    return RestoreResult(
        service=service.id,
        snapshot=chosen.id,
        ok=True,
        restored=[swap.live for swap in journal.swaps],
        previous_kept=kept,
        healthy=healthy,
        duration_s=0.0,
        safety_snapshot=safety,
        added=changes.added if changes else [],
        removed=changes.removed if changes else [],
        changed=changes.changed if changes else [],
    )


def _safety_snapshot(
    restic: Restic, service: Service, planned: list[Swap], image: str
) -> str | None:
    """Snapshot the live data the restore replaces (the service is stopped by now), tagged
    `before-restore`; its id undoes the restore. None: there is no live data to keep."""
    paths = [Path(swap.live) for swap in planned if swap.had_live]
    if not paths:
        return None
    summary = restic.backup(
        paths,
        tags=[
            BEFORE_RESTORE,
            f"stack={service.stack}",
            f"service={service.id}",
            f"image={(image or 'unknown').replace(',', '_')}",
            f"homestack={__version__}",
        ],
    )
    return summary.snapshot_id or None


def _set_phase(journal: Journal, folder: Path, phase: str) -> None:
    journal.phase = phase
    journal.save(folder)


def _check_staging(restic: Restic, chosen: Snapshot, staging: Path, service: str) -> None:
    """The staging copy holds every path of the snapshot, with the snapshot's byte count."""
    for original in chosen.paths:
        staged = staging / original.lstrip("/")
        if not (staged.exists() or staged.is_symlink()):
            raise OperationFailed(
                f"the restored copy lacks {original}",
                "The snapshot looks damaged.",
                service=service,
            )
    expected = chosen_size(restic, chosen)
    size, _count = _tree_size(staging)
    if size != expected:
        raise OperationFailed(
            f"the restored copy holds {size} bytes, the snapshot {expected}: refusing a "
            "partial restore",
            "Run `homestack verify --read-data` on this service.",
            service=service,
        )


def live_path(site: Site, service: str, original: str) -> Path:
    """Where a snapshot path goes now (the site may have moved since: a new machine):
    `DATA/{service}`, `DATA/config/{service}` or `secrets/{service}_*`, nowhere else."""
    path = PurePosixPath(original)
    if path.name == service and path.parent.name == "config":
        return site.data_root / "config" / service
    if path.name == service:
        return site.data_root / service
    if re.fullmatch(rf"{re.escape(service)}_[a-z0-9_]+", path.name) and (
        path.name != config.PASSWORD_FILE
    ):
        return site.secrets_dir / path.name
    raise OperationFailed(
        f"snapshot path {original} is not DATA/{service}, DATA/config/{service} or "
        f"secrets/{service}_*: refusing to restore it (nothing was written)",
        "A restore only replaces the service's own folders and secrets. Restore that path by "
        "hand into an empty folder (`restic restore ID --target /some/empty/folder`) and "
        "look at it first.",
        service=service,
    )


def _require_contained(site: Site, service: str, chosen: Snapshot) -> None:
    """Every path of the snapshot maps into the service's own places, and the snapshot is
    tagged for it: checked before the service is stopped or anything is written."""
    if chosen.tag("service") != service:
        raise OperationFailed(
            f"snapshot {chosen.short_id or chosen.id[:8]} is tagged "
            f"service={chosen.tag('service')}, not {service}: refusing to restore it",
            f"Run `homestack backups {service}` and pick one of its own snapshots.",
            service=service,
        )
    if not chosen.paths:
        raise OperationFailed(
            f"snapshot {chosen.short_id or chosen.id[:8]} names no paths: nothing to restore",
            f"Run `homestack backups {service}` and pick another snapshot.",
            service=service,
        )
    for original in chosen.paths:
        live_path(site, service, original)


def _plan_swaps(site: Site, service: str, chosen: Snapshot, stamp: str) -> list[Swap]:
    """Where each snapshot path goes; refuses mount points before anything is touched."""
    swaps: list[Swap] = []
    for original in chosen.paths:
        live = live_path(site, service, original)
        if live.is_mount():
            raise OperationFailed(
                f"{live} is a mount point: homestack restores by renaming folders, which a "
                "mount point cannot be",
                f"Restore by hand: `restic restore {chosen.short_id} --target /some/folder` with "
                f"RESTIC_REPOSITORY and RESTIC_PASSWORD_FILE set, then copy into {live}.",
                service=service,
            )
        swaps.append(
            Swap(
                live=str(live),
                incoming=str(live.with_name(f".{live.name}.restore-incoming")),
                previous=str(live.with_name(f"{live.name}.before-restore-{stamp}")),
                had_live=live.exists() or live.is_symlink(),
            )
        )
    return swaps


def _stage_incoming(swap: Swap, staged: Path, staging: Path) -> None:
    """Put the restored copy next to the live path (same filesystem, so renames are atomic)."""
    live, incoming = Path(swap.live), Path(swap.incoming)
    live.parent.mkdir(parents=True, exist_ok=True)
    remove_path(incoming)
    if staging.stat().st_dev == live.parent.stat().st_dev:
        staged.rename(incoming)
    else:
        _copy_across(staged, incoming)


def _roll_back(site: Site, service: Service, journal: Journal) -> list[str]:
    problems: list[str] = []
    if journal.swaps:
        try:  # it may already run on the restored data: stop it before the renames
            if backup_ops.state(site, service).running:
                backup_ops.stop(site, service)
        except HomestackError as exc:
            problems.append(f"stopping {service.id}: {exc.message}")
            return problems  # renaming under a running container would be worse
    for swap in reversed(journal.swaps):
        try:
            swap.undo()
        except OSError as exc:
            problems.append(f"{swap.live}: {exc}")
    try:
        if journal.staging:
            remove_path(Path(journal.staging))
    except OSError as exc:
        problems.append(f"staging: {exc}")
    if journal.was_running:
        try:
            if not backup_ops.state(site, service).running:
                backup_ops.start(site, service)
        except HomestackError as exc:
            problems.append(f"restarting {service.id}: {exc.message}")
    return problems
