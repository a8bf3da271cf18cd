"""`homestack update` and `homestack rollback`: move one service to another image, safely.

The steps, each recorded in a journal (`DATA/.homestack/update/{service}.journal.json`)
before it starts, so a kill -9 or Ctrl-C at any point is finished or undone by the next
`update` or `up` (`converge`):

1. resolve  the target tag's digest at the registry (a registry that fails changes nothing);
2. snapshot a restic backup of the service tagged `pre-update`, in its consistency mode;
3. pull     the target by digest and tag it locally, while the snapshot is taken (a failure
            here changes nothing either);
4. write    the tag into the service file (that one line, comments and layout kept) and the
            digest into `homestack.lock`;
5. recreate the service and its running dependents through `up`, with its health gate;
6. on failure, roll back: the previous file and lock entry, the failed container removed,
            the data put back from the snapshot when it changed, the previous image started.

A successful deploy appends to `DATA/.homestack/history.jsonl`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, ParamSpec

from ..context import Context, context_for
from ..errors import BadInput, HomestackError, OperationFailed
from ..events import EventSink, UpdateStep, ignore
from . import history
from .lockfile import Locked, pinned_image, pull_pinned, read_lock, set_entry
from .registry import ImageRef, Registry
from .tags import Level, newer_versions, parse

P = ParamSpec("P")

if TYPE_CHECKING:
    from ..catalog import Service, Site
    from ..deploy.up import UpResult
    from ..engine.backend import Backend

UPDATE_DIR = ".homestack/update"
Phase = Literal["snapshot", "pull", "write", "recreate", "rollback"]


def update_dir(site: Site) -> Path:
    return site.data_root / UPDATE_DIR


@dataclass
class Journal:
    service: str
    phase: str
    file: str
    old_text: str
    old_image: str
    new_image: str
    new_digest: str
    old_lock: dict[str, str] | None = None
    snapshot: str | None = None
    fingerprint: str | None = None

    @staticmethod
    def path(site: Site, service: str) -> Path:
        return update_dir(site) / f"{service}.journal.json"

    def save(self, site: Site, phase: str | None = None) -> None:
        from ..fsutil import write_atomic

        if phase is not None:
            self.phase = phase
        folder = update_dir(site)
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path(site, self.service), json.dumps(asdict(self)), mode=0o600)

    @classmethod
    def load(cls, path: Path) -> Journal | None:
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def clear(self, site: Site) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(site, self.service).unlink()


@dataclass
class UpdateReport:
    service: str
    from_image: str
    to_image: str
    from_digest: str | None = None
    to_digest: str | None = None
    ok: bool = True
    changed: bool = False
    dry_run: bool = False
    rolled_back: bool = False
    data_restored: bool = False
    snapshot: str | None = None
    reason: str | None = None
    health_log: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0
    #: where each step goes as it is done (UpdateStep), besides `steps`: the context's sink
    sink: EventSink = field(default=ignore, repr=False, compare=False)

    def say(self, *steps: str) -> None:
        """Steps done: kept in `steps`, and each sent to the sink as it happens."""
        for text in steps:
            self.steps.append(text)
            self.sink(UpdateStep(self.service, text))

    def to_data(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "sink"}
        data["health_log"], data["steps"] = list(self.health_log), list(self.steps)
        data["timings"] = {k: round(v, 3) for k, v in self.timings.items()}
        data["elapsed"] = round(self.elapsed, 3)
        return data


# ---- the service file --------------------------------------------------------------------
def rewrite_image(service: Service, new_image: str) -> str:
    """The service file's text with its `image:` value replaced; that one line changes."""
    raw = service.compose.get("image")
    if not isinstance(raw, str) or not raw:
        raise BadInput(
            f"{service.id} has no image in {service.file}",
            "Add `image: name:tag` to the service.",
            file=service.file,
            service=service.id,
        )
    if "$" in raw:
        raise BadInput(
            f"{service.id}'s image {raw!r} is set through a variable",
            "homestack update edits a literal `image: name:tag`; set the variable in the "
            ".env file by hand, or write the image literally.",
            file=service.file,
            service=service.id,
        )
    text = service.file.read_bytes().decode("utf-8")
    lines = text.splitlines(keepends=True)
    start = (service.doc.line("services", service.id, "image") if service.doc else None) or 1
    pattern = re.compile(r"^(\s*image\s*:\s*)(['\"]?)" + re.escape(raw) + r"\2(?=\s|$)")
    for index in range(start - 1, len(lines)):
        if pattern.match(lines[index]):
            lines[index] = pattern.sub(
                lambda m: m.group(1) + m.group(2) + new_image + m.group(2), lines[index], count=1
            )
            break
    else:
        raise BadInput(
            f"cannot find the `image: {raw}` line of {service.id} in {service.file}",
            "Write it on one line as `image: name:tag`.",
            file=service.file,
            service=service.id,
        )
    edited = "".join(lines)
    from .. import yamlio

    data = yamlio.parse(edited, service.file).data
    if data["services"][service.id]["image"] != new_image:  # pragma: no cover - guard
        raise OperationFailed(f"could not edit the image of {service.id} safely")
    return edited


def write_file(path: Path, text: str) -> None:
    """Replace a service file, keeping its mode and (under sudo) its owner."""
    from ..fsutil import write_atomic

    info = path.stat()
    owner = (info.st_uid, info.st_gid) if os.geteuid() == 0 else None
    write_atomic(path, text, mode=info.st_mode & 0o7777, owner=owner)


# ---- data fingerprint --------------------------------------------------------------------
def fingerprint(site: Site, service: Service) -> str:
    """A digest of names, sizes, modes and mtimes under the service's backed-up paths: equal
    before and after means the data was not touched (no content is read)."""
    from ..backup.config import parts

    digest = hashlib.sha256()
    for part in parts(site, service):
        for root, dirs, files in os.walk(part.path):
            dirs.sort()
            for name in sorted([*files, *dirs]):
                full = Path(root) / name
                with contextlib.suppress(OSError):
                    info = os.lstat(full)
                    digest.update(
                        f"{full}\0{info.st_size}\0{info.st_mode}\0{info.st_mtime_ns}\n".encode()
                    )
        if part.path.is_file():
            info = os.lstat(part.path)
            digest.update(f"{part.path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


# ---- engine steps ------------------------------------------------------------------------
def _engine(ctx: Context | None) -> Backend:
    """The context's backend, else the default one."""
    if ctx is not None:
        return ctx.engine()
    from ..engine.backend import default_backend

    return default_backend()


def _running(site: Site, ctx: Context | None) -> set[str]:
    from ..deploy.dependents import is_running
    from ..deploy.projects import SERVICE_LABEL

    projects = {site.project_name(s) for s in site.stacks.values()}
    return {
        info.labels.get(SERVICE_LABEL, "")
        for info in _engine(ctx).containers(projects, oneoffs=True)
        if is_running(info.state)
    }


def _with_dependents(site: Site, name: str, ctx: Context | None) -> list[str]:
    from ..deploy.dependents import find_dependents
    from ..deploy.projects import select

    selection = select(site, None)
    found = find_dependents(selection.graph, [name], _running(site, ctx))
    return [name, *(d.service for d in found)]


def _remove_container(site: Site, name: str, ctx: Context | None) -> None:
    from ..deploy.down import remove_services
    from ..deploy.projects import select

    selection = select(site, [name], with_dependencies=False)
    remove_services(selection, [name], _engine(ctx))


def _up(site: Site, names: list[str], timeout: float, ctx: Context | None) -> UpResult:
    from ..deploy.up import up

    return up(site, names, timeout=timeout, record=False, ctx=ctx)


def _config_hash(site: Site, name: str, ctx: Context | None = None) -> str | None:
    from ..deploy.projects import HASH_LABEL, SERVICE_LABEL

    service = site.service(name)
    project = site.project_name(site.stacks[service.stack])
    for info in _engine(ctx).containers({project}, oneoffs=True):
        if info.labels.get(SERVICE_LABEL) == name:
            return info.labels.get(HASH_LABEL)
    return None


def _dependents_stay_healthy(
    site: Site, names: list[str], settle: float, ctx: Context | None
) -> str | None:
    """Watch the running dependents for `settle` seconds after the update came up: the first
    that turns unhealthy or stops, with why (None: all stayed healthy)."""
    projects = {site.project_name(s) for s in site.stacks.values()}
    sick = _engine(ctx).stays_healthy(projects, names, settle)
    if sick is None:
        return None
    if sick.health == "unhealthy":
        return f"{sick.service} (a dependent) turned unhealthy on the new version"
    return f"{sick.service} (a dependent) {sick.state} on the new version"


def _failure(result: UpResult) -> tuple[str, list[str]]:
    bad = result.failed or result.blocked
    if not bad:
        return "not healthy", []
    first = bad[0]
    return f"{first.service} {first.state}: {first.detail}", first.health_log


def _reload(site: Site) -> Site:
    from ..catalog import Site as SiteClass

    return SiteClass.load(site.root)


def _snapshot(site: Site, service: Service) -> str | None:
    from ..backup.run import backup

    if service.meta is not None and (service.meta.backup is None or service.meta.stateless):
        return None
    run = backup(site, [service], tags=["pre-update"])
    result = run.results[0]
    if not result.ok:
        raise OperationFailed(
            f"{service.id}: the pre-update snapshot failed: {result.error}; nothing was changed",
            result.hint or "Fix the backup (`homestack backup " + service.id + "`) first.",
            service=service.id,
        )
    return result.snapshot


def _restore(site: Site, service: Service, snapshot: str) -> None:
    from ..backup.restore import restore

    restore(site, service, snapshot)


def _recreate(
    fresh: Site,
    name: str,
    report: UpdateReport,
    timeout: float,
    settle: float,
    restore_snapshot: str | None,
    ctx: Context | None = None,
) -> tuple[bool, UpResult | None]:
    """Up the service and its running dependents; watch the dependents a while after."""
    if restore_snapshot:  # rollback by hand, data included
        _remove_container(fresh, name, ctx)
        _restore(fresh, fresh.service(name), restore_snapshot)
        report.data_restored = True
        report.say(f"data restored from snapshot {restore_snapshot[:8]}")
    names = _with_dependents(fresh, name, ctx)
    try:
        result: UpResult | None = _up(fresh, names, timeout, ctx)
    except HomestackError as error:
        report.reason = error.message
        return False, None
    if result is None or not result.ok:
        return False, result
    if len(names) > 1:  # a dependent may turn unhealthy on the new version
        sick = _dependents_stay_healthy(fresh, names[1:], settle, ctx)
        if sick:
            report.reason = sick
            return False, None
    return True, result


# ---- the switch itself -------------------------------------------------------------------
def switch(
    site: Site,
    service: Service,
    new_image: str,
    new_digest: str,
    *,
    report: UpdateReport,
    by: str,
    timeout: float,
    restore_snapshot: str | None = None,
    settle: float = 5.0,
    ctx: Context | None = None,
) -> UpdateReport:
    """Snapshot, pull, write, recreate; roll back image and data on failure. Running
    dependents are watched for `settle` seconds after: one turning unhealthy rolls back.
    The recreation (and a roll back) report their services' states to `ctx.sink`."""
    from ..backup.journal import hold_point
    from ..backup.lock import ServiceLock

    folder = update_dir(site)
    text = rewrite_image(service, new_image)  # a file it cannot edit: refused before anything
    with ServiceLock(folder, service.id, by):
        old_image = pinned_image(site, service)
        old_lock = read_lock(site).get(service.id)
        journal = Journal(
            service.id,
            "snapshot",
            str(service.file),
            service.file.read_bytes().decode("utf-8"),
            old_image,
            new_image,
            new_digest,
            asdict(old_lock) if old_lock else None,
        )
        journal.save(site)
        # the pull runs while the snapshot is taken: it changes nothing the service uses
        with ThreadPoolExecutor(max_workers=1) as side:
            pulling = side.submit(pull_pinned, new_image, new_digest)
            try:
                _take_snapshot(site, service, journal, report)
            except BaseException:
                pulling.cancel()
                raise
            mark = time.monotonic()
            try:
                if pulling.result():
                    report.say(f"pulled {new_image}@{new_digest[:19]}")
            except BaseException:
                journal.clear(site)
                raise
        report.timings["pull"] = time.monotonic() - mark  # the wait for it after the snapshot
        journal.fingerprint = fingerprint(site, service)
        journal.save(site, "pull")
        hold_point("update-pull")  # the kill -9 tests stop here (snapshot taken, nothing written)
        journal.save(site, "write")
        write_file(service.file, text)
        set_entry(site, service.id, Locked(new_image, new_digest))
        report.changed = True
        report.say(f"wrote {new_image} to {service.file.name} and homestack.lock")
        journal.save(site, "recreate")
        hold_point("update-recreate")  # the kill -9 tests stop here
        mark = time.monotonic()
        fresh = _reload(site)
        healthy, result = _recreate(
            fresh, service.id, report, timeout, settle, restore_snapshot, ctx
        )
        report.timings["recreate"] = time.monotonic() - mark
        if healthy:
            history.append(
                site,
                history.Deploy(
                    history.now(),
                    service.id,
                    new_image,
                    new_digest,
                    _config_hash(fresh, service.id, ctx),
                    journal.snapshot,
                    by=by,
                ),
            )
            journal.clear(site)
            report.say(f"{service.id} healthy on {new_image}")
            return report
        if result is not None:
            report.reason, report.health_log = _failure(result)
        _roll_back(site, service, journal, report, timeout, ctx)
        return report


def _take_snapshot(site: Site, service: Service, journal: Journal, report: UpdateReport) -> None:
    mark = time.monotonic()
    try:
        journal.snapshot = _snapshot(site, service)
    except BaseException:
        journal.clear(site)
        raise
    report.snapshot = journal.snapshot
    report.say(f"snapshot {journal.snapshot[:8]} (pre-update)" if journal.snapshot else "stateless")
    report.timings["snapshot"] = time.monotonic() - mark
    if not history.read(site, service.id):  # the deploy being left, so it can be returned to
        history.append(
            site,
            history.Deploy(
                history.now(),
                service.id,
                journal.old_image,
                report.from_digest,
                _config_hash(site, service.id),
                None,
                by="before-update",
            ),
        )


def _roll_back(
    site: Site,
    service: Service,
    journal: Journal,
    report: UpdateReport,
    timeout: float,
    ctx: Context | None = None,
) -> None:
    """The new version failed its health gate: the previous one back, data included."""
    old_image = journal.old_image
    report.ok = False
    mark = time.monotonic()
    journal.save(site, "rollback")
    from ..backup.journal import hold_point

    hold_point("update-rollback")  # the kill -9 tests stop here (the failed version is running)
    report.say(*undo(site, journal))
    report.rolled_back = True
    report.data_restored = report.data_restored or any(
        s.startswith("data restored") for s in report.steps
    )
    back = _reload(site)
    try:
        result = _up(back, _with_dependents(back, service.id, ctx), timeout, ctx)
        came_back, why = result.ok, _failure(result)[0]
    except HomestackError as error:  # file, lock and data are back: `up` can be run again
        came_back, why = False, error.message
    report.timings["rollback"] = time.monotonic() - mark
    if came_back:
        report.say(f"{service.id} healthy again on {old_image}")
    else:
        report.say(
            f"the previous version did not come back healthy: {why} (`homestack up "
            f"{service.id}` tries again)"
        )
    journal.clear(site)
    from .schedule import notify_rolled_back

    tried, back_to = (ImageRef.parse(i).tag or i for i in (journal.new_image, old_image))
    notify_rolled_back(site, service.id, tried, back_to, report.reason or "")


def undo(site: Site, journal: Journal) -> list[str]:
    """Put back the file and lock entry, remove the new container, restore the data from
    the pre-update snapshot when it changed. Leaves starting the old version to `up`."""
    steps: list[str] = []
    path = Path(journal.file)
    write_file(path, journal.old_text)
    old = journal.old_lock
    set_entry(site, journal.service, Locked(old["image"], old["digest"]) if old else None)
    steps.append(f"put {journal.old_image} back in {path.name} and homestack.lock")
    fresh = _reload(site)
    service = fresh.service(journal.service)
    with contextlib.suppress(HomestackError):
        _remove_container(fresh, service.id, None)
    if (
        journal.snapshot
        and journal.fingerprint
        and fingerprint(fresh, service) != (journal.fingerprint)
    ):
        _restore(fresh, service, journal.snapshot)
        steps.append(f"data restored from snapshot {journal.snapshot[:8]} (it had changed)")
    return steps


def converge(site: Site, names: list[str] | None = None) -> list[str]:
    """Finish or undo updates a killed process left (a journal whose lock is free): before
    the file was written nothing changed; after, the previous version is put back."""
    folder = update_dir(site)
    journals = sorted(folder.glob("*.journal.json"))
    if not journals:
        return []
    from ..backup.lock import ServiceBusy, ServiceLock

    lines: list[str] = []
    for path in journals:
        journal = Journal.load(path)
        if journal is None or (names is not None and journal.service not in names):
            continue
        try:
            with ServiceLock(folder, journal.service, "converge"):
                if not path.exists():
                    continue
                if journal.phase in ("snapshot", "pull"):
                    journal.clear(site)
                    lines.append(f"{journal.service}: an interrupted update changed nothing")
                    continue
                steps = undo(site, journal)
                journal.clear(site)
                lines.append(
                    f"{journal.service}: undid an interrupted update to {journal.new_image} "
                    f"({'; '.join(steps)})"
                )
        except ServiceBusy:
            continue  # a live update holds it
    return lines


def _current_digest(image: str, lock: Locked | None) -> str | None:
    """The locked digest of the pinned image, else the one this machine pulled."""
    from .lockfile import local_digests

    if lock is not None and lock.image == image:
        return lock.digest
    repo = ImageRef.parse(image).repository
    found = [d.split("@", 1)[1] for d in local_digests(image) if d.startswith(repo + "@")]
    return found[0] if found else None


# ---- the operations ----------------------------------------------------------------------
def pick_target(
    service: Service, ref: ImageRef, registry: Registry, level: Level, to: str | None
) -> str | None:
    """The tag to move to: `to`, else the newest at `level` (None: already newest)."""
    if to:
        return to
    newer = newer_versions(ref.tag or "latest", registry.tags(ref, use_cache=False))
    if newer is None:
        raise BadInput(
            f"{service.id}'s tag {ref.tag!r} is not a version homestack can compare",
            "Name the tag with --to TAG.",
            service=service.id,
        )
    return newer.best(level)


def guard_major(service: Service, current: str | None, target: str, allow_major: bool) -> bool:
    """True for a major jump; BadInput when the service wants majors by hand and the
    user did not say --major."""
    now, then = parse(current or ""), parse(target)
    major = bool(now and then and now.level_to(then) == "major")
    if major and service.meta and service.meta.update.major == "manual" and not allow_major:
        raise BadInput(
            f"{service.id}: {current} → {target} is a major version, and its file says "
            "`x-homestack.update.major: manual`",
            f"Read the release notes (a migration of its data?), then run `homestack update "
            f"{service.id} --to {target} --major`; a dump and a snapshot are taken first.",
            file=service.file,
            service=service.id,
        )
    return major


def _refuse_swarm(site: Site, command: str) -> None:
    """Update and rollback recreate containers through Compose on this machine: on a swarm
    site (DEPLOY_MODE=swarm) that would run a second copy beside the swarm's service."""
    from ..swarm import is_swarm

    if is_swarm(site):
        raise BadInput(
            f"`homestack {command}` is not available in swarm mode (DEPLOY_MODE=swarm): it "
            "recreates containers through Compose on this machine; nothing was changed",
            "Set the new image tag in the service's compose file and run `homestack up "
            "SERVICE`: the swarm rolls the service to it, gated on its health. `homestack "
            "outdated` lists the newer tags; `homestack backup SERVICE` first keeps its data.",
            file=site.root / ".env",
        )


def _timed(operation: Callable[P, UpdateReport]) -> Callable[P, UpdateReport]:
    """The operation, its report's `elapsed` set to the seconds it took (when it returns)."""

    @functools.wraps(operation)
    def timed(*args: P.args, **kwargs: P.kwargs) -> UpdateReport:
        started = time.monotonic()
        report = operation(*args, **kwargs)
        report.elapsed = time.monotonic() - started
        return report

    return timed


@_timed
def update(
    site: Site,
    name: str,
    *,
    to: str | None = None,
    level: Level = "patch",
    allow_major: bool = False,
    dry_run: bool = False,
    timeout: float = 300.0,
    registry: Registry | None = None,
    settle: float = 5.0,
    ctx: Context | None = None,
) -> UpdateReport:
    """Update one service's image (snapshot, pull, write, recreate; rolled back on failure),
    holding the site lock while it changes anything."""
    from .outdated import registry_for

    _refuse_swarm(site, "update")
    recovered = converge(site, [name])
    if recovered:
        site = _reload(site)
    service = site.service(name)
    if not service.enabled:
        raise BadInput(
            f"{name} is not enabled",
            f"`homestack enable {name}` first, or edit its image by hand.",
            service=name,
        )
    rewrite_image(service, "check/only:1")  # an image set through a variable: refused now
    image = pinned_image(site, service)
    ref = ImageRef.parse(image)
    registry = registry or registry_for(site)
    lock = read_lock(site).get(name)
    sink = context_for(site, ctx).sink
    report = UpdateReport(name, image, image, _current_digest(image, lock), sink=sink)
    report.say(*recovered)
    tag = pick_target(service, ref, registry, "major" if allow_major else level, to)
    if tag is None or tag == ref.tag:
        report.say(f"{name} is on the newest {level} release already ({ref.tag})")
        return report
    guard_major(service, ref.tag, tag, allow_major)
    new_image = ref.with_tag(tag)
    report.to_image = new_image
    report.to_digest = registry.digest(ref, tag, use_cache=False)  # before anything changes
    if dry_run:
        report.dry_run = True
        report.say(f"would update {image} → {new_image} ({report.to_digest[:19]})")
        return report
    with context_for(site, ctx).lock.hold(f"update {name}"):
        switch(
            site,
            service,
            new_image,
            report.to_digest,
            report=report,
            by="update",
            timeout=timeout,
            settle=settle,
            ctx=ctx,
        )
    return report


@_timed
def rollback(
    site: Site,
    name: str,
    *,
    to: int | None = None,
    data: bool = False,
    timeout: float = 300.0,
    ctx: Context | None = None,
) -> UpdateReport:
    """Return to history entry `to` (1-based, as `history` numbers them; default: the last
    deploy of another image). With `data`, its data comes back too: the snapshot taken when
    that version was left (the next entry's `pre-update` snapshot)."""
    _refuse_swarm(site, "rollback")
    recovered = converge(site, [name])
    if recovered:
        site = _reload(site)
    service = site.service(name)
    entries = history.read(site, name)
    image = pinned_image(site, service)
    if to is None:
        candidates = [i for i, e in enumerate(entries) if e.image != image]
        if not candidates:
            raise BadInput(
                f"{name} has no earlier deploy of another image in its history",
                f"See `homestack history {name}`.",
                service=name,
            )
        index = candidates[-1]
    elif not 1 <= to <= len(entries):
        raise BadInput(
            f"{name} has {len(entries)} history entries; --to {to} is not one of them",
            f"See `homestack history {name}`.",
            service=name,
        )
    else:
        index = to - 1
    entry = entries[index]
    snapshot = None
    if data:
        later = [e.snapshot for e in entries[index + 1 :] if e.snapshot]
        if not later:
            raise BadInput(
                f"no snapshot of {name}'s data was taken when it left entry {index + 1}",
                "Roll back without --data, or restore a snapshot with `homestack restore`.",
                service=name,
            )
        snapshot = later[0]
    digest = entry.digest
    if not digest:
        raise BadInput(
            f"history entry {index + 1} of {name} has no digest to return to",
            "Pick another entry with --to N.",
            service=name,
        )
    report = UpdateReport(name, image, entry.image, None, digest, sink=context_for(site, ctx).sink)
    report.say(*recovered)
    with context_for(site, ctx).lock.hold(f"rollback {name}"):
        switch(
            site,
            service,
            entry.image,
            digest,
            report=report,
            by="rollback",
            timeout=timeout,
            restore_snapshot=snapshot,
            ctx=ctx,
        )
    return report
