"""The Docker calls backups need: a service's state, stop/start/pause, a dump, health.

All of them go through engine.compose.ComposeProject, scoped to one service's compose file,
so backup code never talks to Docker itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ..catalog import Service, Site
from ..errors import CommandFailed, OperationFailed
from .compose import ComposeProject, require_compose


@dataclass(frozen=True)
class ServiceState:
    """What Compose reports about one service's container (tolerant of missing fields)."""

    exists: bool
    state: str = ""  # running, paused, exited, created, restarting …
    health: str = ""  # healthy, unhealthy, starting, or "" when there is no healthcheck
    image: str = ""
    id: str = ""

    @property
    def running(self) -> bool:
        return self.state in ("running", "restarting")

    @property
    def paused(self) -> bool:
        return self.state == "paused"


def _swarm(site: Site) -> Any:
    """In swarm mode the service is a swarm service on its data node: these act on it
    there (stop = scale to 0, start = scale to 1; swarm cannot pause a task)."""
    from ..swarm import is_swarm

    if not is_swarm(site):
        return None
    from ..swarm import data

    return data


def project_for(site: Site, service: Service) -> ComposeProject:
    return ComposeProject(site, site.stacks[service.stack], services=[service])


def state(site: Site, service: Service) -> ServiceState:
    if (swarm := _swarm(site)) is not None:
        return swarm.state(site, service)  # type: ignore[no-any-return]
    done = project_for(site, service).run("ps", "--all", "--format", "json", service.id, timeout=60)
    rows: list[dict[str, object]] = []
    text = done.stdout.strip()
    if text.startswith("["):
        loaded = json.loads(text)
        rows = [r for r in loaded if isinstance(r, dict)]
    else:
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith("{"):
                item = json.loads(line)
                if isinstance(item, dict):
                    rows.append(item)
    # `ps --all` also lists one-off `docker compose run` containers of the service: they are
    # not the service (taken for it, a removed service looked present, a stopped one running)
    rows = [
        r
        for r in rows
        if r.get("Service") in (None, service.id)
        and "com.docker.compose.oneoff=True" not in str(r.get("Labels") or "")
    ]
    if not rows:
        return ServiceState(False)
    row = rows[0]
    return ServiceState(
        True,
        str(row.get("State") or "").lower(),
        str(row.get("Health") or "").lower(),
        str(row.get("Image") or ""),
        str(row.get("ID") or ""),
    )


@dataclass(frozen=True)
class Container:
    """One container's life as `docker inspect` tells it: which container, in which run.

    A backup compares it before and after the time it holds the service stopped, paused
    or dumping: a new id (recreated), a new start time or restart count (started again)
    or another state (killed, unpaused, started) means someone acted on it meanwhile."""

    id: str
    name: str
    status: str  # running, paused, exited, dead, created, restarting
    started_at: str
    restart_count: int
    labels: dict[str, str] = field(default_factory=dict)

    def change_since(self, earlier: Container) -> str | None:
        """What happened to the container since `earlier`, in words; None: nothing."""
        if self.id != earlier.id:
            return f"was replaced by a new container ({self.id[:12]}, {self.status})"
        if self.started_at != earlier.started_at or self.restart_count != earlier.restart_count:
            return f"was started again ({self.status} now)"
        if self.status != earlier.status:
            return f"went from {earlier.status} to {self.status}"
        return None


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def container(site: Site, service: Service) -> Container | None:
    """The service's container (docker inspect), None when it has none."""
    if (swarm := _swarm(site)) is not None:
        return swarm.container(site, service)  # type: ignore[no-any-return]
    from . import docker as engine

    found = state(site, service)
    if not found.exists or not found.id:
        return None
    raw = engine.inspect_container_raw(found.id)
    if raw is None:
        return None
    life = _mapping(raw.get("State"))
    labels = _mapping(_mapping(raw.get("Config")).get("Labels"))
    count = raw.get("RestartCount")
    return Container(
        id=str(raw.get("Id") or found.id),
        name=str(raw.get("Name") or "").lstrip("/"),
        status=str(life.get("Status") or found.state),
        started_at=str(life.get("StartedAt") or ""),
        restart_count=count if isinstance(count, int) else 0,
        labels={str(k): str(v) for k, v in labels.items()},
    )


def stop(site: Site, service: Service, timeout: float = 120) -> None:
    if (swarm := _swarm(site)) is not None:
        swarm.scale(site, service, 0, timeout)
        return
    project_for(site, service).run("stop", service.id, timeout=timeout)


def start(site: Site, service: Service, timeout: float = 120) -> None:
    if (swarm := _swarm(site)) is not None:
        swarm.scale(site, service, 1, timeout)
        return
    project_for(site, service).run("start", service.id, timeout=timeout)


def pause(site: Site, service: Service, attempts: int = 3) -> None:
    """Freeze the container. runc gives up ("unable to freeze") when a process will not
    stop in time, e.g. on a busy machine right after a start: that is worth another try."""
    if (swarm := _swarm(site)) is not None:
        swarm.scale(site, service, 0)
        return
    for attempt in range(attempts):
        try:
            project_for(site, service).run("pause", service.id, timeout=60)
        except CommandFailed as failed:
            if "unable to freeze" not in failed.stderr or attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
        else:
            return


def unpause(site: Site, service: Service) -> None:
    if (swarm := _swarm(site)) is not None:
        swarm.scale(site, service, 1)
        return
    project_for(site, service).run("unpause", service.id, timeout=60)


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
    if not found.id or found.health in ("", "healthy"):
        return found.health
    raw = engine.inspect_container_raw(found.id) or {}
    check = _mapping(_mapping(raw.get("Config")).get("Healthcheck"))
    deadline = time.monotonic() + (
        _probe_seconds(check, "Interval") + _probe_seconds(check, "Timeout") + margin
    )
    health = found.health
    while time.monotonic() < deadline:
        raw = engine.inspect_container_raw(found.id) or {}
        health = str(_mapping(_mapping(raw.get("State")).get("Health")).get("Status") or "")
        if health in ("", "healthy"):
            break
        time.sleep(0.25)
    return health


def dump(
    site: Site, service: Service, command: list[str], sink: BinaryIO, timeout: float = 3600
) -> int:
    """Run `command` in the service's container, its stdout (bytes) into `sink` (a file the
    caller opened: never a path, which the container could turn into a symlink).

    Returns the number of bytes written; raises when it exits non-zero.
    """
    require_compose()
    project = project_for(site, service)
    args = [*project.base_args(), "exec", "-T", service.id, *command]
    try:
        done = subprocess.run(
            args,
            stdout=sink,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=project.environment(),
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CommandFailed(args, -1, f"timed out after {timeout}s") from None
    sink.flush()
    os.fsync(sink.fileno())
    if done.returncode != 0:
        raise CommandFailed(
            args,
            done.returncode,
            done.stderr.decode(errors="replace"),
            f"The dump command of {service.id} failed; check x-homestack.backup.dump_command "
            f"in {service.file.name} and that the service is healthy.",
            service=service.id,
        )
    return os.fstat(sink.fileno()).st_size


def wait_healthy(site: Site, service: Service, timeout: float = 180) -> ServiceState:
    """Wait until the container runs and, when it has a healthcheck, is healthy."""
    if (swarm := _swarm(site)) is not None:
        return swarm.wait_healthy(site, service, timeout)  # type: ignore[no-any-return]
    deadline = time.monotonic() + timeout
    current = state(site, service)
    while time.monotonic() < deadline:
        current = state(site, service)
        if current.running and current.health in ("", "healthy"):
            return current
        if current.state in ("exited", "dead") or current.health == "unhealthy":
            break
        time.sleep(0.5)
    raise OperationFailed(
        f"{service.id} did not become healthy (state {current.state or 'missing'}, "
        f"health {current.health or 'none'})",
        f"Look at `docker compose logs {service.id}` (or `homestack logs {service.id}`).",
        service=service.id,
    )
