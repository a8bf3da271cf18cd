"""The Docker calls backups need: a service's state, stop/start/pause, a dump, health.

All of them go through engine.compose.ComposeProject, scoped to one service's compose file,
so backup code never talks to Docker itself.
"""

from __future__ import annotations

import os
import time
from typing import Any, BinaryIO

from ..catalog import Service, Site
from ..errors import CommandFailed
from .backend import Backend
from .compose import Action, ComposeProject
from .model import Container, as_dict
from .swarm_backend import backend_for


def _swarm(site: Site) -> Backend | None:
    """In swarm mode the service is a swarm service on its data node, and the site's
    backend (SwarmBackend) acts on it there: stop = scale to 0, start = scale to 1, and,
    as swarm cannot freeze a task, a pause is a stop."""
    from ..swarm import is_swarm

    return backend_for(site) if is_swarm(site) else None


def project_for(site: Site, service: Service) -> ComposeProject:
    return ComposeProject(site, site.stacks[service.stack], services=[service])


def _act(site: Site, service: Service, action: Action, timeout: float | None) -> None:
    backend_for(site).act(project_for(site, service), action, [service.id], timeout=timeout)


def state(site: Site, service: Service) -> Container:
    """The service's container as its backend lists it (Container() when it has none; on a
    swarm: the service, running once a task runs)."""
    return backend_for(site).service_container(project_for(site, service), service.id)


def container(site: Site, service: Service) -> Container | None:
    """The service's container (docker inspect), None when it has none."""
    if _swarm(site) is not None:  # the service as a backup watches it (not one task)
        from ..swarm import data

        return data.container(site, service)
    from . import docker as engine

    found = state(site, service)
    if not found.exists or not found.id:
        return None
    return engine.inspect_container(found.id)


def stop(site: Site, service: Service, timeout: float = 120) -> None:
    _act(site, service, "stop", timeout)


def start(site: Site, service: Service, timeout: float = 120) -> None:
    _act(site, service, "start", timeout)


def pause(site: Site, service: Service, attempts: int = 3) -> None:
    """Freeze the container. runc gives up ("unable to freeze") when a process will not
    stop in time, e.g. on a busy machine right after a start: that is worth another try."""
    if _swarm(site) is not None:
        _act(site, service, "stop", None)
        return
    for attempt in range(attempts):
        try:
            _act(site, service, "pause", 60)
        except CommandFailed as failed:
            if "unable to freeze" not in failed.stderr or attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
        else:
            return


def unpause(site: Site, service: Service) -> None:
    if _swarm(site) is not None:
        _act(site, service, "start", None)
        return
    _act(site, service, "unpause", 60)


#: Docker's default health check interval and timeout (when the image or file sets none)
DEFAULT_PROBE_S = 30.0


def _probe_seconds(health: dict[str, Any], key: str) -> float:
    value = health.get(key)
    return value / 1e9 if isinstance(value, int) and value > 0 else DEFAULT_PROBE_S


def wait_fresh_health(site: Site, service: Service, margin: float = 5.0) -> str:
    """After an unpause: the probes that ran while the container was frozen failed, and
    Docker shows that (`unhealthy`) until its next probe, up to one interval later (30 s
    for Authelia), so an `up` or `doctor` right after a good backup reported a failure.
    Waits for that next probe when the container is not healthy; returns its health then
    ("" without a health check)."""
    from . import docker as engine

    found = state(site, service)
    if not found.id or found.health in (None, "healthy"):
        return found.health or ""
    raw = engine.inspect_container_raw(found.id) or {}
    check = as_dict(as_dict(raw.get("Config")).get("Healthcheck"))
    deadline = time.monotonic() + (
        _probe_seconds(check, "Interval") + _probe_seconds(check, "Timeout") + margin
    )
    health: str | None = found.health
    while time.monotonic() < deadline:
        now = engine.inspect_container(found.id)
        health = now.health if now is not None else None
        if health in (None, "healthy"):
            break
        time.sleep(0.25)
    return health or ""


def dump(
    site: Site, service: Service, command: list[str], sink: BinaryIO, timeout: float = 3600
) -> int:
    """Run `command` in the service's container, its stdout (bytes) into `sink` (a file the
    caller opened: never a path, which the container could turn into a symlink).

    Returns the number of bytes written; raises when it exits non-zero.
    """
    try:
        project = project_for(site, service)
        backend_for(site).exec(project, service.id, command, sink, timeout=timeout)
    except CommandFailed as failed:
        if failed.returncode == -1:  # timed out
            raise
        raise CommandFailed(
            failed.command,
            failed.returncode,
            failed.stderr,
            f"The dump command of {service.id} failed; check x-homestack.backup.dump_command "
            f"in {service.file.name} and that the service is healthy.",
            service=service.id,
        ) from None
    finally:
        sink.flush()
        os.fsync(sink.fileno())
    return os.fstat(sink.fileno()).st_size


def wait_healthy(site: Site, service: Service, timeout: float = 180) -> Container:
    """Wait until the container runs and, when it has a healthcheck, is healthy: the one
    event-driven wait of engine.health (the one `up` and `restart` use; on a swarm it polls
    the service's tasks)."""
    from .health import Watched

    watched = Watched(site.project_name(site.stacks[service.stack]), service.id)
    verdict = backend_for(site).wait_healthy([watched], timeout)[watched.key]
    if verdict.ok:
        return verdict.container or state(site, service)
    raise verdict.error(service.id)
