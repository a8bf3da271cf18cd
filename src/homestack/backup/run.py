"""`homestack backup`: make a service's data consistent, then snapshot it with restic."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, NoReturn

from .. import __version__, fsutil
from ..backup_record import state_dir
from ..catalog import Service, Site
from ..context import Context, context_for
from ..engine import backup_ops
from ..engine.model import Container
from ..errors import BadInput, CommandFailed, HomestackError, OperationFailed
from ..events import BackupStarted, ServiceBackedUp
from ..models import BackupSpec
from ..resolved import Resolved, resolve
from . import config
from .journal import Journal, hold_point
from .lock import ServiceLock
from .recover import recover
from .restic import BackupSummary, Restic, restic_binary
from .results import BackupResult, BackupRun, record_last


def select(
    site: Site, service: str | list[str] | None, stack: str | None, every: bool
) -> list[Service]:
    """The services a backup/verify/prune/backups command works on (one name or several,
    as `up` and `down` take them)."""
    names = [service] if isinstance(service, str) else list(service or [])
    if sum((bool(names), stack is not None, every)) > 1:
        raise BadInput("name services, or --stack STACK, or --all", "Pick one of them.")
    if names:
        return [site.service(name) for name in dict.fromkeys(names)]
    if stack is not None:
        chosen = site.stack(stack).enabled
    elif every:
        chosen = site.services(enabled_only=True)
    else:
        raise BadInput("name a service, or --stack STACK, or --all", "e.g. homestack backup --all")
    return [s for s in chosen if s.meta is None or not s.meta.stateless]


def listed_without_file(site: Site, stack: str | None) -> list[BackupResult]:
    """Enabled names in stack.yaml without a service file (all stacks, or one): failures
    a `backup --all` or `--stack` reports instead of skipping them in silence."""
    found: list[BackupResult] = []
    stacks = [site.stack(stack)] if stack is not None else list(site.stacks.values())
    for chosen in stacks:
        enabled = {entry.name for entry in chosen.listed if entry.enabled}
        for problem in chosen.problems:
            if problem.rule == "stack.unknown-service" and problem.service in enabled:
                found.append(
                    BackupResult(
                        problem.service or "?",
                        chosen.id,
                        ok=False,
                        time=now_iso(),
                        error=problem.message,
                        hint=problem.hint,
                    )
                )
    return found


def require_readable(site: Site, service: Service, resolved: Resolved | None = None) -> None:
    """Refuse a service whose file or settings homestack cannot read: its backup settings
    (consistency, paths, dump command) are unknown, and compose would fail half-way anyway.
    `resolved`: the services resolved once by the caller."""
    from ..deploy.preflight import check_service_files

    (resolved or resolve(site, [service])).of(service)  # a broken .env layer, named
    for problem in service.problems:
        where = f" (line {problem.line})" if problem.line else ""
        raise BadInput(
            f"{problem.message}{where}",
            problem.hint or f"Fix {problem.file.name}; `homestack validate` shows every problem.",
            file=problem.file,
            line=problem.line,
            service=service.id,
        )
    check_service_files([service])  # a key given twice: Compose refuses the file


def _consistency(service: Service) -> str | None:
    spec = service.meta.backup if service.meta else BackupSpec()
    return spec.consistency if spec is not None else None


def preflight(site: Site, services: list[Service]) -> None:
    """What every backup needs, checked before anything is written (the password above
    all: a new one is announced as the only key to the backups): restic, DATA and the
    secrets folder as folders, and the engine when a service is stopped, paused or dumped."""
    restic_binary()
    config.require_per_service_repository(site)
    for setting, folder in (("DATA_ROOT", site.data_root), ("SECRETS_DIR", site.secrets_dir)):
        if folder.exists() and not folder.is_dir():
            raise BadInput(
                f"{setting} is {folder}, which is a file, not a folder: nothing can be backed "
                "up from it, nor a backup's state and password kept there",
                f"Point {setting} in .env at a folder, or move {folder} away.",
                file=folder,
            )
    if any(_consistency(s) in ("stop", "pause", "dump") for s in services):
        from ..engine.backend import default_backend

        default_backend().ping()  # none: EngineUnavailable ("no Docker engine answers at …")
    try:
        state_dir(site).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OperationFailed(
            f"cannot make the backup state folder {state_dir(site)}: "
            f"{error.strerror or error} ({error.filename or state_dir(site)})",
            f"Check that DATA_ROOT ({site.data_root}) is a folder you may write (run "
            "homestack as the user who owns it, or with sudo).",
        ) from None


def _running_image(site: Site, service: Service, notes: list[str], found: Container | None) -> str:
    """The image the service's container runs (what `docker ps` shows: under --stand-in the
    stand-in's; `found` when the backup already asked); the compose file's image when it
    has no container (nothing runs), or when no engine answers for a `none` backup, which
    copies files without it."""
    declared = str(service.compose.get("image") or "")
    try:
        found = found if found is not None else backup_ops.state(site, service)
    except HomestackError as error:
        reason = error.message.splitlines()[-1].strip() if error.message else "no answer"
        notes.append(
            f"Docker could not say which image {service.id} runs ({reason}): the snapshot "
            f"is tagged with the compose file's image ({declared or 'unknown'})"
        )
        return declared
    return (found.image if found.exists else "") or declared


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def open_repository(site: Site, service: str, *, unlock: bool) -> Restic:
    """The service's repository, created on first use (the password must exist).

    With unlock, stale restic locks (left by a killed run) are removed first."""
    restic_binary()
    restic = config.restic_for(site, service)
    if config.is_local(restic.repository):
        folder = Path(restic.repository)
        folder.parent.mkdir(parents=True, exist_ok=True)
        # swarm mode: the folder is on the data node, restic there says
        swarm = type(restic) is not Restic
        if swarm:  # bound into the task as it is: restic init takes an empty folder
            folder.mkdir(exist_ok=True)
        initialized = restic.is_initialized() if swarm else (folder / "config").is_file()
    else:
        initialized = restic.is_initialized()
    if not initialized:
        restic.init()
    elif unlock:
        restic.unlock()
    return restic


def _tag(value: str) -> str:
    return value.replace(",", "_")  # restic splits --tag on commas


def _excludes(site: Site, service: Service, spec: BackupSpec) -> list[str]:
    base = site.data_root / service.id
    return [p if p.startswith(("/", "*")) else str(base / p) for p in spec.exclude]


def backup_service(
    site: Site,
    service: Service,
    *,
    tags: Sequence[str] = (),
    resolved: Resolved | None = None,
    ctx: Context | None = None,
) -> BackupResult:
    started = time.monotonic()
    stamp = now_iso()
    spec = service.meta.backup if service.meta else BackupSpec()
    if spec is None:
        return BackupResult(
            service.id, service.stack, ok=True, time=stamp, skipped="x-homestack.backup is off"
        )
    if service.meta and service.meta.stateless:
        return BackupResult(
            service.id,
            service.stack,
            ok=True,
            time=stamp,
            skipped="stateless: x-homestack.backup has consistency none and no paths",
        )
    recovered: list[str] = []
    try:
        require_readable(site, service, resolved)
        # the service lock first: a second backup of the same service is refused at once.
        # One that stops, pauses or dumps its service shares the site lock, so no up, down
        # or restart acts on the service meanwhile; one that only copies files holds
        # nothing back.
        with (
            ServiceLock(state_dir(site), service.id, "backup"),
            context_for(site, ctx).lock.hold(f"backup {service.id}", shared=True)
            if spec.consistency != "none"
            else contextlib.nullcontext(),
        ):
            recovered = recover(site, service)
            result = _backup_locked(
                site, service, spec, stamp, unlock=bool(recovered), extra_tags=tags
            )
    except (HomestackError, OSError) as error:
        if isinstance(error, OSError):
            error = OperationFailed(
                f"{service.id}: {error.strerror or error} ({error.filename or 'file'})",
                "Check the free space and permissions of DATA and the backup target.",
            )
        result = BackupResult(
            service.id,
            service.stack,
            ok=False,
            time=stamp,
            consistency=spec.consistency,
            repository=config.repository(site, service.id),
            error=error.message,
            hint=error.hint,
        )
    result = dataclasses.replace(result, recovered=recovered, duration_s=time.monotonic() - started)
    record_last(site, result)
    return result


def _backup_locked(
    site: Site,
    service: Service,
    spec: BackupSpec,
    stamp: str,
    *,
    unlock: bool,
    extra_tags: Sequence[str] = (),
) -> BackupResult:
    folder = state_dir(site)
    _require_data_here(site, service)
    found = config.parts(site, service)
    if not found:  # before a repository is made or the service stopped
        _nothing_to_back_up(service)
    _refuse_linked_folders(service, found)
    restic = open_repository(site, service.id, unlock=unlock)
    consistency, notes = _swarm_consistency(site, service, spec.consistency, restic)
    current = backup_ops.state(site, service) if consistency != "none" else None
    journal = Journal(
        service.id,
        "backup",
        was_running=bool(current and current.running),
        was_paused=bool(current and current.paused),
    )
    # a live copy (current None) needs no engine, but the tag names the running image all the same
    image = _running_image(site, service, notes, current)
    journal.save(folder)
    held: Container | None = None  # the container as the backup holds it
    change: str | None = None  # what someone did to it meanwhile
    summary: BackupSummary | None = None
    try:
        if consistency == "stop" and current and (current.running or current.paused):
            _phase(journal, folder, "stopping")
            backup_ops.stop(site, service)
            _phase(journal, folder, "stopped")
        elif consistency == "pause" and current and current.running:
            _phase(journal, folder, "pausing")
            backup_ops.pause(site, service)
        elif consistency == "dump":
            notes += _dump(site, service, spec, journal, folder)
        if consistency in ("stop", "pause") and current and current.exists:
            held = backup_ops.container(site, service)
        _phase(journal, folder, "restic")
        paths = [part.path for part in config.parts(site, service)]
        if not paths:
            _nothing_to_back_up(service)
        tags = [
            _tag(f"stack={service.stack}"),
            _tag(config.service_tag(service.id)),
            _tag(f"image={image or 'unknown'}"),
            _tag(f"homestack={__version__}"),
            *(_tag(t) for t in extra_tags),  # `pre-update` from homestack update
        ]
        summary = restic.backup(
            paths,
            tags=tags,
            excludes=_excludes(site, service, spec),
            on_started=lambda process: restic_started(journal, folder, process.pid),
        )
        if held is not None:
            change = _change_since(site, service, held)
    finally:
        snapshot = summary.snapshot_id if summary else None
        # a stop backup's container removed by hand was never started on the data meanwhile
        distrust = change is not None and not (consistency == "stop" and change == "was removed")
        if distrust and snapshot:
            _forget(restic, snapshot)  # before a removed container's error leaves here
        notes += _put_back(site, service, journal, consistency, snapshot, dropped=distrust)
        Journal.clear(folder, service.id)
    if summary is None:  # restic.backup returns one or raises
        raise OperationFailed(f"{service.id}: restic made no snapshot", "Run it again.")
    if distrust and change is not None:
        _distrusted(service, consistency, change, summary.snapshot_id, notes)
    if change is not None:
        notes.insert(0, f"{service.id}: its container {change} during the backup")
    return BackupResult(
        service=service.id,
        stack=service.stack,
        ok=True,
        consistency=consistency,
        repository=restic.repository,
        snapshot=summary.snapshot_id or None,
        files_new=summary.files_new,
        files_changed=summary.files_changed,
        bytes_added=summary.data_added,
        bytes_processed=summary.total_bytes_processed,
        time=stamp,
        warnings=notes,
    )


def restic_started(journal: Journal, folder: Path, pid: int) -> None:
    """Note restic's pid in the journal: a recovery after homestack was killed ends it."""
    journal.restic_pid = pid
    journal.save(folder)
    hold_point("restic-started")


HELD = {"stop": "stopped", "pause": "paused", "dump": "dumping"}


def _require_data_here(site: Site, service: Service) -> None:
    """Swarm mode: the service's folders are read where homestack runs, which must then be
    the node holding them (else a clear refusal, not "nothing to back up")."""
    from ..swarm import is_swarm

    if is_swarm(site):
        from ..swarm.data import require_local

        config.restic_for(site, service.id)  # a repository it cannot reach is refused first
        require_local(site, service, "backup")


def _swarm_consistency(
    site: Site, service: Service, wanted: str, restic: Restic
) -> tuple[str, list[str]]:
    """Swarm mode: restic runs in a one-off task on the data node; a task cannot be paused,
    nor a dump command run in it from here, so those back up stopped (scaled to 0)."""
    if type(restic) is Restic:  # compose mode: as the catalog says
        return wanted, []
    from ..swarm.data import data_node

    node = data_node(site, service).hostname
    if wanted == "none" or not backup_ops.state(site, service).running:
        return wanted, [f"swarm: restic ran in a one-off task on {node}"]
    note = f"swarm: restic ran in a one-off task on {node}; {service.id} was scaled to 0 and back"
    if wanted != "stop":
        note += f" (its consistency is {wanted}, which a swarm task cannot do: stopped instead)"
    return "stop", [note]


def _change_since(site: Site, service: Service, held: Container) -> str | None:
    """What was done by hand (docker start, restart, kill, unpause, rm, a recreation) to
    the container while the backup held it stopped, paused or dumping; None: nothing."""
    now = backup_ops.container(site, service)
    if now is None:
        return "was removed"
    change = now.change_since(held)
    return f"{held.name or service.id} {change}" if change else None


def _forget(restic: Restic, snapshot: str) -> None:
    """Remove a snapshot a restore must never take as the latest (best effort: the error
    that follows says which one it was)."""
    with contextlib.suppress(HomestackError):
        restic.run(["forget", snapshot], json_output=False)


def _distrusted(
    service: Service,
    consistency: str,
    change: str,
    snapshot: str,
    notes: list[str],
) -> NoReturn:
    """The container was started, unpaused, killed or replaced while the backup held it:
    its processes may have written while restic read, so the copy is not the consistent
    one the mode promises. Stop: a stopped container cannot change unless started, so
    any change means it ran on the data being copied. Pause: a `docker kill` of a frozen
    container leaves its files as frozen, but a `docker stop` or `unpause` thaws it and
    lets it write first, and nothing left afterwards tells them apart. Either way the
    snapshot is removed and the backup fails; it is never the latest a restore takes."""
    after = f" {' '.join(notes)}" if notes else ""
    raise OperationFailed(
        f"{service.id}: its container {change} while the backup held it "
        f"{HELD.get(consistency, consistency)} (by hand: docker start/restart/kill/"
        f"unpause, or its restart policy); the copy may be inconsistent, so snapshot "
        f"{snapshot[:8]} was removed.{after}",
        f"Leave {service.id} alone while it is backed up (homestack's own up, down and "
        f"restart wait for the backup), then run `homestack backup {service.id}` again.",
        service=service.id,
    )


def _refuse_linked_folders(service: Service, found: list[config.Part]) -> None:
    """restic stores a symlink as a link: a DATA/{service} that is one would be backed up
    as nothing at all (`added 0 B`), and `up` refuses it too."""
    for part in found:
        if part.kind in ("data", "config") and part.path.is_symlink():
            raise OperationFailed(
                f"{part.path} is a symlink (to {part.path.readlink()}), not a folder: a "
                f"backup of {service.id} would hold only the link, none of its data",
                f"Move the data into {part.path} itself (or mount the other disk there), as "
                "`homestack up` also requires.",
                service=service.id,
            )


def _nothing_to_back_up(service: Service) -> NoReturn:
    raise OperationFailed(
        f"{service.id} has nothing to back up: none of its folders exist",
        f"Deploy it first (`homestack up {service.stack}`), or turn backups off with "
        "x-homestack.backup: null.",
        service=service.id,
    )


def _phase(journal: Journal, folder: Path, phase: str) -> None:
    journal.phase = phase
    journal.save(folder)
    hold_point(phase)


def _dump(
    site: Site, service: Service, spec: BackupSpec, journal: Journal, folder: Path
) -> list[str]:
    """Write the dump under its final name only when whole; returns notes for the user."""
    if not spec.dump_command:
        raise BadInput(
            f"{service.id}: backup consistency is dump but dump_command is empty",
            "Set x-homestack.backup.dump_command, e.g. [pg_dumpall, -U, postgres].",
            file=service.file,
            service=service.id,
        )
    if not journal.was_running:
        raise OperationFailed(
            f"{service.id} is not running, so its dump command cannot run",
            f"Start it (`homestack up {service.stack}`) and back it up again.",
            service=service.id,
        )
    # DATA/{service} is the container's: it may have put a symlink where the dump goes (or
    # on a folder of dump_file). The folder is held open, reached without following a link,
    # and the temp file is created in it O_EXCL|O_NOFOLLOW and renamed by that descriptor:
    # root never writes through a path the container controls.
    data = site.data_root / service.id
    target = data / spec.dump_file
    dir_fd = fsutil.open_folder_below(site.data_root, target.parent)
    temp_name = f".{target.name}.homestack-partial-{os.urandom(4).hex()}"
    journal.dump_temp = str(target.with_name(temp_name))
    _phase(journal, folder, "dumping")
    before = backup_ops.container(site, service)
    command, notes = _dump_command(service, spec, before)
    created = False
    try:
        fd = os.open(
            temp_name,
            os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o600,
            dir_fd=dir_fd,
        )
        created = True
        with os.fdopen(fd, "w+b") as sink:
            owner = os.fstat(dir_fd)  # the dump belongs to whoever owns its folder
            if os.geteuid() == 0:
                os.fchown(sink.fileno(), owner.st_uid, owner.st_gid)
            os.fchmod(sink.fileno(), 0o640)
            try:
                size = backup_ops.dump(site, service, command, sink)
            except CommandFailed as failed:
                _dump_window(site, service, before)
                reason = _exec_failure(sink)
                if reason is None:
                    raise
                raise OperationFailed(
                    f"the dump command of {service.id} could not start in its container "
                    f"(exit {failed.returncode}): {reason}",
                    f"Check x-homestack.backup.dump_command in {service.file.name}: its "
                    f"program ({spec.dump_command[0]}) must exist in the image.",
                    service=service.id,
                ) from None
        _dump_window(site, service, before)
        hold_point("dumped")
        if size == 0:
            raise OperationFailed(
                f"the dump command of {service.id} printed nothing: refusing an empty dump",
                "Run the dump command by hand in the container and check it writes to stdout.",
                service=service.id,
            )
        os.replace(temp_name, target.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        created = False
        os.fsync(dir_fd)
    finally:
        if created:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name, dir_fd=dir_fd)
        os.close(dir_fd)
    return notes


def _dump_command(
    service: Service, spec: BackupSpec, container: Container | None
) -> tuple[list[str], list[str]]:
    """The catalog's dump command; in a `--stand-in` rehearsal (whose busybox image lacks
    the real program) the stand-in's own, which its container names in a label."""
    from ..deploy.standin import DUMP_LABEL

    real = list(spec.dump_command or [])
    raw = container.labels.get(DUMP_LABEL) if container else None
    if not raw:
        return real, []
    try:
        command = json.loads(raw)
    except ValueError:
        command = None
    if not (isinstance(command, list) and command and all(isinstance(c, str) for c in command)):
        raise OperationFailed(
            f"{service.id}: its container's label {DUMP_LABEL} is not a JSON list of words",
            "Run `homestack up --stand-in` again to regenerate the stand-in override.",
            service=service.id,
        )
    return command, [
        f"stand-in rehearsal: ran the stand-in's dump instead of {real[0] if real else '?'} "
        "(not in the stand-in image); this snapshot holds no real data of the service."
    ]


def _dump_window(site: Site, service: Service, before: Container | None) -> None:
    """A dump is consistent only when the database ran from its first line to its last:
    a container killed, restarted or replaced meanwhile may have left it torn."""
    change = _change_since(site, service, before) if before is not None else None
    if change is not None:
        raise OperationFailed(
            f"{service.id}: its container {change} while its dump command ran (by hand: "
            "docker kill/restart/stop, or its restart policy); the dump may be torn, so "
            "it was not kept and the previous one stays",
            f"Leave {service.id} alone while it is backed up, then run "
            f"`homestack backup {service.id}` again.",
            service=service.id,
        )


def _exec_failure(output: BinaryIO) -> str | None:
    """The engine's own message when it could not start the command: Docker prints it on
    stdout, which went into the dump file (only this line is read back, never dump data)."""
    try:
        output.seek(0)
        first = output.read(1000).decode(errors="replace").splitlines()
    except OSError:
        return None
    if first and first[0].startswith("OCI runtime exec failed"):
        return first[0].strip()
    return None


def _removed(service: Service, snapshot: str | None, *, dropped: bool = False) -> NoReturn:
    """A container removed meanwhile (by hand) cannot be started again: `compose start` then
    fails with a bare message, or does nothing and exits 0 when the stack has other
    containers. Say so instead of reporting a service that runs."""
    taken = f"; snapshot {snapshot[:8]} was taken" if snapshot else ""
    if snapshot and dropped:  # a paused container may have run before it went
        taken = f"; snapshot {snapshot[:8]} was removed: the copy may be inconsistent"
    raise OperationFailed(
        f"{service.id} was not started again: its container was removed during the "
        f"backup (docker rm, or another tool){taken}",
        f"Run `homestack up {service.id}` to create it again.",
        service=service.id,
    )


def _put_back(
    site: Site,
    service: Service,
    journal: Journal,
    consistency: str,
    snapshot: str | None,
    *,
    dropped: bool = False,
) -> list[str]:
    """Leave the service as the backup found it (running, or paused), whatever happened in
    between; returns what that took beyond undoing the backup's own stop or pause."""
    if consistency == "none" or not (journal.was_running or journal.was_paused):
        return []
    folder = state_dir(site)
    current = backup_ops.state(site, service)
    if not current.exists:
        Journal.clear(folder, service.id)  # nothing left to put back
        _removed(service, snapshot, dropped=dropped)
    notes: list[str] = []
    if not current.running and not current.paused:  # exited, created, dead
        try:
            backup_ops.start(site, service)
        except CommandFailed:
            if not backup_ops.state(site, service).exists:
                Journal.clear(folder, service.id)
                _removed(service, snapshot, dropped=dropped)
            raise
        if consistency != "stop":  # the backup's own stop is no news
            notes.append(f"homestack started {service.id} again (it was {current.state}).")
    elif current.paused and not journal.was_paused:
        backup_ops.unpause(site, service)
        if consistency != "pause":  # nor its own pause
            notes.append(f"homestack unpaused {service.id}.")
        health = backup_ops.wait_fresh_health(site, service)
        if health not in ("", "healthy"):
            notes.append(
                f"{service.id} is {health} after the backup: its health check fails since "
                f"it was unpaused (`homestack logs {service.id}`)."
            )
    if journal.was_paused and not backup_ops.state(site, service).paused:
        backup_ops.pause(site, service)
    return notes


def backup(
    site: Site,
    services: list[Service],
    *,
    jobs: int = 1,
    tags: Sequence[str] = (),
    ctx: Context | None = None,
) -> BackupRun:
    """Back up each service (up to `jobs` at once); one failure does not stop the others.
    Each one's start and end go to `ctx.sink` (BackupStarted, ServiceBackedUp).

    What all of them need (restic, DATA, the engine) is checked first: a failure there
    raises before the password is generated or anything is written."""
    ctx = context_for(site, ctx)
    preflight(site, services)
    _path, created = config.ensure_password(site)
    notices = [config.password_notice(_path)] if created else []
    resolved = resolve(site, services)  # once; a stack's unreadable settings fail its own

    def one(service: Service) -> BackupResult:
        spec = service.meta.backup if service.meta else None
        ctx.sink(BackupStarted(service.id, spec.consistency if spec is not None else "none"))
        result = backup_service(site, service, tags=tags, resolved=resolved, ctx=ctx)
        ctx.sink(ServiceBackedUp(result))
        return result

    if jobs <= 1 or len(services) <= 1:
        results = [one(s) for s in services]
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(one, services))
    from ..generate.backup_rules import refresh
    from ..notify.events import backup_outcome

    backup_outcome(site, results)  # failed / works again, on the site's channel; never raises
    refresh(site)  # Prometheus' BackupTooOld reads the new times; never raises
    return BackupRun(results, notices)
