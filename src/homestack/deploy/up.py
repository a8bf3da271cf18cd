"""`homestack up`: networks, secrets and DATA as needed, then every service in dependency order,
each started as soon as everything it needs is healthy.

Scheduling is per service, not per wave: a service whose needs (compose depends_on,
x-homestack depends_on, its stack's depends_on gate) are all healthy is started at once with
`docker compose up -d --no-deps` through its stack's project (the stack's full file list, so
config hashes are stable); services of one stack that become ready together share one call;
calls for different stacks run in parallel threads. Health is then watched through the
Engine API (one inspect per starting container per tick), which drives the progress view.

Idempotency: before anything starts, one `config --hash '*'` per stack (in parallel) and one
container listing are compared. A service whose container carries the same config hash and
image and is healthy is left alone; when every service is, `up` says so and returns.

Failure policy: a service that exits, turns unhealthy or is not healthy within the timeout
fails `up` (exit 1) with its health-check output and last log lines. Nothing that depends on
it is started, except a service whose compose depends_on names it with `required: false`:
that one is started once it has failed, as Compose v2.40 does ("optional dependency …
failed to start", a warning). Services that do not depend on it still start, and everything
already up is left running so the failure can be inspected (`homestack logs`, `docker
inspect`); the failed container itself is left in place. With `--rollback`, every container
this run created, recreated or started is stopped and removed instead (what was already
running before is never touched).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, TypedDict

from ..catalog import Service, Site
from ..context import Context, context_for
from ..engine.backend import Backend, default_backend
from ..engine.health import POLL_S, judge
from ..engine.model import HASH_LABEL, IMAGE_LABEL, Container
from ..errors import BadInput, CommandFailed, HomestackError, OperationFailed
from ..events import EventSink, ServiceChanged
from ..resolved import Resolved
from ..serial import Serialised, entry
from . import preflight
from .data import DataChecked, check_data
from .folders import check_folder
from .projects import (
    ConfigHashes,
    Project,
    Selection,
    parallel,
    read_config_hashes,
    registry_error,
    select,
)

GOOD = ("unchanged", "healthy", "running", "completed")
BAD = ("unhealthy", "exited", "timeout", "failed", "blocked")
REMOVED = "its container was removed while it started (docker rm, or another tool)"


@dataclass
class ServiceRun(Serialised):
    """One service's progress through `up` (rendered live, returned at the end)."""

    service: str
    stack: str
    action: str = "none"  # none, create, recreate, start, wait
    state: str = "waiting"  # waiting, creating, starting, then a GOOD or BAD state
    #: seconds since it was launched (or 0 when untouched)
    elapsed: float = field(default=0.0, metadata=entry(ndigits=2))
    detail: str = ""
    blocked_by: str | None = None
    container: str | None = None
    health_log: list[str] = field(default_factory=list)
    log_tail: list[str] = field(default_factory=list)
    #: monotonic: when homestack asked for it to start
    launched_at: float | None = field(default=None, metadata=entry(omit=True))
    #: monotonic: when homestack saw it healthy/running/done
    ready_at: float | None = field(default=None, metadata=entry(omit=True))
    launched: float | None = None  # the same moments as epoch seconds, for reports
    ready: float | None = None

    @property
    def finished(self) -> bool:
        return self.state in GOOD or self.state in BAD

    def advance(self, state: str, detail: str = "") -> None:
        """The next state (and why), with the times the report shows (up and swarm up)."""
        self.state = state
        if detail:
            self.detail = detail
        if self.launched_at is not None:
            self.elapsed = time.monotonic() - self.launched_at
        if state in GOOD and self.ready_at is None:
            self.ready_at = time.monotonic()
            self.ready = time.time()


@dataclass
class UpResult(Serialised):
    DATA_EXTRA = (
        "ok",
        "changed",
        "summary",
        ("failed", lambda result: [s.service for s in result.failed]),
        ("blocked", lambda result: [s.service for s in result.blocked]),
    )
    DATA_ORDER = (
        "ok",
        "changed",
        "summary",
        "elapsed",
        "stand_in",
        "override_files",
        "networks",
        "secrets",
        "data",
        "services",
        "failed",
        "blocked",
    )

    services: list[ServiceRun]
    networks: dict[str, Any]
    secrets: dict[str, Any]
    data: dict[str, Any]
    stand_in: str | None
    override_files: list[str]
    elapsed: float = field(metadata=entry(ndigits=2))
    rolled_back: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)  # killed backups/restores undone
    #: disabled services of these stacks whose container still runs (up leaves them be)
    disabled_running: list[str] = field(default_factory=list)
    #: service → what up made again under its running container (a deleted DATA folder or
    #: secret): the container still uses the deleted one until it is restarted
    remade: dict[str, list[str]] = field(default_factory=dict)
    #: running services (left as they were) sent their `reload` signal: a config file
    #: homestack generates for them changed (Prometheus' targets when a UI is enabled …)
    reloaded: list[str] = field(default_factory=list)
    #: running services (left as they were) whose generated config changed and that have no
    #: way to take it live: `homestack restart NAME` applies it
    stale_config: list[str] = field(default_factory=list)
    #: service → the image it runs, as resolved once (not in --json; the history reads it)
    images: dict[str, str] = field(default_factory=dict, metadata=entry(omit=True))

    @property
    def failed(self) -> list[ServiceRun]:
        return [s for s in self.services if s.state in BAD and s.state != "blocked"]

    @property
    def blocked(self) -> list[ServiceRun]:
        return [s for s in self.services if s.state == "blocked"]

    @property
    def ok(self) -> bool:
        return not any(s.state in BAD for s in self.services)

    @property
    def touched(self) -> list[ServiceRun]:
        return [s for s in self.services if s.action != "none"]

    @property
    def changed(self) -> bool:
        return bool(
            self.touched
            or self.recovered
            or self.networks.get("changed")
            or self.secrets.get("changed")
            or self.data.get("changed")
        )

    def summary(self) -> str:
        if not self.changed:
            return (
                f"nothing to do: all {len(self.services)} services are up to date and healthy; "
                "no container recreated, no secret written, no network or folder created"
            )
        counts: dict[str, int] = {}
        for run in self.services:
            counts[run.state] = counts.get(run.state, 0) + 1
        parts = [f"{n} {state}" for state, n in sorted(counts.items())]
        return f"{len(self.services)} services: " + ", ".join(parts)


Listener = Callable[[ServiceRun], None]


def reporting(sink: EventSink) -> Listener:
    """What a scheduler calls on each change of a run: a ServiceChanged event to `sink`
    (up on Compose and on a swarm, and the swarm's restart, alike)."""

    def report(run: ServiceRun) -> None:
        sink(ServiceChanged(replace(run)))  # a copy: the run goes on changing

    return report


class Redactor:
    """Replaces every secret value of the selected services in text homestack prints."""

    def __init__(self, site: Site, services: list[Service]) -> None:
        self.values: list[str] = []
        for service in services:
            for spec in service.meta.secrets if service.meta else []:
                path = site.secrets_dir / f"{service.id}_{spec.name}"
                try:
                    value = path.read_text(encoding="utf-8").strip()
                except OSError:
                    continue
                if len(value) >= 4:
                    self.values.append(value)

    def __call__(self, text: str) -> str:
        for value in self.values:
            text = text.replace(value, "[secret]")
        return text


def ensure_prerequisites(
    site: Site,
    services: list[Service],
    checked: DataChecked,
    resolved: Resolved | None = None,
    backend: Backend | None = None,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[str]]:
    """Networks, secrets and DATA folders the services need (each step idempotent), once
    `checked`: DATA_ROOT, SECRETS_DIR and the owners' ids were checked (not again here);
    `resolved`: the services resolved once (their users, volumes) for every step. Last:
    the services whose generated config files were written now (created or changed).
    `backend`: the context's (default: engine.backend.default_backend())."""
    from ..generate import generate_all
    from .data import ensure_data
    from .networks import ensure_networks
    from .secrets import ensure_secrets

    networks = ensure_networks(site, services, backend=backend)
    secrets = ensure_secrets(site, services, folder_checked=True, resolved=resolved)
    data = ensure_data(site, services, checked=checked, resolved=resolved, backend=backend)
    generated = generate_all(site, services)  # configs the services mount, from the catalog
    written = sorted({f.service for f in generated.files if f.action in ("create", "update")})
    return networks.to_data(), secrets.to_data(), data.to_data(), written


def _current(
    selection: Selection, backend: Backend | None = None
) -> dict[tuple[str, str], Container]:
    """(project, service) → the container compose made for it (one Engine API call)."""
    wanted = {p.name for p in selection.projects.values()}
    found = (backend or default_backend()).containers(wanted)
    return {(c.project or "", c.service or ""): c for c in found}


def _remade(
    runs: Mapping[str, ServiceRun], secrets: Mapping[str, Any], data: Mapping[str, Any]
) -> dict[str, list[str]]:
    """Services left running (not recreated) whose DATA folder or secret up just made
    again: deleted by hand, the container keeps the deleted one (doctor's mounts check)
    until it is restarted."""
    made: dict[str, list[str]] = {}
    for row in [*secrets.get("secrets", []), *data.get("folders", [])]:
        if row.get("action") == "create":
            made.setdefault(row["service"], []).append(row["path"])
    return {
        name: paths
        for name, paths in sorted(made.items())
        if name in runs and runs[name].action in ("none", "wait") and runs[name].container
    }


def _apply_config(
    site: Site,
    configured: list[str],
    runs: Mapping[str, ServiceRun],
    backend: Backend | None = None,
) -> tuple[list[str], list[str]]:
    """(reloaded, stale): of the services whose generated config was just written, those
    whose container runs on as it was (not made or started by this run, which reads the new
    files anyway), each sent its `reload` signal, or, without one (or when the signal could
    not be sent: it stopped meanwhile), listed for a restart. A service marked
    `reload: watch` notices the change itself."""
    backend = backend or default_backend()
    wanted: dict[str, Service] = {}  # left as it was, and not one that watches its files
    for name in configured:
        run = runs.get(name)
        if run is not None and run.action not in ("none", "wait"):
            continue
        try:
            service = site.service(name)
        except HomestackError:  # a generator's service that is not in the catalog
            continue
        if (service.meta.reload if service.meta else None) != "watch":
            wanted[name] = service
    if not wanted:
        return [], []
    project_of = {name: site.project_name(site.stacks[s.stack]) for name, s in wanted.items()}
    running: dict[str, list[Container]] = {}
    for c in backend.containers(set(project_of.values())):  # one listing for all of them
        name = c.service or ""
        if name in wanted and c.project == project_of[name] and c.state == "running":
            running.setdefault(name, []).append(c)
    reloaded: list[str] = []
    stale: list[str] = []
    for name in sorted(running):
        meta = wanted[name].meta
        reload = meta.reload if meta else None
        if reload is None:
            stale.append(name)
            continue
        try:
            for container in running[name]:
                backend.signal(container.id, reload)
        except HomestackError:  # the deploy itself went well: say what is left, do not fail
            stale.append(name)
            continue
        reloaded.append(name)
    return reloaded, stale


def _disabled_running(selection: Selection, current: Mapping[tuple[str, str], Any]) -> list[str]:
    """Disabled services of the selected stacks whose container still runs: `up` starts only
    enabled ones and leaves these be; `down` removes them."""
    from .dependents import is_running

    out: list[str] = []
    for project in selection.projects.values():
        enabled = {s.id for s in project.stack.enabled}
        for name in project.stack.services:
            info = current.get((project.name, name))
            if name not in enabled and info is not None and is_running(info.state):
                out.append(name)
    return sorted(out)


def _image_ids(images: set[str], backend: Backend) -> dict[str, str | None]:
    """Local image id of each name (None when the image is not on this machine)."""
    return {image: backend.image_id(image) for image in images}


def _plan_actions(
    selection: Selection,
    hashes: Mapping[str, Mapping[str, str]],
    current: Mapping[tuple[str, str], Any],
    images: Mapping[str, str],
    image_ids: Mapping[str, str | None],
) -> dict[str, ServiceRun]:
    runs: dict[str, ServiceRun] = {}
    for service in selection.services:
        project = selection.projects[service.stack]
        run = ServiceRun(service.id, service.stack)
        info = current.get((project.name, service.id))
        oneshot = bool(service.meta and service.meta.oneshot)
        image_id = image_ids.get(images.get(service.id, ""))
        if info is None:
            run.action = "create"
        elif info.labels.get(HASH_LABEL) != hashes.get(service.stack, {}).get(service.id) or (
            image_id and info.labels.get(IMAGE_LABEL) not in (None, image_id)
        ):
            run.action = "recreate"
        elif oneshot and info.state == "exited" and info.exit_code in (0, None):
            run.action, run.state = "none", "unchanged"
        elif info.state != "running":
            run.action = "start"
        elif info.health in ("healthy", None):
            run.action, run.state = "none", "unchanged"
        else:
            run.action = "wait"
        if info is not None:
            run.container = info.id[:12]
        runs[service.id] = run
    return runs


def _check_images(
    selection: Selection,
    runs: Mapping[str, ServiceRun],
    images: Mapping[str, str],
    command: Sequence[str] | None,
    backend: Backend,
) -> None:
    """Every image a container will be made from is here, or is pulled now; else say which."""
    needed = {
        name: images[name]
        for name, run in runs.items()
        if run.action in ("create", "recreate") and images.get(name)
    }
    ids = _image_ids(set(needed.values()), backend)
    missing = {name: image for name, image in needed.items() if ids.get(image) is None}
    if not missing:
        return
    by_stack: dict[str, list[str]] = {}
    for name in missing:
        by_stack.setdefault(selection.graph.services[name].stack, []).append(name)
    for stack_id, names in by_stack.items():
        project = selection.projects[stack_id]
        pulled = backend.pull(project, names, timeout=900)
        if not pulled.ok:
            wanted = sorted({f"{missing[n]} (service {n})" for n in names})
            raise registry_error(wanted, pulled.output, standin_hint=True, command=command)


@dataclass(eq=False)
class RunScheduler:
    """What a scheduler of `up` keeps, on Compose (here) or on a swarm (swarm.ops): the
    selection, each service's run, the redactor, the listener told of each change of a run,
    and the health timeout."""

    selection: Selection
    runs: dict[str, ServiceRun]
    redact: Redactor
    listener: Listener
    timeout: float

    def _set(self, run: ServiceRun, state: str, detail: str = "") -> None:
        run.advance(state, detail)
        self.listener(run)


@dataclass(eq=False)
class _Scheduler(RunScheduler):
    backend: Backend = field(default_factory=default_backend)

    def __post_init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=8)
        # precreation and services nothing waits for: few compose processes at a time, so
        # they do not slow the start of what others wait for
        self.background = ThreadPoolExecutor(max_workers=2)
        self.depth = _depths(self.selection.graph.needs)
        self.calls: dict[Future[Any], list[str]] = {}
        self.precreated: set[str] = set()
        self.to_create: dict[str, list[str]] = {}
        self.creating: dict[str, Future[Any]] = {}
        self.events = self.backend.events()  # what wakes the loop (engine.health)
        self.polled = 0.0
        projects = self.selection.projects
        self.by_key = {(projects[r.stack].name, name): r for name, r in self.runs.items()}

    def _compose_up(self, project: Project, names: list[str]) -> None:
        self.backend.up(project, names)

    def _start(self, container: str) -> None:
        """Start a container compose already created (`up --no-start`): one Engine API call
        instead of a compose run, so a service starts the moment its needs are healthy."""
        self.backend.start_container(container)

    def _done_with(self, name: str, need: str) -> bool:
        """`need` no longer holds `name` back: it is up, or it failed and `name` depends on
        it with `required: false` (Compose v2.40 then starts `name` anyway, with a warning)."""
        state = self.runs[need].state
        return state in GOOD or (
            state in BAD and need in self.selection.graph.optional.get(name, set())
        )

    def _ready(self, name: str) -> bool:
        needs = self.selection.graph.needs.get(name, set())
        return all(self._done_with(name, n) for n in needs if n in self.runs)

    def precreate(self) -> None:
        """Create (not start) in the background every service that has no container yet and
        must wait for others: one compose call per stack, stacks in parallel. Starting each
        later costs one API call. Services ready at once go straight to `compose up`."""
        for name, run in self.runs.items():
            if run.action == "create" and not self._ready(name):
                self.to_create.setdefault(run.stack, []).append(name)
        urgency = {k: max(self.depth[n] for n in v) for k, v in self.to_create.items()}
        for stack_id in sorted(self.to_create, key=lambda k: -urgency[k]):
            project = self.selection.projects[stack_id]
            names = self.to_create[stack_id]
            self.creating[stack_id] = self.background.submit(self.backend.create, project, names)

    def _collect_precreated(self) -> None:
        done = [stack_id for stack_id, future in self.creating.items() if future.done()]
        if not done:
            return
        rows = _current(self.selection, self.backend)
        for stack_id in done:
            future = self.creating.pop(stack_id)
            if future.exception() is not None:
                continue  # the compose up at start time reports what went wrong
            project = self.selection.projects[stack_id]
            for name in self.to_create[stack_id]:
                info = rows.get((project.name, name))
                if info is not None and info.state == "created":
                    self.runs[name].container = info.id[:12]
                    self.precreated.add(name)

    def _take_events(self) -> bool:
        """Apply `healthy` events at once (no listing); True when something else happened
        that needs a look (a container died or turned unhealthy)."""
        look = False
        for event in self.events.take():
            run = self.by_key.get(event.key)
            if run is None or run.state != "starting":
                continue
            if event.healthy:
                run.container = event.id[:12] or run.container
                self._set(run, "healthy")
            elif event.status != "start":
                look = True
        return look

    def discard_unstarted(self) -> None:
        """Remove containers made ahead that never started (their needs failed)."""
        unstarted: dict[str, list[str]] = {}
        for name in self.precreated:
            if self.runs[name].state == "blocked":
                unstarted.setdefault(self.runs[name].stack, []).append(name)
        for stack_id, names in unstarted.items():
            self.backend.remove(self.selection.projects[stack_id], names, check=False)

    def _launch_ready(self) -> None:
        graph = self.selection.graph
        ready: dict[str, list[str]] = {}
        for name, run in self.runs.items():
            if run.state != "waiting":
                continue
            needs = sorted(n for n in graph.needs.get(name, set()) if n in self.runs)
            optional = graph.optional.get(name, set())
            bad = [n for n in needs if self.runs[n].state in BAD and n not in optional]
            if bad:
                run.blocked_by = bad[0]
                self._set(run, "blocked", f"not started: {bad[0]} failed")
                continue
            held = run.stack in self.creating and name in self.to_create[run.stack]
            if not held and self._ready(name):
                skipped = [n for n in needs if self.runs[n].state in BAD]
                if skipped:
                    run.detail = (
                        f"started without {', '.join(skipped)}, which failed "
                        "(depends_on required: false)"
                    )
                ready.setdefault(run.stack, []).append(name)
        for stack_id, names in ready.items():
            project = self.selection.projects[stack_id]
            leaves: list[str] = []
            for name in sorted(names, key=lambda n: -self.depth[n]):
                run = self.runs[name]
                run.launched_at = time.monotonic()
                run.launched = time.time()
                self._set(run, "creating")
                if name in self.precreated and run.container:
                    self.calls[self.pool.submit(self._start, run.container)] = [name]
                elif self.depth[name] > 0:  # others wait for it: its own call, right now
                    self.calls[self.pool.submit(self._compose_up, project, [name])] = [name]
                else:
                    leaves.append(name)
            if leaves:  # nothing waits for these: one call per stack, behind urgent work
                self.calls[self.background.submit(self._compose_up, project, leaves)] = leaves

    def _collect_calls(self) -> None:
        for future in [f for f in self.calls if f.done()]:
            names = self.calls.pop(future)
            error = future.exception()
            for name in names:
                run = self.runs[name]
                if error is None:
                    self._set(run, "starting")
                    continue
                message = error.message if isinstance(error, HomestackError) else str(error)
                if isinstance(error, CommandFailed):
                    tail = error.stderr.strip().splitlines()[-6:]
                    message = "docker compose up failed: " + " | ".join(tail)
                self._set(run, "failed", self.redact(message))

    def _watch(self) -> None:
        """One container listing per tick; an inspect only for a container that changed to
        something other than starting/healthy (to read its exit code and health log)."""
        starting = [r for r in self.runs.values() if r.state == "starting"]
        if not starting:
            return
        rows = _current(self.selection, self.backend)
        for run in starting:
            project = self.selection.projects[run.stack]
            row = rows.get((project.name, run.service))
            if row is None:  # it was started, so its container existed: removed behind us
                self._set(run, "failed", REMOVED)
                continue
            run.container = row.id[:12]
            if row.state == "running" and row.health == "healthy":
                self._set(run, "healthy")
            elif (row.state == "running" and row.health == "starting") or row.state == "created":
                over = time.monotonic() - (run.launched_at or 0.0) > self.timeout
                self._tick_timeout(run, self.backend.inspect(row.id) if over else None)
            else:
                box = self.backend.inspect(row.id)
                if box is None:
                    self._set(run, "failed", REMOVED)
                else:
                    self._classify(run, box)

    def _classify(self, run: ServiceRun, box: Container) -> None:
        meta = self.selection.graph.services[run.service].meta
        verdict = judge(box, oneshot=bool(meta and meta.oneshot))
        if verdict is None:
            self._tick_timeout(run, box)
        elif verdict.ok:
            self._set(run, verdict.state)
        else:
            self._fail(run, box, verdict.state, verdict.detail)

    def _tick_timeout(self, run: ServiceRun, box: Container | None = None) -> None:
        run.elapsed = time.monotonic() - (run.launched_at or time.monotonic())
        if run.elapsed > self.timeout:
            if box is not None:
                self._fail(run, box, "timeout", f"not healthy after {self.timeout:g}s")
            else:
                self._set(run, "timeout", f"no container after {self.timeout:g}s")
        else:
            self.listener(run)

    def _fail(self, run: ServiceRun, box: Container, state: str, detail: str) -> None:
        run.health_log = [self.redact(o) for o in box.health_log[-3:] if o]
        logs = self.backend.logs(box.id, tail=20)
        run.log_tail = [self.redact(line) for line in logs.splitlines()[-20:]]
        self._set(run, state, detail)

    def run(self) -> None:
        self.events.start()
        try:
            self.precreate()
            while True:
                self._collect_precreated()
                self._collect_calls()
                if self._take_events() or time.monotonic() - self.polled >= POLL_S:
                    self.polled = time.monotonic()
                    self._watch()
                self._launch_ready()
                if (
                    all(r.finished for r in self.runs.values())
                    and not self.calls
                    and not self.creating
                ):
                    break
                self.events.wait(POLL_S)
        finally:
            self.events.close()
            self.pool.shutdown(wait=True)
            self.background.shutdown(wait=True)
        self.discard_unstarted()


def _checked_hashes(project: Project, backend: Backend) -> ConfigHashes:
    try:
        return read_config_hashes(project, backend)
    except CommandFailed as error:
        raise preflight.compose_refused(project, error) from None


def _all_hashes(projects: Mapping[str, Project], backend: Backend) -> dict[str, dict[str, str]]:
    """Compose's config hashes of every stack (one process per stack, in parallel, unless
    cached); remembered only once Compose accepted every stack: a refusal writes nothing."""
    found = parallel(projects, lambda project: _checked_hashes(project, backend))
    for hashes in found.values():
        hashes.remember()
    return {stack_id: hashes.hashes for stack_id, hashes in found.items()}


def standin_overrides(
    site: Site, selection: Selection, image: str | None, delays: Mapping[str, float] | None
) -> list[str]:
    """With a stand-in image: each project's override file (written, and added to the
    project's files) putting it in place of every chosen service's image (up, swarm up)."""
    from . import standin as standin_mod

    overrides: list[str] = []
    if image is not None:
        for project in selection.projects.values():
            chosen = project.services or project.stack.enabled
            text = standin_mod.override_text(
                site, project.stack, chosen, image, delays, selection.resolved
            )
            path = standin_mod.write_override(site, project.stack, text)
            project.extra_files = (path,)
            overrides.append(str(path))
    return overrides


def _depths(needs: Mapping[str, set[str]]) -> dict[str, int]:
    """For each service, the longest chain of services that wait for it (0: none do)."""
    dependents: dict[str, set[str]] = {name: set() for name in needs}
    for name, wanted in needs.items():
        for dep in wanted:
            dependents.setdefault(dep, set()).add(name)
    depth: dict[str, int] = {}

    def walk(name: str) -> int:
        if name not in depth:
            depth[name] = 1 + max((walk(d) for d in dependents[name]), default=-1)
        return depth[name]

    for name in dependents:
        walk(name)
    return depth


class UpOptions(TypedDict, total=False):
    """How `up` runs, as api.up takes them (keywords; left out: deploy.up's defaults)."""

    stand_in: str | None  # an image standing in for every chosen service: a rehearsal
    delays: Mapping[str, float] | None  # a stand-in's seconds before it turns healthy
    rollback: bool  # on failure, remove the containers this run started
    timeout: float  # seconds for the whole run


def up(
    site: Site,
    names: list[str] | None = None,
    *,
    stand_in: str | None = None,
    delays: Mapping[str, float] | None = None,
    rollback: bool = False,
    timeout: float = 300.0,
    record: bool = True,
    ctx: Context | None = None,
) -> UpResult:
    """Bring the selected services (and what they need) up, healthy, in dependency order;
    one deploy at a time per site, never while a backup holds a service stopped. Each
    service's change of state goes to `ctx.sink` (ServiceChanged), as it happens.
    `ctx.up_hooks` (update.hooks) run first and after (`record`: without a stand-in)."""
    ctx = context_for(site, ctx)
    hooks = ctx.up_hooks
    converged: list[str] = []
    if hooks is not None:
        site, converged = hooks.before_up(site)  # an update killed -9 is undone first
    with ctx.lock.hold("up"):
        result = _up(
            site,
            names,
            stand_in=stand_in,
            delays=delays,
            rollback=rollback,
            timeout=timeout,
            listener=reporting(ctx.sink),
            command=ctx.command,
            backend=ctx.engine(),
        )
    result.recovered += converged
    if hooks is not None and record and stand_in is None:
        hooks.after_up(site, result)  # history.jsonl: each service deployed healthy
    return result


def _up(
    site: Site,
    names: list[str] | None,
    *,
    stand_in: str | None,
    delays: Mapping[str, float] | None,
    rollback: bool,
    timeout: float,
    listener: Listener,
    command: Sequence[str] | None = None,
    backend: Backend | None = None,
) -> UpResult:
    from ..generate import generate_all
    from . import standin as standin_mod

    backend = backend or default_backend()
    started = time.monotonic()
    if math.isnan(timeout):  # no elapsed time is ever "over" NaN: up would never end
        raise BadInput("--timeout must be a number of seconds, not nan", "E.g. --timeout 300.")
    selection = select(site, names)
    # what Compose would refuse, and folders that cannot be, before anything is written
    preflight.check_projects(selection.projects.values())
    # PUID/PGID, DATA_ROOT and each container's uid:gid (ids chown can use); SECRETS_DIR
    resolved = selection.resolved
    checked = check_data(site, selection.services, resolved)
    check_folder(site, site.secrets_dir, "SECRETS_DIR")
    # the generated configs rendered, not written: a setting they cannot use (DOMAIN) is bad
    # input now, not after secrets and folders were made
    generate_all(site, selection.services, dry_run=True)
    if stand_in is not None:
        standin_mod.check_image(stand_in)
        # Compose checks the stacks' own files (remembered as a plain `up` does) before the
        # stand-in image is built and its override written: nothing is made for files it
        # refuses
        _all_hashes(selection.projects, backend)
    image = standin_mod.resolve_image(stand_in) if stand_in is not None else None
    overrides = standin_overrides(site, selection, image, delays)
    services = selection.services
    with ThreadPoolExecutor(max_workers=1) as side:
        # Compose's hashes (one process per stack, remembered while the files do not change)
        # double as its check of the files: a refusal is bad input before any secret, folder
        # or network is made
        hashing = side.submit(_all_hashes, selection.projects, backend)
        if _interrupted(site, services):  # rare: recover only once Compose took the files
            hashing.result()  # (a refusal is raised here, before recovery changes anything)
        recovered = _recover_interrupted(site, services)
        current = _current(selection, backend)
        hashes = hashing.result()
    networks, secrets, data, configured = ensure_prerequisites(
        site, services, checked, resolved, backend
    )
    if image is not None:
        images = {s.id: image for s in services}
    else:  # as resolved once for the selection
        images = {s.id: standin_mod.image_of(s, resolved=resolved) for s in services}
        from ..update.lockfile import honour_lock

        honour_lock(site, services, images)  # homestack.lock: the locked digests, not the tags
    running = {
        images[s.id] for s in services if (selection.projects[s.stack].name, s.id) in current
    }
    runs = _ports_free(
        site,
        _plan_actions(selection, hashes, current, images, _image_ids(running, backend)),
        resolved,
        backend,
    )
    redact = Redactor(site, services)
    for run in runs.values():
        listener(run)
    if any(r.action != "none" for r in runs.values()):
        _check_images(selection, runs, images, command, backend)
        scheduler = _Scheduler(selection, runs, redact, listener, timeout, backend)
        scheduler.run()
    result = UpResult(
        list(runs.values()),
        networks,
        secrets,
        data,
        image,
        overrides,
        time.monotonic() - started,
        images=images,
    )
    result.recovered = recovered
    result.disabled_running = _disabled_running(selection, current)
    result.remade = _remade(runs, secrets, data)
    if image is None:  # a rehearsal's stand-ins read no config
        result.reloaded, result.stale_config = _apply_config(site, configured, runs, backend)
    if rollback and not result.ok:
        result.rolled_back = _rollback(selection, result, backend)
    return result


def _ports_free(
    site: Site,
    runs: dict[str, ServiceRun],
    resolved: Resolved | None = None,
    backend: Backend | None = None,
) -> dict[str, ServiceRun]:
    """The runs, once the host ports of what they (re)create or start are free: a host port
    another process or container holds made Compose fail half-way ("address already in
    use") after it had removed the healthy container it was replacing. Refuse first,
    naming the holder, as doctor does."""
    _check_host_ports(site, [site.service(name) for name in runs], runs, resolved, backend)
    return runs


def _check_host_ports(
    site: Site,
    services: list[Service],
    runs: Mapping[str, ServiceRun],
    resolved: Resolved | None = None,
    backend: Backend | None = None,
) -> None:
    """Raise when a host port of what will be (re)created or started is taken."""
    acting = [s for s in services if runs[s.id].action in ("create", "recreate", "start")]
    if not any(s.compose.get("ports") for s in acting):
        return
    from ..observe.doctor_net import check_ports

    backend = backend or default_backend()
    taken = [c for c in check_ports(site, acting, backend, resolved) if c.status == "fail"]
    if not taken:
        return
    first = taken[0].name.removeprefix("ports ")
    raise OperationFailed(
        "host ports are not free, so nothing was (re)created or started: "
        + "; ".join(f"{c.name.removeprefix('ports ')}: {c.detail}" for c in taken),
        " ".join(dict.fromkeys(c.fix for c in taken if c.fix)) + " Then run `homestack up` again.",
        service=first,
    )


def _interrupted(site: Site, services: list[Service]) -> list[Service]:
    """The services a killed backup or restore left a journal for."""
    from ..backup_record import state_dir

    folder = state_dir(site)
    return [s for s in services if (folder / f"{s.id}.journal.json").exists()]


def _recover_interrupted(site: Site, services: list[Service]) -> list[str]:
    """A backup or restore killed -9 leaves a journal: its service stopped, a restore half
    swapped in. Put that back before starting the service on it: a later backup's recovery
    would otherwise stop the service and drop what it wrote on a half-restored copy."""
    from ..backup_record import state_dir

    folder = state_dir(site)
    pending = _interrupted(site, services)
    if not pending:
        return []
    from ..backup.lock import ServiceBusy, ServiceLock
    from ..backup.recover import recover

    done: list[str] = []
    for service in pending:
        try:
            with ServiceLock(folder, service.id, "up"):
                done += [f"{service.id}: {line}" for line in recover(site, service)]
        except ServiceBusy:
            continue  # its backup is alive and puts things back itself
    return done


def _rollback(selection: Selection, result: UpResult, backend: Backend) -> list[str]:
    """Stop and remove what this run created, recreated or started (dependents first)."""
    from .down import remove_services

    mine = [s.service for s in result.services if s.action in ("create", "recreate", "start")]
    remove_services(selection, mine, backend)
    return mine


def raise_for(result: UpResult) -> None:
    """The error `up` ends with when a service failed (the CLI prints the result first)."""
    if result.ok:
        return
    first = result.failed[0] if result.failed else result.blocked[0]
    if first.detail == REMOVED:
        raise OperationFailed(
            f"{first.service} ({first.stack}): {first.detail}",
            "Run `homestack up` again to create it; check that no other tool (a cleanup "
            "script, Watchtower, Portainer) removes homestack's containers.",
            service=first.service,
        )
    raise OperationFailed(
        f"{first.service} ({first.stack}) {first.state}: {first.detail}",
        "See its health-check output and log lines above; `homestack logs "
        f"{first.service}` shows more. What came up is left running"
        + (
            "; this run's containers were removed (--rollback)."
            if result.rolled_back
            else " (use `homestack up --rollback` to remove what a failed run started)."
        ),
        service=first.service,
    )
