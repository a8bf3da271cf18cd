"""The gateway to the engine: the `Backend` protocol operations call, and `ComposeBackend`.

Operations (up, down, restart, backups, updates, status) ask a Backend, never Docker: the
one model they get back is `engine.model.Container`. `ComposeBackend` implements it with
Compose v2 (engine.compose, for what Compose decides: config hashes, create, recreate) and
the Engine API (engine.docker, for what is one call: list, inspect, start a created
container, events, logs, stats). Nothing here imports the docker SDK at import time.

A second backend (Docker Swarm, engine/swarm.py) implements the same methods over a swarm
stack: a `ComposeProject` names the stack (its files, env, project name = stack name);
`up` = `docker stack deploy` of those files, `stop`/`start` = scale to 0/1, `pause` is
refused (swarm cannot freeze a task), `containers` = the stack's running tasks as
Containers (labels: the same PROJECT_LABEL/SERVICE_LABEL keys filled from the stack and
service names), `wait_healthy` = a task of each service in `running` state (swarm only
reports a task running once its health check passed).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import IO, Any, Protocol, runtime_checkable

from .compose import Action, ComposeProject, Pulled
from .health import EngineEvents, Verdict, Watched
from .health import stays_healthy as _stays_healthy
from .health import wait_healthy as _wait_healthy
from .model import PROJECT_LABEL, SERVICE_LABEL, Container
from .usage import Usage


@runtime_checkable
class Backend(Protocol):
    """What operations need of an engine. Methods on a project act on the named services of
    that project (never their dependencies); the others on containers by id."""

    # ---- the desired state, as the backend computes it
    def config_hashes(self, project: ComposeProject) -> dict[str, str]:
        """service → the hash its container is labelled with when made from these files."""
        ...

    def check_config(self, project: ComposeProject) -> None:
        """Raise CommandFailed with the backend's complaint about the project's files."""
        ...

    def config(self, project: ComposeProject) -> dict[str, Any]:
        """The merged, interpolated model the backend will run."""
        ...

    # ---- acting on services
    def pull(
        self, project: ComposeProject, services: Iterable[str], *, timeout: float
    ) -> Pulled: ...

    def create(self, project: ComposeProject, services: Iterable[str]) -> None:
        """Make the services' containers without starting them."""
        ...

    def up(self, project: ComposeProject, services: Iterable[str]) -> None:
        """Create or recreate (config or image changed) and start the services."""
        ...

    def act(
        self,
        project: ComposeProject,
        action: Action,
        services: Iterable[str],
        *,
        timeout: float | None = None,
    ) -> None:
        """Start, stop, restart, pause or unpause the services' existing containers."""
        ...

    def kill(self, project: ComposeProject, services: Iterable[str], signal: str) -> bool: ...

    def remove(
        self,
        project: ComposeProject,
        services: Iterable[str],
        *,
        stop: bool = False,
        volumes: bool = False,
        check: bool = True,
    ) -> None: ...

    def down(self, project: ComposeProject, *, volumes: bool = False) -> None:
        """The whole project, orphans included."""
        ...

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
        ...

    # ---- reading the live state
    def service_container(self, project: ComposeProject, service: str) -> Container:
        """The service's container, any state (`Container()`, exists False: none)."""
        ...

    def containers(
        self,
        projects: Collection[str] | None = None,
        *,
        include_stopped: bool = True,
        oneoffs: bool = False,
    ) -> list[Container]:
        """The containers of these projects (None: of every project); one-off `compose run`
        containers only with oneoffs=True."""
        ...

    def inspect(self, container_id: str) -> Container | None: ...

    def image_id(self, image: str) -> str | None:
        """The local id of an image name (None: this machine does not have it)."""
        ...

    def start_container(self, container_id: str) -> None:
        """Start a container `create` made: one call, no Compose process."""
        ...

    def events(self) -> EngineEvents:
        """A not yet started follower of container start/die/health events."""
        ...

    def wait_healthy(
        self, watched: Iterable[Watched], timeout: float
    ) -> dict[tuple[str, str], Verdict]:
        """Until each service is healthy (running without a health check; a oneshot job:
        exited 0) or failed; see engine.health."""
        ...

    def stays_healthy(
        self, projects: set[str], services: Collection[str], seconds: float
    ) -> Container | None:
        """The first of these services' containers that turns unhealthy or stops within
        `seconds` (None: none did); see engine.health."""
        ...

    def logs(self, container_id: str, *, tail: int = 20) -> str: ...

    def stats(self, pids: Mapping[str, int]) -> dict[str, Usage]:
        """CPU and memory of running containers (container id → its main pid)."""
        ...


class ComposeBackend:
    """Backend on Compose v2 and the Engine API of the local (DOCKER_HOST) engine."""

    # ---- the desired state
    def config_hashes(self, project: ComposeProject) -> dict[str, str]:
        return project.config_hashes()

    def check_config(self, project: ComposeProject) -> None:
        project.check_config()

    def config(self, project: ComposeProject) -> dict[str, Any]:
        return project.config()

    # ---- acting on services
    def pull(self, project: ComposeProject, services: Iterable[str], *, timeout: float) -> Pulled:
        return project.pull(services, timeout=timeout)

    def create(self, project: ComposeProject, services: Iterable[str]) -> None:
        project.create(services)

    def up(self, project: ComposeProject, services: Iterable[str]) -> None:
        project.up(services)

    def act(
        self,
        project: ComposeProject,
        action: Action,
        services: Iterable[str],
        *,
        timeout: float | None = None,
    ) -> None:
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
        project.exec_into(service, command, sink, timeout=timeout)

    # ---- reading the live state
    def service_container(self, project: ComposeProject, service: str) -> Container:
        found = project.ps(service)
        return found[0] if found else Container()

    def containers(
        self,
        projects: Collection[str] | None = None,
        *,
        include_stopped: bool = True,
        oneoffs: bool = False,
    ) -> list[Container]:
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
        from . import docker

        return docker.image_id(image)

    def start_container(self, container_id: str) -> None:
        from . import docker

        docker.start_container(container_id)

    def events(self) -> EngineEvents:
        from . import docker

        return EngineEvents(docker.container_events)

    def wait_healthy(
        self, watched: Iterable[Watched], timeout: float
    ) -> dict[tuple[str, str], Verdict]:
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

    def stats(self, pids: Mapping[str, int]) -> dict[str, Usage]:
        from . import docker

        return docker.usage_many(docker.api_client(), dict(pids))


_default = ComposeBackend()


def default_backend() -> Backend:
    """The backend operations use until a Context hands them one: Compose on the local
    engine (a swarm site's data operations still go through swarm/ for now)."""
    return _default
