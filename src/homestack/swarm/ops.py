"""`up`, `down` and `status` on a swarm, with what `docker stack deploy` lacks.

`up`: the same selection, secrets, DATA and generated configs as in compose mode; the seed
networks as attachable overlays; each stack merged by Compose (`config --format json`, the
stand-in override included) and translated (`translate`); placements checked against the
nodes before anything is deployed. Then each service is deployed (`docker stack deploy` of
a file holding only the services whose needs are healthy) and gated on its task: a swarm
task stays `starting` until its health check passes, so `running` means healthy. A task
that fails (exit, unhealthy) fails `up` with its error and last log lines; nothing that
needs it is deployed. The result is the compose `UpResult`, so the CLI prints the same
progress and report.

`down`: `docker stack rm` per stack (or `service rm` per service), then waits until no
service, network, secret or config of those stacks is left, and removes the seed overlays
no stack uses any more.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Unpack

from .. import serial
from ..catalog import Service, Site
from ..context import Context, context_for
from ..deploy.projects import Project, Selection, parallel, select
from ..deploy.up import (
    BAD,
    GOOD,
    Listener,
    Redactor,
    RunScheduler,
    ServiceRun,
    UpOptions,
    UpResult,
    reporting,
    standin_overrides,
)
from ..engine.compose import ComposeProject
from ..engine.swarm_backend import SwarmBackend
from ..errors import BadInput, CommandFailed, OperationFailed
from ..findings import Finding, Severity
from ..serial import Serialised
from . import POLL_S, stack_name
from .placement import Placement, place, refuse_placements
from .translate import (
    SITE_LABEL,
    SPEC_LABEL,
    check_service,
    require_endpoint_mode,
    translate_stack,
)

WAITING = ("new", "pending", "assigned", "accepted", "preparing", "ready", "starting")


def findings(site: Site, services: list[Service]) -> list[Finding]:
    out: list[Finding] = []
    for service in services:
        out += check_service(site, service)
    return out


def refuse_findings(found: list[Finding]) -> None:
    errors = [f for f in found if f.severity is Severity.ERROR]
    if not errors:
        return
    first = errors[0]
    more = f" (and {len(errors) - 1} more: `homestack validate` lists them)" if errors[1:] else ""
    raise BadInput(
        first.message + more, first.hint, file=first.file, line=first.line, service=first.service
    )


def _merged(project: Project) -> dict[str, Any]:
    return project.config()


def _bind_sources(site: Site, merged: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Bind sources under DATA_ROOT that Compose would create (`create_host_path`) and a
    swarm task would refuse ("bind source path does not exist"): made here, on the data
    node, one component at a time below DATA_ROOT without following a symbolic link."""
    import os

    root = site.data_root
    made: list[str] = []
    for config in merged.values():
        for entry in (config.get("services") or {}).values():
            for volume in entry.get("volumes") or []:
                if not isinstance(volume, dict) or volume.get("type") != "bind":
                    continue
                if not (volume.get("bind") or {}).get("create_host_path"):
                    continue
                source = Path(str(volume.get("source", "")))
                if source.exists() or not source.is_relative_to(root):
                    continue
                fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
                try:
                    for part in source.relative_to(root).parts:
                        with contextlib.suppress(FileExistsError):
                            os.mkdir(part, 0o755, dir_fd=fd)
                        nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                        os.close(fd)
                        fd = nxt
                finally:
                    os.close(fd)
                made.append(str(source))
    return made


def _ensure_overlays(site: Site, services: list[Service]) -> dict[str, Any]:
    from ..deploy.networks import subnet_setting
    from ..engine import swarm as engine
    from ..plan import networks_for

    created: list[str] = []
    kept: list[str] = []
    for key in networks_for(site, services):
        name = site.network_name(key)
        subnet = site.root_env.get(subnet_setting(key), "").strip() or None
        if engine.ensure_overlay(name, subnet, {SITE_LABEL: str(site.root)}):
            created.append(name)
        else:
            kept.append(name)
    return {"changed": bool(created), "created": created, "kept": kept}


@dataclass
class _Launch:
    names: list[str]
    stack: str
    at: float  # epoch seconds, to tell this deploy's tasks from older ones


class SwarmScheduler(RunScheduler):
    """Deploys services whose needs are healthy and watches their tasks until each is done."""

    def __init__(
        self,
        site: Site,
        selection: Selection,
        files: Mapping[str, dict[str, Any]],
        runs: dict[str, ServiceRun],
        redact: Redactor,
        listener: Listener,
        timeout: float,
        workdir: Path,
    ) -> None:
        super().__init__(selection, runs, redact, listener, timeout)
        self.site = site
        self.files = files
        self.workdir = workdir
        self.pool = ThreadPoolExecutor(max_workers=4)
        self.calls: dict[Future[None], _Launch] = {}
        self.since: dict[str, float] = {}  # service → epoch of its deploy
        self.ids: dict[str, str] = {}  # service → swarm service id
        self.nodes: dict[str, str] = {}  # node id → hostname
        self.backend = SwarmBackend()

    def _deploy(self, stack_id: str, names: list[str]) -> None:
        self.backend.deploy(
            stack_name(self.site, stack_id), self.files[stack_id], names, self.workdir
        )

    def _launch_ready(self) -> None:
        ready: dict[str, list[str]] = {}
        needs = self.selection.graph.needs
        for name, run in self.runs.items():
            if run.state != "waiting":
                continue
            wanted = needs.get(name, set())
            failed = [n for n in wanted if self.runs[n].state in BAD]
            if failed:
                self._set(run, "blocked", f"not started: {', '.join(sorted(failed))} failed")
                continue
            if all(self.runs[n].state in GOOD for n in wanted):
                ready.setdefault(run.stack, []).append(name)
        for stack_id, names in ready.items():
            now = time.time()
            for name in names:
                run = self.runs[name]
                run.launched_at = time.monotonic()
                run.launched = now
                self.since[name] = now
                self._set(run, "creating")
            if any(self.runs[n].action in ("create", "recreate") for n in names):
                deploy = [n for n in names if self.runs[n].action in ("create", "recreate")]
                future = self.pool.submit(self._deploy, stack_id, deploy)
                self.calls[future] = _Launch(deploy, stack_id, now)
            for name in names:
                if self.runs[name].action not in ("create", "recreate"):
                    self._set(self.runs[name], "starting")

    def _collect(self) -> None:
        for future in [f for f in self.calls if f.done()]:
            launch = self.calls.pop(future)
            error = future.exception()
            for name in launch.names:
                run = self.runs[name]
                if error is None:
                    self._set(run, "starting")
                    continue
                message = str(getattr(error, "message", error))
                if isinstance(error, CommandFailed):
                    message = "docker stack deploy failed: " + " | ".join(
                        error.stderr.strip().splitlines()[-4:]
                    )
                self._set(run, "failed", self.redact(message))

    def _watch(self) -> None:
        from ..engine import swarm as engine

        starting = [r for r in self.runs.values() if r.state == "starting"]
        if not starting:
            return
        if len(self.ids) < len(self.runs):
            for info in engine.services(
                {stack_name(self.site, s) for s in self.selection.projects}
            ):
                service = info.labels.get("org.homestack.service")
                if service in self.runs:
                    self.ids[service] = info.id
        wanted = {self.ids[r.service] for r in starting if r.service in self.ids}
        by_service: dict[str, list[engine.TaskInfo]] = {}
        for task in engine.tasks(wanted):
            by_service.setdefault(task.service_id, []).append(task)
        for run in starting:
            sid = self.ids.get(run.service)
            self._judge(run, sid, by_service.get(sid or "", []))

    def _judge(self, run: ServiceRun, sid: str | None, tasks: list[Any]) -> None:
        from ..engine import swarm as engine

        since = self.since.get(run.service, 0.0) - 1.0
        fresh = [t for t in tasks if _epoch(t.created) >= since or run.action == "wait"]
        meta = self.selection.graph.services[run.service].meta
        oneshot = bool(meta and meta.oneshot)
        live = [t for t in fresh if t.desired == "running"]
        if oneshot and any(t.state == "complete" for t in fresh):
            self._set(run, "completed")
            return
        if live and all(t.state == "running" for t in live):
            if not self.nodes:
                self.nodes = {n.id: n.hostname for n in engine.nodes()}
            where = sorted({self.nodes.get(t.node_id, t.node_id[:12]) for t in live})
            run.container = live[0].container[:12] or None
            self._set(run, "healthy", "on " + ", ".join(where))
            return
        # an unchanged service ("wait") fails only on a task that failed after this run began
        dead = [
            t
            for t in fresh
            if t.state in ("failed", "rejected")
            and (run.action != "wait" or _epoch(t.created) >= since)
        ]
        if dead:
            last = max(dead, key=lambda t: t.version)
            state = "unhealthy" if "unhealthy" in last.error else "exited"
            run.log_tail = [self.redact(line) for line in engine.service_logs(sid or "")]
            self._set(run, state, self.redact(last.error or last.message or last.state))
            return
        run.elapsed = time.monotonic() - (run.launched_at or time.monotonic())
        if run.elapsed > self.timeout:
            states = ", ".join(sorted({t.state for t in live})) or "no task"
            detail = f"not healthy after {self.timeout:g}s (task: {states})"
            pending = [t for t in live if t.state == "pending" and t.error]
            if pending:
                detail += f": {pending[0].error}"
            run.log_tail = [self.redact(line) for line in engine.service_logs(sid or "")]
            self._set(run, "timeout", detail)
        else:
            self.listener(run)

    def run(self) -> None:
        try:
            polled = 0.0
            while True:
                self._collect()
                if time.monotonic() - polled >= POLL_S:
                    polled = time.monotonic()
                    self._watch()
                self._launch_ready()
                if all(r.finished for r in self.runs.values()) and not self.calls:
                    break
                time.sleep(0.1 if self.calls else POLL_S / 2)
        finally:
            self.pool.shutdown(wait=True)


def _epoch(text: str) -> float:
    from datetime import datetime

    if not text:
        return 0.0
    head, _, frac = text.rstrip("Z").partition(".")
    try:
        when = datetime.fromisoformat(head + "+00:00")
    except ValueError:
        return 0.0
    return when.timestamp() + float("0." + (frac[:6] or "0"))


def prepare(
    site: Site, names: list[str] | None, *, stand_in: str | None = None, delays: Any = None
) -> tuple[Selection, dict[str, Placement], list[str], str | None]:
    """Selection, placements (checked) and stand-in overrides: what up and plan share."""
    from ..deploy import standin as standin_mod
    from ..engine import swarm as engine

    engine.require_manager()
    selection = select(site, names, overlays=False)
    services = selection.services
    refuse_findings(findings(site, services))
    placements = place(site, services, engine.nodes())
    refuse_placements(placements)
    if stand_in is not None:
        standin_mod.check_image(stand_in)
    image = standin_mod.resolve_image(stand_in) if stand_in is not None else None
    overrides = standin_overrides(site, selection, image, delays)
    return selection, placements, overrides, image


def up(
    site: Site,
    names: list[str] | None = None,
    *,
    ctx: Context | None = None,
    **options: Unpack[UpOptions],
) -> UpResult:
    """Deploy the selected services (and what they need) to the swarm, in dependency order,
    each gated on its task being healthy. `options` as a Compose up takes them (stand_in,
    delays, timeout; `rollback` is refused). Each change of a service's state goes to
    `ctx.sink` (ServiceChanged), as a Compose up reports it."""
    if options.get("rollback"):
        raise BadInput("--rollback is not available in swarm mode", "Run without it.")
    ctx = context_for(site, ctx)
    with ctx.lock.hold("up"):
        started = time.monotonic()
        stand_in, delays = options.get("stand_in"), options.get("delays")
        prepared = prepare(site, names, stand_in=stand_in, delays=delays)
        timeout = options.get("timeout", 300.0)
        return _up(site, prepared, timeout, reporting(ctx.sink), started)


def _up(
    site: Site,
    prepared: tuple[Selection, dict[str, Placement], list[str], str | None],
    timeout: float,
    listener: Listener,
    started: float,
) -> UpResult:
    """The deploy itself, once `prepare` chose and placed the services."""
    from ..deploy.data import check_data, ensure_data
    from ..deploy.folders import check_folder
    from ..deploy.secrets import ensure_secrets
    from ..engine import swarm as engine
    from ..generate import generate_all

    selection, placements, overrides, image = prepared
    services = selection.services
    require_endpoint_mode(site)
    checked = check_data(site, services)
    check_folder(site, site.secrets_dir, "SECRETS_DIR")
    generate_all(site, services, dry_run=True)
    merged = parallel(selection.projects, _merged)  # Compose's own check of every stack
    networks = _ensure_overlays(site, services)
    secrets = ensure_secrets(site, services, folder_checked=True).to_data()
    data = ensure_data(site, services, checked=checked).to_data()
    generate_all(site, services)
    for path in _bind_sources(site, merged):
        data.setdefault("created", []).append(path)
    by_stack: dict[str, dict[str, Service]] = {}
    for service in services:
        by_stack.setdefault(service.stack, {})[service.id] = service
    files = {
        stack_id: translate_stack(site, stack_id, merged[stack_id], members, placements)
        for stack_id, members in by_stack.items()
    }
    current = {
        (s.stack, s.labels.get("org.homestack.service", "")): s
        for s in engine.services({stack_name(site, k) for k in by_stack})
    }
    runs: dict[str, ServiceRun] = {}
    for service in services:
        run = ServiceRun(service.id, service.stack)
        found = current.get((stack_name(site, service.stack), service.id))
        spec = files[service.stack]["services"][service.id]["deploy"]["labels"][SPEC_LABEL]
        if found is None:
            run.action = "create"
        elif found.labels.get(SPEC_LABEL) != spec:
            run.action = "recreate"
        else:
            run.action = "wait"  # unchanged spec: healthy tasks make it "unchanged"
        runs[service.id] = run
        listener(run)
    redact = Redactor(site, services)
    with tempfile.TemporaryDirectory(prefix="homestack-swarm-") as folder:
        scheduler = SwarmScheduler(
            site, selection, files, runs, redact, listener, timeout, Path(folder)
        )
        scheduler.run()
    for run in runs.values():
        if run.action == "wait" and run.state == "healthy":
            run.action, run.state = "none", "unchanged"
    _prune_secrets(site, set(by_stack))
    return UpResult(
        list(runs.values()),
        networks,
        secrets,
        data,
        image,
        overrides,
        time.monotonic() - started,
    )


def _prune_secrets(site: Site, stack_ids: set[str]) -> list[str]:
    """Older versions of these stacks' secrets that no service uses any more."""
    from ..engine import swarm as engine

    removed: list[str] = []
    for secret in engine.secrets(site.prefix):
        labels = (secret.get("Spec") or {}).get("Labels") or {}
        if labels.get(engine.STACK_LABEL) not in {stack_name(site, k) for k in stack_ids}:
            continue
        if engine.remove_secret(str(secret.get("ID"))):  # refused while a service uses it
            removed.append(str(secret["Spec"]["Name"]))
    return removed


@dataclass
class SwarmDown(Serialised):
    removed: list[str]
    stacks: list[str]
    networks: list[str]
    elapsed: float = field(metadata=serial.entry(ndigits=2))
    left: list[str] = field(default_factory=list)
    dependents: list[str] = field(default_factory=list)  # why each one went down too

    DATA_ORDER = ("dependents",)


def down(
    site: Site, names: list[str] | None = None, *, wait_s: float = 90, ctx: Context | None = None
) -> SwarmDown:
    """Remove the named stacks/services (all when none) and wait until nothing is left."""
    from ..deploy.down import plan_down
    from ..engine import swarm as engine

    started = time.monotonic()
    engine.require_manager()
    plan = plan_down(site, names) if names else None
    backend = SwarmBackend(wait_s=wait_s)
    with context_for(site, ctx).lock.hold("down"):
        live = engine.services({stack_name(site, k) for k in site.stacks})
        removed: list[str] = []
        stacks: list[str] = []
        why: list[str] = []
        if plan is None or plan.whole:
            whole = list(site.stacks) if plan is None else plan.whole
            for stack_id in whole:
                name = stack_name(site, stack_id)
                if any(s.stack == name for s in live):
                    removed += [
                        s.labels.get("org.homestack.service", s.name)
                        for s in live
                        if s.stack == name
                    ]
                stacks.append(stack_id)
        if plan is not None:
            from ..deploy.dependents import find_dependents
            from ..plan import build_graph

            # what runs on the swarm and needs what goes down goes down first, as in compose
            running = {s.labels.get("org.homestack.service", "") for s in live}
            graph = build_graph(site)
            needing = find_dependents(graph, plan.targets, running)
            targets = set(plan.targets) | {d.service for d in needing}
            why = [d.reason() for d in needing]
            for info in live:
                service = info.labels.get("org.homestack.service", "")
                stack_id = info.stack.removeprefix(site.prefix)
                if service in targets and stack_id not in stacks:
                    project = ComposeProject(site, site.stacks[stack_id])
                    backend.remove(project, [service], check=False)
                    removed.append(service)
        # `docker stack rm` of each, then until nothing of them is left
        left = backend.remove_stacks([stack_name(site, k) for k in stacks])
        networks: list[str] = []
        if not engine.services({stack_name(site, k) for k in site.stacks}):
            networks, stuck = _remove_overlays(site, wait_s)
            left += [f"network {name} (still in use)" for name in stuck]
    elapsed = time.monotonic() - started
    return SwarmDown(sorted(set(removed)), stacks, networks, elapsed, left, why)


def _remove_overlays(site: Site, wait_s: float) -> tuple[list[str], list[str]]:
    """The overlays homestack made for this site, removed once the last task has left them
    (tasks of removed services still stop on their nodes for a moment)."""
    from ..engine import swarm as engine

    deadline = time.monotonic() + wait_s
    removed: list[str] = []
    while True:
        ours = [
            str(n["Name"])
            for n in engine.networks(site.prefix)
            if (n.get("Labels") or {}).get(SITE_LABEL) == str(site.root)
        ]
        stuck = [name for name in ours if not engine.remove_network(name)]
        removed += [name for name in ours if name not in stuck]
        # a removed overlay lingers on the manager until its last local task has stopped
        if (not ours and not stuck) or time.monotonic() > deadline:
            return sorted(set(removed)), stuck
        time.sleep(0.5)


@dataclass(frozen=True)
class SwarmRow:
    service: str
    stack: str
    state: str  # healthy, starting, failed, missing, unscheduled
    replicas: str  # running/wanted
    nodes: list[str]
    detail: str = ""

    def to_data(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class SwarmStatus:
    rows: list[SwarmRow]
    nodes: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        return all(r.state == "healthy" for r in self.rows)

    def to_data(self) -> dict[str, Any]:
        return {"services": [r.to_data() for r in self.rows], "nodes": self.nodes, "ok": self.ok}


def status(site: Site, names: list[str] | None = None) -> SwarmStatus:
    """Each enabled service's swarm state: tasks running/wanted, on which nodes, why not."""
    from ..engine import swarm as engine

    engine.require_manager()
    stacks, chosen = site.select(names)
    services = chosen if chosen is not None else [s for st in stacks for s in st.enabled]
    node_list = engine.nodes()
    hostnames = {n.id: n.hostname for n in node_list}
    live = {
        (s.stack, s.labels.get("org.homestack.service", "")): s
        for s in engine.services({stack_name(site, k) for k in site.stacks})
    }
    tasks = engine.tasks({s.id for s in live.values()})
    rows: list[SwarmRow] = []
    for service in services:
        info = live.get((stack_name(site, service.stack), service.id))
        if info is None:
            rows.append(SwarmRow(service.id, service.stack, "missing", "0/1", []))
            continue
        mine = [t for t in tasks if t.service_id == info.id and t.desired == "running"]
        running = [t for t in mine if t.state == "running"]
        wanted = info.replicas if info.replicas is not None else len(mine)
        where = sorted({hostnames.get(t.node_id, t.node_id[:12]) for t in running})
        if wanted and len(running) >= wanted:
            state, detail = "healthy", ""
        elif any(t.state == "pending" for t in mine):
            pending = next(t for t in mine if t.state == "pending")
            state, detail = "unscheduled", pending.error or pending.message
        elif mine:
            state, detail = "starting", ", ".join(sorted({t.state for t in mine}))
        else:
            failed = [t for t in tasks if t.service_id == info.id and t.error]
            state = "failed"
            detail = max(failed, key=lambda t: t.version).error if failed else "no task"
        rows.append(
            SwarmRow(service.id, service.stack, state, f"{len(running)}/{wanted}", where, detail)
        )
    nodes = [
        {
            "hostname": n.hostname,
            "role": n.role,
            "availability": n.availability,
            "state": n.state,
        }
        for n in node_list
    ]
    return SwarmStatus(rows, nodes)


def _env_finding(site: Site, rule: str, refused: BadInput) -> Finding:
    """A refusal about the site's swarm setting as a `validate` error on its .env."""
    return Finding(
        rule, Severity.ERROR, refused.message, site.root / ".env", None, None, refused.hint
    )


def validate_findings(site: Site, stack_ids: list[str], *, engine: bool) -> list[Finding]:
    """What `validate` adds in swarm mode: every key the swarm cannot carry, and (with an
    engine) every service no node can take."""
    from ..engine import swarm as swarm_engine

    services = [s for k in stack_ids for s in site.stacks[k].enabled]
    found = findings(site, services)
    if not engine:
        return found
    try:
        require_endpoint_mode(site)
    except BadInput as refused:
        found.append(_env_finding(site, "swarm.endpoint_mode", refused))
    try:
        swarm_engine.require_manager()
    except BadInput as refused:
        return [*found, _env_finding(site, "swarm.manager", refused)]
    for placement in place(site, services, swarm_engine.nodes()).values():
        if placement.problem:
            service = site.service(placement.service)
            found.append(
                Finding(
                    "swarm.placement",
                    Severity.ERROR,
                    placement.problem,
                    service.file,
                    None,
                    service.id,
                    placement.hint,
                )
            )
    return found


@dataclass
class SwarmRestart:
    restarted: list[str]
    elapsed: float
    services: list[ServiceRun] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        return {
            "restarted": self.restarted,
            "elapsed": round(self.elapsed, 2),
            "services": [s.to_data() for s in self.services],
        }


class _Restarter(SwarmScheduler):
    """The same ordering and health gate, each step a forced update (new tasks)."""

    def _deploy(self, stack_id: str, names: list[str]) -> None:
        project = ComposeProject(self.site, self.site.stacks[stack_id])
        self.backend.act(project, "restart", names)


def restart(
    site: Site,
    names: list[str] | None = None,
    *,
    timeout: float = 300,
    ctx: Context | None = None,
) -> SwarmRestart:
    """Roll the chosen services' tasks in dependency order, each once what it needs is
    healthy again; a service with no swarm service is refused (start it with `up`). Each
    change of a service's state goes to `ctx.sink` (ServiceChanged)."""
    from ..engine import swarm as engine

    started = time.monotonic()
    engine.require_manager()
    selection = select(site, names, with_dependencies=False, overlays=False)
    live = {
        s.labels.get("org.homestack.service", ""): s
        for s in engine.services({stack_name(site, k) for k in selection.projects})
    }
    missing = [s.id for s in selection.services if s.id not in live]
    if missing:
        raise OperationFailed(
            f"not running on the swarm: {', '.join(missing)}; nothing was restarted",
            f"Start {'it' if len(missing) == 1 else 'them'} with `homestack up "
            f"{' '.join(missing)}`.",
        )
    runs = {s.id: ServiceRun(s.id, s.stack, action="recreate") for s in selection.services}
    ctx = context_for(site, ctx)
    with ctx.lock.hold("restart"):
        scheduler = _Restarter(
            site,
            selection,
            {},
            runs,
            Redactor(site, selection.services),
            reporting(ctx.sink),
            timeout,
            Path(tempfile.gettempdir()),
        )
        scheduler.ids = {name: info.id for name, info in live.items()}
        scheduler.run()
    result = SwarmRestart(sorted(runs), time.monotonic() - started, list(runs.values()))
    bad = [r for r in runs.values() if r.state in BAD]
    if bad:
        first = bad[0]
        raise OperationFailed(
            f"{first.service} ({first.stack}) {first.state} after restart: {first.detail}",
            f"`homestack logs {first.service}` shows its last lines; `homestack status` "
            "the others.",
            service=first.service,
        )
    return result
