"""The gateway to the engine: the `Backend` class operations call, and `ComposeBackend`.

Operations (up, down, restart, backups, updates, status) ask a Backend, never Docker: the
one model they get back is `engine.model.Container`. `Backend` itself answers every method
from the local (DOCKER_HOST) engine with Compose v2 (engine.compose, for what Compose
decides: config hashes, create, recreate) and the Engine API (engine.docker, for what is
one call: list, inspect, start a created container, networks, volumes, images, events,
logs, stats); `ComposeBackend` is that backend as it is. The long keyword lists travel
bundled (engine.params: `NetworkParams`, `LogParams`). Nothing here imports the docker SDK
at import time.

A second backend, `engine.swarm_backend.SwarmBackend` (Docker Swarm, on engine/swarm.py's
calls), overrides what a swarm does otherwise and keeps the local engine's answers for the
rest (networks, volumes, images, the engine: the manager's): a `ComposeProject` names the
stack (its files, env, project name = stack name); `up` = `docker stack deploy` of the
translated file for the named services, `stop`/`start` = scale to 0/1, `restart` = a forced
update, `down` = `docker stack rm` until nothing is left, `containers` = the stacks' tasks
as Containers (labels: the same PROJECT_LABEL/SERVICE_LABEL keys filled from the stack and
service names), `wait_healthy` = engine.health's wait polling them (swarm only reports a
task running once its health check passed; its events carry no health). What cannot mean
anything on a swarm (pause, create without start, exec, kill, pull, config hashes) raises
OperationFailed naming the swarm way. `engine.swarm_backend.backend_for(site)` picks one by
DEPLOY_MODE.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from .compose import Action, ComposeProject, Pulled
from .health import EngineEvents, Verdict, Watched
from .health import stays_healthy as _stays_healthy
from .health import wait_healthy as _wait_healthy
from .model import PROJECT_LABEL, SERVICE_LABEL, Container
from .params import BRIDGE, LogParams, NetworkParams
from .usage import Usage

if TYPE_CHECKING:  # engine.docker loads the docker SDK: only inside the methods
    from .docker import NetworkInfo, VolumeInfo


class Backend:
    """What operations need of an engine, answered here by the local (DOCKER_HOST) engine:
    Compose v2 for what Compose decides (a project's own calls) and the Engine API
    (engine.docker) for the rest. Methods on a project act on the named services of that
    project (never their dependencies); the others on containers by id. A backend that
    answers otherwise (SwarmBackend) overrides what differs."""

    # ---- the desired state, as the backend computes it
    def config_hashes(self, project: ComposeProject) -> dict[str, str]:
        """service → the hash its container is labelled with when made from these files."""
        return project.config_hashes()

    def check_config(self, project: ComposeProject) -> None:
        """Raise CommandFailed with the backend's complaint about the project's files."""
        project.check_config()

    def config(self, project: ComposeProject) -> dict[str, Any]:
        """The merged, interpolated model the backend will run."""
        return project.config()

    # ---- acting on services
    def pull(self, project: ComposeProject, services: Iterable[str], *, timeout: float) -> Pulled:
        return project.pull(services, timeout=timeout)

    def create(self, project: ComposeProject, services: Iterable[str]) -> None:
        """Make the services' containers without starting them."""
        project.create(services)

    def up(self, project: ComposeProject, services: Iterable[str]) -> None:
        """Create or recreate (config or image changed) and start the services."""
        project.up(services)

    def act(
        self,
        project: ComposeProject,
        action: Action,
        services: Iterable[str],
        *,
        timeout: float | None = None,
    ) -> None:
        """Start, stop, restart, pause or unpause the services' existing containers."""
        project.act(action, services, timeout=timeout)

    def kill(self, project: ComposeProject, services: Iterable[str], signal: str) -> bool:
        return project.kill(services, signal)

    def remove(
        self,
        project: ComposeProject,
        services: Iterable[str],
        *,
        stop: bool = False,
        volumes: bool = False,
        check: bool = True,
    ) -> None:
        project.remove(services, stop=stop, volumes=volumes, check=check)

    def down(self, project: ComposeProject, *, volumes: bool = False) -> None:
        """The whole project, orphans included."""
        project.down(volumes=volumes)

    def exec(
        self,
        project: ComposeProject,
        service: str,
        command: Sequence[str],
        sink: IO[bytes],
        *,
        timeout: float,
    ) -> None:
        """Run a command in the service's container, its stdout into `sink`."""
        project.exec_into(service, command, sink, timeout=timeout)

    # ---- reading the live state
    def service_container(self, project: ComposeProject, service: str) -> Container:
        """The service's container, any state (`Container()`, exists False: none)."""
        found = project.ps(service)
        return found[0] if found else Container()

    def containers(
        self,
        projects: Collection[str] | None = None,
        *,
        include_stopped: bool = True,
        oneoffs: bool = False,
    ) -> list[Container]:
        """The containers of these projects (None: of every project); one-off `compose run`
        containers only with oneoffs=True."""
        from . import docker

        found = docker.list_containers(
            labels={PROJECT_LABEL: None}, include_stopped=include_stopped
        )
        return [
            c
            for c in found
            if (oneoffs or not c.oneoff)
            and (projects is None or c.labels.get(PROJECT_LABEL) in projects)
        ]

    def by_service(self, projects: Collection[str]) -> dict[tuple[str, str], Container]:
        """(project, service) → its container, for these projects (one listing)."""
        return {
            (c.labels.get(PROJECT_LABEL, ""), c.labels.get(SERVICE_LABEL, "")): c
            for c in self.containers(projects)
        }

    def inspect(self, container_id: str) -> Container | None:
        from . import docker

        return docker.inspect_container(container_id)

    def image_id(self, image: str) -> str | None:
        """The local id of an image name (None: this machine does not have it)."""
        from . import docker

        return docker.image_id(image)

    def start_container(self, container_id: str) -> None:
        """Start a container `create` made: one call, no Compose process."""
        from . import docker

        docker.start_container(container_id)

    def signal(self, container_id: str, signal: str) -> None:
        """Send `signal` to a running container's main process (SIGHUP: re-read its config),
        one call, no Compose process."""
        from . import docker

        docker.signal_container(container_id, signal)

    def events(self) -> EngineEvents:
        """A not yet started follower of container start/die/health events."""
        from . import docker

        return EngineEvents(docker.container_events)

    def wait_healthy(
        self, watched: Iterable[Watched], timeout: float
    ) -> dict[tuple[str, str], Verdict]:
        """Until each service is healthy (running without a health check; a oneshot job:
        exited 0) or failed; see engine.health."""
        events = self.events().start()
        try:
            return _wait_healthy(
                watched, timeout, events=events, listing=self.by_service, inspect=self.inspect
            )
        finally:
            events.close()

    def stays_healthy(
        self, projects: set[str], services: Collection[str], seconds: float
    ) -> Container | None:
        """The first of these services' containers that turns unhealthy or stops within
        `seconds` (None: none did); see engine.health."""
        events = self.events().start()
        try:
            return _stays_healthy(
                projects,
                services,
                seconds,
                events=events,
                listing=lambda wanted: self.containers(wanted, oneoffs=True),
            )
        finally:
            events.close()

    def logs(self, container_id: str, *, tail: int = 20) -> str:
        from . import docker

        return docker.container_logs(container_id, tail=tail)

    def stats(self, pids: Mapping[str, int], *, interval: float | None = None) -> dict[str, Usage]:
        """CPU and memory of running containers (container id → its main pid); the CPU
        share sampled over `interval` seconds (None: the backend's own sample time)."""
        from . import docker

        if interval is None:
            return docker.usage_many(docker.api_client(), dict(pids))
        return docker.usage_many(docker.api_client(), dict(pids), interval)

    # ---- networks, volumes, images, log streams, events of a kind: what deploy's networks
    # and data, lint, observe, update and the web dashboard read. A backend that has no such
    # thing answers empty (no network, no volume); one that cannot do it raises
    # OperationFailed saying so, never silently does something else.
    def networks(self) -> list[NetworkInfo]:
        """Every network of the engine (not only the site's), as the engine lists them:
        without `containers` (inspect one with `network` for those)."""
        from . import docker

        return docker.list_networks()

    def network(self, name: str) -> NetworkInfo | None:
        """The network with exactly this name (never an id prefix), with the containers
        attached to it (None: there is none)."""
        from . import docker

        return docker.get_network(name)

    def create_network(self, name: str, params: NetworkParams = BRIDGE) -> NetworkInfo:
        """Make a network (bridge, macvlan, ipvlan …; one address pool when `params.subnet`
        is given) and return it as the engine then reports it. A swarm backend may make an
        `overlay` network for a bridge; one that cannot make the driver asked for raises
        OperationFailed."""
        from . import docker

        return docker.create_network(name, params)

    def remove_network(self, name: str) -> bool:
        """Remove the network with exactly this name (False: there was none); the engine
        refuses while containers are attached."""
        from . import docker

        return docker.remove_network(name)

    def volumes(self, prefix: str = "") -> list[VolumeInfo]:
        """The engine's volumes whose name starts with `prefix` (all: "")."""
        from . import docker

        return docker.list_volumes(prefix)

    def volume(self, name: str) -> VolumeInfo | None:
        """The volume with this name (None: there is none)."""
        from . import docker

        return docker.get_volume(name)

    def create_volume(
        self,
        name: str,
        driver: str = "local",
        *,
        options: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> VolumeInfo:
        """Make a named volume (`options`: the driver's, e.g. type/o/device of a bind)."""
        from . import docker

        return docker.create_volume(name, driver, options=options, labels=labels)

    def remove_volume(self, name: str) -> bool:
        """Remove a volume (False: there was none); the engine refuses one in use."""
        from . import docker

        return docker.remove_volume(name)

    def port_holders(self) -> dict[tuple[str, int], list[tuple[str, str, str]]]:
        """(protocol, host port) → [(compose project, service, container name)] of the
        running containers that publish it (of every project, not only the site's; a
        container of no project: empty project and service)."""
        from . import docker

        return docker.port_holders()

    def image_digests(self) -> dict[str, list[str]]:
        """`repo:tag` → the `repo@sha256:…` names it was pulled as, for every local image
        (a swarm backend: this node's)."""
        from . import docker

        return docker.repo_digests_by_tag()

    def repo_digests(self, image: str) -> list[str]:
        """The `repo@sha256:…` names of one local image (any name the engine resolves:
        `repo:tag`, an id …); empty when this machine does not have it."""
        from . import docker

        return docker.image_repo_digests(image)

    def inspect_many(self, container_ids: Collection[str]) -> dict[str, Container]:
        """`inspect` of several containers at once (with mounts, pid, health log); those
        that vanished meanwhile are left out."""
        from . import docker

        return docker.inspect_containers(docker.api_client(), list(container_ids))

    def log_stream(self, container_id: str, params: LogParams) -> Iterator[str]:
        """The lines of one container's `params.stream` (stdout or stderr), each starting
        with the engine's RFC 3339 timestamp; with `params.follow`, until the container
        stops or the iterator is closed. `params.since`: epoch seconds; `params.tail`: only
        the last lines."""
        from . import docker

        return docker.log_stream(docker.api_client(), container_id, params)

    def events_of(self, kinds: Collection[str]) -> EngineEvents:
        """A not yet started follower of the container events of these kinds (Docker's
        action names: create, start, stop, die, destroy, pause, unpause, health_status …);
        `events()` is the one health waits use."""
        from . import docker

        return EngineEvents(docker.container_events, kinds)

    def engine_version(self) -> dict[str, Any]:
        """The engine's version document (Version, ApiVersion, Os, Arch …)."""
        from . import docker

        return docker.engine_version()

    def ping(self) -> None:
        """Raise EngineUnavailable (saying how to start one) when no engine answers: what
        a command checks before it starts work that needs the engine."""
        from . import docker

        docker.client()


class ComposeBackend(Backend):
    """Backend on Compose v2 and the Engine API of the local (DOCKER_HOST) engine:
    Backend's own methods, as they are."""


_default = ComposeBackend()


def default_backend() -> Backend:
    """The backend operations use until a Context hands them one: Compose on the local
    engine (a swarm site's data operations still go through swarm/ for now)."""
    return _default
