"""`SwarmBackend`: Docker Swarm as the second implementation of `engine.backend.Backend`.

A `ComposeProject` names a swarm stack (project name = stack name, `site.prefix + stack`);
its services are swarm services, each running one task. A subclass of `Backend`: where a
swarm differs, its methods are the engine/swarm.py calls the swarm operations make; the
rest (networks, volumes, images, the engine) are Backend's, on the manager's own engine:

- `up`: the project's services translated (swarm.translate, placed by swarm.placement) and
  deployed with `docker stack deploy` of a file holding only the named services (`deploy`).
- `act`: start/stop = scale to 1/0 and wait (swarm.data.scale); restart = a forced update
  (new tasks, same spec). pause/unpause are refused: swarm cannot freeze a task.
- `remove` = `docker service rm`; `down` = `docker stack rm`, then wait until none of the
  stack's services, networks, secrets or configs is left.
- `service_container` = swarm.data.state; `containers` = the stacks' tasks as Containers
  (the Compose PROJECT_LABEL/SERVICE_LABEL keys filled from stack and service, plus the
  node and task ids swarm puts on its task containers); `inspect` = one of them.
- `wait_healthy` / `stays_healthy` = engine.health's waits over that task listing, polled:
  swarm events carry no task health, and a task reports `running` only once its health
  check passed.
- `stats` reads each task's node engine (the `homestack.engine` node label) as `top` does.

What has no meaning on a swarm raises `OperationFailed` naming the swarm way instead
(`_refusal` makes those methods).
`backend_for(site)` gives this backend or the Compose one by the site's DEPLOY_MODE.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ..errors import OperationFailed
from .backend import Backend
from .compose import Action, ComposeProject
from .health import EngineEvents, Verdict, Watched
from .health import stays_healthy as _stays_healthy
from .health import wait_healthy as _wait_healthy
from .model import PROJECT_LABEL, SERVICE_LABEL, Container
from .params import BRIDGE, NetworkParams

if TYPE_CHECKING:
    from ..catalog import Service, Site
    from .docker import NetworkInfo
    from .swarm import ServiceInfo, TaskInfo
    from .usage import Usage

#: the homestack service a swarm service deploys (translate puts it on every one)
HOMESTACK_SERVICE_LABEL = "org.homestack.service"
#: what swarm puts on its task containers (filled in the same keys here)
NODE_LABEL = "com.docker.swarm.node.id"
TASK_LABEL = "com.docker.swarm.task.id"
SWARM_SERVICE_LABEL = "com.docker.swarm.service.id"


def _refuse(what: str, instead: str) -> NoReturn:
    raise OperationFailed(f"{what} has no meaning on a swarm (DEPLOY_MODE=swarm)", instead)


def _refusal(what: str, instead: str) -> Callable[..., NoReturn]:
    """A Backend method that refuses whatever it is handed (`_refuse(what, instead)`)."""

    def refuse(self: Backend, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(what, instead)

    return refuse


def _member(project: ComposeProject, name: str) -> Service:
    """The homestack service `name` of the project's stack."""
    if name in project.stack.services:
        return project.stack.services[name]
    raise OperationFailed(f"{name} is not a service of the stack {project.stack.id}")


def _task_container(info: ServiceInfo, task: TaskInfo) -> Container:
    """One task as a Container: running = healthy (a task with a health check reports
    running only once it passed), starting = running and starting, ended = exited."""
    health: str | None
    if task.state == "running":
        state, health = "running", "healthy"
    elif task.state == "starting":
        state, health = "running", "starting"
    elif task.state in ("complete", "failed", "shutdown", "orphaned", "remove"):
        state, health = "exited", ("unhealthy" if "unhealthy" in task.error else None)
    elif task.state == "rejected":
        state, health = "dead", None
    else:  # new … ready: on its way
        state, health = "created", None
    code = task.exit_code
    if code is None and task.state in ("failed", "rejected"):
        code = 1
    return Container(
        id=task.container or task.id,
        name=f"{info.name}.{task.slot or task.node_id}.{task.id}",
        image=info.image,
        state=state,
        health=health,
        exit_code=code,
        started_at=task.timestamp,
        labels={
            PROJECT_LABEL: info.stack,
            SERVICE_LABEL: info.labels.get(HOMESTACK_SERVICE_LABEL)
            or info.name.removeprefix(info.stack + "_"),
            NODE_LABEL: task.node_id,
            TASK_LABEL: task.id,
            SWARM_SERVICE_LABEL: info.id,
        },
    )


class SwarmBackend(Backend):
    """Backend on a swarm: DOCKER_HOST names a manager (see the module's docstring)."""

    def __init__(self, wait_s: float = 90.0) -> None:
        self.wait_s = wait_s  # how long `down` waits for a removed stack to be gone

    # ---- the desired state
    config_hashes = _refusal(
        "a Compose config hash",
        "A swarm service carries the hash of its translated spec (org.homestack.spec); "
        "`homestack plan` and `homestack up` compare that one.",
    )
    # check_config, config: Backend's, Compose's own merge of the files that are translated

    # ---- acting on services
    pull = _refusal(
        "pulling images on the manager",
        "Each node pulls a service's image itself when its task starts there: run "
        "`homestack up` (or `docker pull` on the node that runs it).",
    )

    create = _refusal(
        "creating a service without starting it",
        "A swarm service starts its task when it is deployed: `homestack up` deploys it "
        "(or scale it to 0 afterwards: `docker service scale NAME=0`).",
    )

    def up(self, project: ComposeProject, services: Iterable[str]) -> None:
        """Translate the stack and deploy the named services of it (`docker stack deploy`)."""
        import tempfile

        from . import swarm as engine

        names = list(services)
        if not names:
            return
        from ..swarm.placement import place, refuse_placements
        from ..swarm.translate import translate_stack

        site = project.site
        members = {name: _member(project, name) for name in names}
        placements = place(site, list(members.values()), engine.nodes())
        refuse_placements(placements)
        full = translate_stack(site, project.stack.id, project.config(), members, placements)
        with tempfile.TemporaryDirectory(prefix="homestack-swarm-") as folder:
            self.deploy(project.name, full, names, Path(folder))

    def deploy(
        self, stack: str, translated: Mapping[str, Any], names: list[str], workdir: Path
    ) -> None:
        """`docker stack deploy` of the named services of a translated stack file (the
        others of the stack are left as they are)."""
        from . import swarm as engine

        part = {
            **{k: v for k, v in translated.items() if k != "services"},
            "services": {n: translated["services"][n] for n in names},
        }
        path = workdir / f"{stack}-{time.monotonic_ns()}.yaml"
        path.write_text(json.dumps(part, indent=1), encoding="utf-8")  # JSON is YAML
        engine.stack_deploy(path, stack)

    def _live(self, stack: str) -> dict[str, ServiceInfo]:
        """homestack service → its swarm service, in one stack."""
        from . import swarm as engine

        return {s.labels.get(HOMESTACK_SERVICE_LABEL, ""): s for s in engine.services({stack})}

    def act(
        self,
        project: ComposeProject,
        action: Action,
        services: Iterable[str],
        *,
        timeout: float | None = None,
    ) -> None:
        """start/stop: scale to 1/0 and wait for it; restart: a forced update (new tasks,
        not waited for: `wait_healthy` does that)."""
        from . import swarm as engine

        if action in ("pause", "unpause"):
            _refuse(
                f"`{action}`",
                "Swarm cannot freeze a task: stop the service instead (scale it to 0, as a "
                "backup does: consistency `stop`), and start it again (scale to 1).",
            )
        names = list(services)
        if action == "restart":
            live = self._live(project.name)
            missing = [n for n in names if n not in live]
            if missing:
                raise OperationFailed(
                    f"not running on the swarm: {', '.join(missing)}",
                    f"Start it with `homestack up {' '.join(missing)}`.",
                )
            for name in names:
                engine.force_update(live[name].id)
            return
        from ..swarm.data import scale

        for name in names:
            replicas = 1 if action == "start" else 0
            scale(project.site, _member(project, name), replicas, timeout or 120)

    def kill(self, project: ComposeProject, services: Iterable[str], signal: str) -> bool:
        _refuse(
            f"sending {signal} to a service",
            "The manager cannot signal a task's process: `homestack restart SERVICE` rolls "
            "its task, or `docker kill` on the node that runs it.",
        )

    def remove(
        self,
        project: ComposeProject,
        services: Iterable[str],
        *,
        stop: bool = False,
        volumes: bool = False,
        check: bool = True,
    ) -> None:
        """`docker service rm` of the named services (stopping is part of it)."""
        from . import swarm as engine

        if volumes:
            self._refuse_volumes()
        live = self._live(project.name)
        for name in services:
            if name in live:
                engine.remove_service(live[name].id)
            elif check:
                raise OperationFailed(
                    f"{name} is not deployed on the swarm ({project.name})",
                    "`homestack status` shows what runs.",
                    service=name,
                )

    @staticmethod
    def _refuse_volumes() -> NoReturn:
        _refuse(
            "removing a stack's volumes from the manager",
            "Swarm leaves each node's named volumes in place: remove them on that node "
            "(`docker volume rm`); DATA folders stay where they are (docs/swarm.md).",
        )

    def down(self, project: ComposeProject, *, volumes: bool = False) -> None:
        """`docker stack rm`, then until nothing of the stack is left (at most wait_s)."""
        if volumes:
            self._refuse_volumes()
        self.remove_stacks([project.name])

    def remove_stacks(self, stacks: list[str]) -> list[str]:
        """`docker stack rm` of each, then wait (at most wait_s) until none of their
        services, networks, secrets or configs is left; what is left then."""
        from . import swarm as engine

        for stack in stacks:
            engine.stack_rm(stack)
        deadline = time.monotonic() + self.wait_s
        while True:
            left = [item for stack in stacks for item in engine.leftovers(stack)]
            # tasks of removed services still shut down on their nodes: networks wait for them
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.5)

    exec = _refusal(
        "running a command in a service's task from the manager",
        "The swarm API has no exec: run `docker exec` on the node holding the task "
        "(`homestack status` names it); a backup in swarm mode stops the service and "
        "runs restic in a one-off task on its data node instead of a dump command.",
    )

    # ---- reading the live state
    def service_container(self, project: ComposeProject, service: str) -> Container:
        from ..swarm.data import state

        return state(project.site, _member(project, service))

    def containers(
        self,
        projects: Collection[str] | None = None,
        *,
        include_stopped: bool = True,
        oneoffs: bool = False,
    ) -> list[Container]:
        """The stacks' tasks: each service's current ones (desired running), and with
        include_stopped its latest ended one when none is meant to run. One-off tasks are
        no stack's, so `oneoffs` adds nothing."""
        from . import swarm as engine

        infos = {s.id: s for s in engine.services(set(projects) if projects is not None else None)}
        infos = {k: s for k, s in infos.items() if s.stack}
        by_service: dict[str, list[TaskInfo]] = {}
        for task in engine.tasks(set(infos)):
            by_service.setdefault(task.service_id, []).append(task)
        out: list[Container] = []
        for sid, info in infos.items():
            found = by_service.get(sid, [])
            current = [t for t in found if t.desired == "running"]
            if not current and include_stopped and found:
                current = [max(found, key=lambda t: t.version)]
            for task in current:
                box = _task_container(info, task)
                if include_stopped or box.running:
                    out.append(box)
        return out

    def by_service(self, projects: Collection[str]) -> dict[tuple[str, str], Container]:
        """(stack, service) → its task (a running one first), for these stacks."""
        out: dict[tuple[str, str], Container] = {}
        for box in self.containers(projects):
            key = (box.project or "", box.service or "")
            if key not in out or (box.running and not out[key].running):
                out[key] = box
        return out

    def inspect(self, container_id: str) -> Container | None:
        """The task whose container (or task) id this is."""
        for box in self.containers():
            if container_id in (box.id, box.labels.get(TASK_LABEL)):
                return box
        return None

    start_container = _refusal(
        "starting one container",
        "Swarm starts and replaces tasks itself: scale the service "
        "(`docker service scale NAME=1`) or `homestack up SERVICE`.",
    )

    signal = _refusal(
        "signalling one container",
        "The manager cannot signal a task's process: `homestack restart SERVICE` rolls its "
        "task (new config included), or `docker kill -s SIGNAL` on the node that runs it.",
    )

    def events(self) -> EngineEvents:
        """No events: swarm's carry no task health, so the waits below poll."""
        return EngineEvents(lambda kinds: iter(()))

    def wait_healthy(
        self, watched: Iterable[Watched], timeout: float
    ) -> dict[tuple[str, str], Verdict]:
        return _wait_healthy(
            watched,
            timeout,
            events=self.events().start(),
            listing=self.by_service,
            inspect=self.inspect,
        )

    def stays_healthy(
        self, projects: set[str], services: Collection[str], seconds: float
    ) -> Container | None:
        return _stays_healthy(
            projects,
            services,
            seconds,
            events=self.events().start(),
            listing=lambda wanted: self.containers(wanted, include_stopped=False),
        )

    def logs(self, container_id: str, *, tail: int = 20) -> str:
        from . import swarm as engine

        found = self.inspect(container_id)
        sid = found.labels.get(SWARM_SERVICE_LABEL, "") if found else ""
        return "\n".join(engine.service_logs(sid, tail)) if sid else ""

    def node_apis(self) -> tuple[dict[str, Any], dict[str, str]]:
        """(node id → a client of its engine, node id → why there is none): the engine
        homestack talks to for its own node, the `homestack.engine` label's for others."""
        from ..errors import HomestackError
        from ..swarm.placement import ENGINE_LABEL
        from . import swarm as engine
        from .docker import api_client

        here = engine.local_node_id()
        apis: dict[str, Any] = {here: api_client()}
        unreachable: dict[str, str] = {}
        for node in engine.nodes():
            url = node.labels.get(ENGINE_LABEL, "")
            if node.id == here:
                continue
            if not url:
                unreachable[node.id] = (
                    f"no figures: label it `homestack nodes label {node.hostname} "
                    "engine=ssh://USER@HOST` to read its engine"
                )
                continue
            try:
                apis[node.id] = engine.node_api(url)
            except HomestackError as error:
                unreachable[node.id] = f"no figures: {error.message.splitlines()[0]}"
        return apis, unreachable

    def stats(self, pids: Mapping[str, int], *, interval: float | None = None) -> dict[str, Usage]:
        """CPU and memory of these tasks' containers, each from its node's engine (the pids
        are not used: each node's engine reads its own; one `docker stats --no-stream`
        sample each, whatever `interval`); a task on a node whose engine cannot be reached
        or did not answer is left out."""
        where = {
            box.id: box.labels.get(NODE_LABEL, "")
            for box in self.containers(include_stopped=False)
            if box.id in pids
        }
        return self.usage(where, self.node_apis()[0])

    @staticmethod
    def usage(where: Mapping[str, str], apis: Mapping[str, Any]) -> dict[str, Usage]:
        """container → its figures, read on its node's engine (container → node id;
        node id → client, from node_apis); those that cannot be read are left out."""
        from concurrent.futures import ThreadPoolExecutor

        from . import swarm as engine
        from .usage import usage_from_stats

        readable = {cid: apis[node] for cid, node in where.items() if node in apis}

        def one(item: tuple[str, Any]) -> tuple[str, Usage | None]:
            found = engine.container_stats(item[1], item[0])
            return item[0], usage_from_stats(found) if found is not None else None

        with ThreadPoolExecutor(max_workers=8) as pool:
            return {cid: u for cid, u in pool.map(one, readable.items()) if u is not None}

    # ---- networks, volumes, images, log streams, the engine: Backend's answers from the
    # manager's own engine (the swarm's overlays among its networks; each node has its own
    # volumes and images: `docker volume rm` on that node for another's; a service's ingress
    # ports are published on every node, `docker service ls` shows them), overlays for
    # networks; what a swarm cannot do is refused

    def create_network(self, name: str, params: NetworkParams = BRIDGE) -> NetworkInfo:
        """An attachable overlay network (what a stack's services join on every node) for
        a bridge or overlay asked for; other drivers, gateways, ranges and options are
        refused (a macvlan needs a config-only network on each node, docs/swarm.md)."""
        from . import swarm as engine

        p = params
        if (
            p.driver not in ("bridge", "overlay")
            or p.gateway
            or p.ip_range
            or p.options
            or p.internal
        ):
            _refuse(
                f"a {p.driver} network with these settings",
                "A swarm stack's networks are attachable overlays (a subnet and labels "
                "only); a macvlan needs a config-only network on each node (`docker network "
                "create --config-only … ` there, then `--config-from` on a manager: "
                "docs/swarm.md).",
            )
        engine.ensure_overlay(name, p.subnet, dict(p.labels or {}))
        made = self.network(name)
        if made is None:
            raise OperationFailed(f"the overlay network {name} was not made")
        return made

    create_volume = _refusal(
        "making a named volume from the manager",
        "A stack's named volumes are made on each node when a task there first uses "
        "them (`homestack up`); DATA binds stay on the data node.",
    )

    def inspect_many(self, container_ids: Collection[str]) -> dict[str, Container]:
        """The tasks whose container (or task) ids these are."""
        wanted = set(container_ids)
        out: dict[str, Container] = {}
        for box in self.containers():
            key = box.id if box.id in wanted else box.labels.get(TASK_LABEL, "")
            if key in wanted:
                out[key] = box
        return out

    log_stream = _refusal(
        "one task's stdout or stderr alone",
        "`homestack logs SERVICE` (with --follow) reads every node's task lines of a "
        "service through the manager.",
    )

    events_of = _refusal(
        "following container events across nodes",
        "The manager sees only its own containers' events: poll `containers()` (the "
        "tasks of every node), as the health waits do.",
    )


def backend_for(site: Site) -> Backend:
    """The backend of the site's DEPLOY_MODE: Compose on the local engine (the default
    one), or the swarm whose manager DOCKER_HOST names."""
    from ..swarm import is_swarm
    from .backend import default_backend

    return SwarmBackend() if is_swarm(site) else default_backend()
