"""`homestack down`, `restart` and `pull`.

down stops and removes containers in reverse dependency order (dependents first; stacks of
one wave in parallel). Named volumes are kept unless `volumes=True`; even then the folders
under DATA/ stay on disk: our volumes are bind mounts of DATA/{service}, so removing a volume
never deletes data. The seed networks are external and shared, so down never removes them.

`down STACK|SERVICE…` also takes down the running services, in any stack, that need what
it removes (directly or through others: compose depends_on, x-homestack depends_on,
stack.yaml depends_on), as `docker compose stop X` stops X's dependents. They go first and
are treated like the named services (container stopped and removed) except that their
volumes are always kept. With `dependents=False` it refuses instead (BadInput) and changes
nothing. `down` of everything has nothing else to find.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog import STACK_SUFFIX, Site
from ..context import Context, context_for
from ..engine.backend import Backend, default_backend
from ..engine.compose import Action
from ..engine.health import Watched
from ..errors import BadInput, CommandFailed, OperationFailed
from ..events import WaveDone
from ..plan import build_graph
from ..serial import Serialised, entry
from . import preflight
from .dependents import Dependent, find_dependents, is_running, order_within
from .projects import (
    Project,
    Selection,
    parallel,
    pull_error,
    pull_failure,
    select,
)
from .standin import image_of

REFUSAL_LINES = 15  # dependents named in a refusal before "… and N more"


@dataclass
class DownResult(Serialised):
    DATA_ORDER = ("removed", "stacks", "dependents", "volumes_removed")

    removed: list[str]  # named services that had a container, now stopped and removed
    stacks: list[str]  # whole stacks taken down (orphans included)
    volumes_removed: bool
    elapsed: float = field(metadata=entry(ndigits=2))
    left: list[str] = field(default_factory=list)  # containers still there afterwards
    dependents: list[Dependent] = field(default_factory=list)  # taken down first
    #: containers of the whole stacks that no service file describes (a service renamed or
    #: deleted since it ran), removed with their stack
    orphans: list[str] = field(default_factory=list)


@dataclass
class DownPlan:
    """What `down` acts on, read before anything changes."""

    names: list[str] | None
    targets: list[str]  # services: the named ones and every enabled one of a named stack
    whole: list[str]  # stacks named whole (all of them when no name is given)
    dependents: list[Dependent] = field(default_factory=list)
    needs: dict[str, set[str]] = field(default_factory=dict)  # enabled graph: removal order


def plan_down(
    site: Site, names: list[str] | None = None, *, backend: Backend | None = None
) -> DownPlan:
    """Resolve STACK|SERVICE… and find the running services elsewhere that need them. Only
    the stacks that go down must be readable: a broken file elsewhere does not block it.
    `backend` answers which of them run (default: engine.backend.default_backend())."""
    if not names:
        site.require_valid()
        everything = [s.id for s in site.services(enabled_only=True)]
        return DownPlan(None, everything, list(site.stacks))
    targets: list[str] = []
    whole: list[str] = []
    for name in names:
        key = name.removesuffix(STACK_SUFFIX)
        if key in site.stacks:
            whole.append(key)
            targets += [s.id for s in site.stacks[key].enabled]
        else:
            targets.append(site.service(name).id)
    targets = list(dict.fromkeys(targets))
    site.require_valid({*whole, *(site.service(t).stack for t in targets)})
    graph = build_graph(site)
    candidates = find_dependents(graph, targets, graph.services)
    if candidates:  # only then ask the engine which of them run
        running = _running(site, {d.stack for d in candidates}, backend or default_backend())
        candidates = [d for d in candidates if d.service in running]
    return DownPlan(list(names), targets, whole, candidates, graph.needs)


def _running(
    site: Site, stacks: set[str], backend: Backend, *, any_state: bool = False
) -> set[str]:
    """Services of these stacks that have a running (or paused, restarting) container;
    with any_state, a container in any state."""
    projects = {site.project_name(site.stacks[s]) for s in stacks}
    return {
        c.service or ""
        for c in backend.containers(projects, oneoffs=True)
        if any_state or is_running(c.state)
    }


def _orphans(site: Site, stacks: list[str], backend: Backend) -> list[str]:
    """Containers of these stacks' projects that no service file describes (a service
    renamed or deleted since it ran): `down` of the whole stack removes them too."""
    if not stacks:
        return []
    projects = {site.project_name(site.stacks[s]): site.stacks[s] for s in stacks}
    found: set[str] = set()
    for container in backend.containers(projects, oneoffs=True):
        stack = projects.get(container.project or "")
        service = container.service or ""
        if stack is not None and service and service not in stack.services:
            found.add(service)
    return sorted(found)


def refusal(plan: DownPlan) -> BadInput:
    """The one-screen error of `down --no-dependents` when something running needs it."""
    what = " ".join(plan.names or [])
    count = len(plan.dependents)
    lines = [d.reason() for d in plan.dependents[:REFUSAL_LINES]]
    if count > REFUSAL_LINES:
        lines.append(f"… and {count - REFUSAL_LINES} more")
    ids = " ".join(d.service for d in plan.dependents)
    return BadInput(
        f"`down {what}` would leave {count} running service{'s' if count != 1 else ''} "
        "without something they need:\n  " + "\n  ".join(lines),
        "Drop --no-dependents to stop and remove them first (their volumes are kept), or "
        f"take them down yourself first: `homestack down {ids}`. Afterwards "
        f"`homestack up {ids}` brings them back with everything they need.",
    )


def remove_services(
    selection: Selection, names: list[str], backend: Backend, *, volumes: bool = False
) -> None:
    """Stop and remove these services' containers, dependents first, per stack in parallel."""
    wanted = set(names)
    for wave in reversed(selection.order):
        batch: dict[str, list[str]] = {}
        for name in wave:
            if name in wanted:
                batch.setdefault(selection.graph.services[name].stack, []).append(name)
        if not batch:
            continue

        def stop(item: tuple[str, list[str]]) -> None:
            stack_id, services = item
            backend.remove(selection.projects[stack_id], services, stop=True, volumes=volumes)

        parallel({k: (k, v) for k, v in batch.items()}, stop)


def down(
    site: Site,
    names: list[str] | None = None,
    *,
    volumes: bool = False,
    dependents: bool = True,
    plan: DownPlan | None = None,
    ctx: Context | None = None,
) -> DownResult:
    """Take services (or whole stacks, orphans included) down, dependents first: also the
    running services elsewhere that need them (or, with dependents=False, refuse)."""
    ctx = context_for(site, ctx)
    with ctx.lock.hold("down"):
        return _down(site, names, volumes=volumes, dependents=dependents, plan=plan, ctx=ctx)


def _down(
    site: Site,
    names: list[str] | None,
    *,
    volumes: bool,
    dependents: bool,
    plan: DownPlan | None,
    ctx: Context,
) -> DownResult:
    started = ctx.clock.monotonic()
    backend = ctx.engine()
    plan = plan or plan_down(site, names, backend=backend)
    if plan.dependents and not dependents:
        raise refusal(plan)
    extra = [d.service for d in plan.dependents]
    # Compose reads every file of a stack taken down whole (disabled ones too): one it would
    # refuse is bad input now, before anything is stopped
    preflight.check_service_files(s for w in plan.whole for s in site.stacks[w].services.values())
    if names and not plan.targets + extra:  # only stacks with nothing enabled
        _down_stacks(site, plan.whole, volumes, backend)
        return DownResult([], plan.whole, volumes, ctx.clock.monotonic() - started)
    chosen = [*plan.targets, *extra] if names else None
    selection = select(site, chosen, with_dependencies=False, overlays=False)
    # the files of a stack taken down whole were all checked above
    preflight.check_projects(p for p in selection.projects.values() if p.stack.id not in plan.whole)
    if extra:  # dependents may need a target only through services that are not running
        selection.order = order_within(plan.needs, selection.graph.needs)
    services = [s.id for s in selection.services if s.id not in set(extra)]
    # what had a container, so the result counts what was removed, not what was asked
    present = _running(site, {s.stack for s in selection.services}, backend, any_state=True)
    orphans = _orphans(site, plan.whole, backend)
    remove_services(selection, extra, backend)  # dependents first, their volumes kept
    if extra:
        ctx.sink(WaveDone("down", tuple(extra)))
    remove_services(selection, services, backend, volumes=volumes)
    ctx.sink(WaveDone("down", tuple(services)))
    _down_stacks(site, plan.whole, volumes, backend)
    left = _left(selection, [*services, *extra], backend)
    removed = [s for s in services if s in present]
    elapsed = ctx.clock.monotonic() - started
    return DownResult(removed, plan.whole, volumes, elapsed, left, plan.dependents, orphans)


def _down_stacks(site: Site, stacks: list[str], volumes: bool, backend: Backend) -> None:
    """A whole stack: also the containers of services no longer enabled and, with volumes,
    every named volume. Compose is given every service file of the stack, disabled ones
    too, since it removes only the volumes of the files it reads (orphans' stay)."""
    projects = {
        s: Project(site, site.stacks[s], list(site.stacks[s].services.values()))
        for s in stacks
        if site.stacks[s].services
    }
    parallel(projects, lambda project: backend.down(project, volumes=volumes))


def _left(selection: Selection, services: list[str], backend: Backend) -> list[str]:
    projects = {p.name for p in selection.projects.values()}
    wanted = set(services)
    return [c.name for c in backend.containers(projects, oneoffs=True) if c.service in wanted]


@dataclass
class RestartResult(Serialised):
    restarted: list[str]
    elapsed: float = field(metadata=entry(ndigits=2))


def restart(
    site: Site,
    names: list[str] | None = None,
    *,
    timeout: float = 300,
    ctx: Context | None = None,
) -> RestartResult:
    """Restart existing containers in dependency order: a wave is restarted only once the
    wave before it is running and healthy again (as `up` gates a first start); a oneshot
    job runs again and counts once it exits 0."""
    ctx = context_for(site, ctx)
    with ctx.lock.hold("restart"):
        return _restart(site, names, timeout=timeout, ctx=ctx)


def _restart(site: Site, names: list[str] | None, *, timeout: float, ctx: Context) -> RestartResult:
    started = ctx.clock.monotonic()
    selection = select(site, names, with_dependencies=False, overlays=False)
    preflight.check_projects(selection.projects.values())
    # compose restarts nothing where there is no container: refuse before anything restarts,
    # rather than wait out the health timeout for a container that will never appear
    require_containers(
        site,
        selection,
        "restart",
        "Start",
        ", or name only the services to restart." if names is None else ".",
        backend=ctx.engine(),
    )
    done = run_in_waves(site, selection, "restart", timeout=timeout, ctx=ctx)
    return RestartResult(done, ctx.clock.monotonic() - started)


def require_containers(
    site: Site, selection: Selection, verb: str, fix: str, then: str = ".", *, backend: Backend
) -> None:
    """Refuse, before anything is done, a chosen service that has no container: `verb`
    (restart, start) names what was not done, `fix` (Start, Create) what `up` would do."""
    present = _running(site, {s.stack for s in selection.services}, backend, any_state=True)
    missing = [s.id for s in selection.services if s.id not in present]
    if missing:
        raise OperationFailed(
            f"cannot {verb} {', '.join(missing)}: no container (never started, or taken "
            f"down); nothing was {verb}ed",
            f"{fix} {'it' if len(missing) == 1 else 'them'} with "
            f"`homestack up {' '.join(missing)}`{then}",
        )


def run_in_waves(
    site: Site,
    selection: Selection,
    command: Action,
    *,
    timeout: float | None = None,
    ctx: Context | None = None,
) -> list[str]:
    """Run the Compose `command` (restart, start, stop) over the selection one dependency wave
    at a time, each wave's stacks in parallel. With a timeout (restart, start) a wave is done
    once each of its services is healthy again, or, for a oneshot job, has exited 0; without
    one (stop) the waves go in reverse order, dependents first. Returns the services in the
    order they were acted on; each wave done is a WaveDone event to `ctx.sink`."""
    ctx = context_for(site, ctx)
    backend = ctx.engine()
    order = selection.order if timeout is not None else list(reversed(selection.order))
    done: list[str] = []
    for wave in order:
        batch: dict[str, list[str]] = {}
        for name in wave:
            batch.setdefault(selection.graph.services[name].stack, []).append(name)
        parallel(
            {k: (k, v) for k, v in batch.items()},
            lambda item: backend.act(selection.projects[item[0]], command, item[1]),
        )
        if timeout is not None:
            _settle(backend, selection, wave, timeout)
        ctx.sink(WaveDone(command, tuple(wave)))
        done += wave
    return done


def _settle(backend: Backend, selection: Selection, wave: list[str], timeout: float) -> None:
    """Each service of the wave healthy again (a oneshot job: exited 0), or the first one
    that is not, as an error."""
    services = [selection.graph.services[name] for name in wave]
    watched = [
        Watched(selection.projects[s.stack].name, s.id, oneshot=bool(s.meta and s.meta.oneshot))
        for s in services
    ]
    verdicts = backend.wait_healthy(watched, timeout)
    for service, key in zip(services, watched, strict=True):
        verdict = verdicts[key.key]
        if verdict.ok:
            continue
        if key.oneshot and verdict.state == "timeout":
            raise OperationFailed(
                f"{service.id} (a oneshot job) did not finish within {timeout:.0f}s of the restart",
                f"`homestack logs {service.id}` shows where it is.",
                service=service.id,
            )
        if key.oneshot:
            code = verdict.container.exit_code if verdict.container else None
            raise OperationFailed(
                f"{service.id} (a oneshot job) exited {code} after the restart",
                f"`homestack logs {service.id}` says why.",
                service=service.id,
            )
        raise verdict.error(service.id)


#: images pulled at the same time (one `docker compose pull` each)
PULL_JOBS = 4


@dataclass(frozen=True)
class PullFailure(Serialised):
    stack: str
    services: list[str]  # the services of that stack that run the image
    image: str
    reason: str


@dataclass
class PullResult(Serialised):
    pulled: dict[str, list[str]]  # stack → services whose image was pulled
    failed: list[PullFailure] = field(default_factory=list)

    def error(self) -> OperationFailed | None:
        """Every image that could not be pulled, named with its services; None when none."""
        if not self.failed:
            return None
        return pull_error(
            [
                (f"{f.image or '?'} ({f.stack}: {', '.join(f.services)})", f.reason)
                for f in self.failed
            ],
            standin_hint=False,
        )


def pull(site: Site, names: list[str] | None = None) -> PullResult:
    """Pull the images of the selected services, each image once, several at a time. An
    image that cannot be pulled stops nothing else: the result names each one and why."""
    selection = select(site, names, with_dependencies=False)
    from ..engine.backend import default_backend

    default_backend().ping()  # the engine pulls: with none answering, say that, not "no registry"
    chosen = {
        stack_id: [s.id for s in selection.services if s.stack == stack_id]
        for stack_id in site.stacks  # the site's order
        if stack_id in selection.projects
    }
    images_of = parallel(  # one `compose config` per stack, at the same time
        {stack_id: stack_id for stack_id in chosen},
        lambda stack_id: _images(site, selection.projects[stack_id], selection, chosen[stack_id]),
        PULL_JOBS,
    )
    jobs: dict[tuple[str, str], tuple[Project, list[str]]] = {}  # (stack, image) → services
    for stack_id, services in chosen.items():
        project, images = selection.projects[stack_id], images_of[stack_id]
        for service in services:
            key = (stack_id, images[service] or f"service {service}")
            jobs.setdefault(key, (project, []))[1].append(service)

    from ..update.lockfile import locked_images, pull_pinned

    locked = locked_images(site, selection.services)  # homestack.lock: pull by digest

    def one(job: tuple[Project, list[str]]) -> str | None:
        """None when pulled, else the reason it was not."""
        project, services = job
        if services[0] in locked:
            try:
                pull_pinned(*locked[services[0]])
            except CommandFailed as failed:
                return pull_failure(failed.stderr)
            return None
        try:  # one service of the image: compose pulls an image once for all of them
            pulled = default_backend().pull(project, services[:1], timeout=3600)
        except CommandFailed as failed:  # compose itself could not run (timeout)
            return pull_failure(failed.stderr)
        return None if pulled.ok else pull_failure(pulled.output)

    reasons = parallel(jobs, one, PULL_JOBS)
    result = PullResult({})
    for (stack_id, image), (_, services) in jobs.items():
        reason = reasons[(stack_id, image)]
        if reason is None:
            result.pulled.setdefault(stack_id, []).extend(services)
        else:
            shown = "" if image.startswith("service ") else image
            result.failed.append(PullFailure(stack_id, services, shown, reason))
    return result


def _images(
    site: Site, project: Project, selection: Selection, services: list[str]
) -> dict[str, str]:
    """service → the image compose pulls for it, overlays and settings applied; from the
    files alone when compose cannot read them (its pull then says why)."""
    try:
        config = project.config().get("services") or {}
    except CommandFailed:
        config = {}
    images: dict[str, str] = {}
    for name in services:
        image = str((config.get(name) or {}).get("image") or "")
        if not image:  # as resolved once for the selection
            image = image_of(selection.graph.services[name], resolved=selection.resolved)
        images[name] = image
    return images
