"""`homestack down`, `restart` and `pull`.

down stops and removes containers in reverse dependency order (dependents first; stacks of
one wave in parallel). Named volumes are kept unless `volumes=True`; even then the folders
under DATA/ stay on disk: our volumes are bind mounts of DATA/{service}, so removing a volume
never deletes data. The seed networks are external and shared, so down never removes them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ..catalog import Site
from ..errors import CommandFailed
from .projects import PROJECT_LABEL, Selection, parallel, registry_error, select
from .standin import image_of


@dataclass
class DownResult:
    removed: list[str]  # services whose containers were stopped and removed
    stacks: list[str]  # whole stacks taken down (orphans included)
    volumes_removed: bool
    elapsed: float
    left: list[str] = field(default_factory=list)  # containers still there afterwards

    def to_data(self) -> dict[str, Any]:
        return {
            "removed": self.removed,
            "stacks": self.stacks,
            "volumes_removed": self.volumes_removed,
            "elapsed": round(self.elapsed, 2),
            "left": self.left,
        }


def remove_services(selection: Selection, names: list[str], *, volumes: bool = False) -> None:
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
            args = ["rm", "--stop", "--force"] + (["--volumes"] if volumes else [])
            selection.projects[stack_id].run(*args, *services)

        parallel({k: (k, v) for k, v in batch.items()}, stop)


def down(site: Site, names: list[str] | None = None, *, volumes: bool = False) -> DownResult:
    """Take services (or whole stacks, orphans included) down, dependents first."""
    started = time.monotonic()
    selection = select(site, names, with_dependencies=False, overlays=False)
    whole = _whole_stacks(site, names)
    services = [s.id for s in selection.services]
    remove_services(selection, services, volumes=volumes)
    # a whole stack: also containers of services no longer enabled, and its named volumes
    stack_args = ["down", "--remove-orphans"] + (["--volumes"] if volumes else [])
    parallel(
        {s: selection.projects[s] for s in whole if s in selection.projects},
        lambda project: project.run(*stack_args),
    )
    left = _left(selection, services)
    return DownResult(services, whole, volumes, time.monotonic() - started, left)


def _whole_stacks(site: Site, names: list[str] | None) -> list[str]:
    if not names:
        return list(site.stacks)
    stacks, chosen = site.select(names)
    return [s.id for s in stacks] if chosen is None else []


def _left(selection: Selection, services: list[str]) -> list[str]:
    from ..engine import docker as engine

    projects = {p.name for p in selection.projects.values()}
    wanted = set(services)
    return [
        c.name
        for c in engine.list_containers(labels={PROJECT_LABEL: None})
        if c.labels.get(PROJECT_LABEL) in projects
        and c.labels.get("com.docker.compose.service") in wanted
    ]


@dataclass
class RestartResult:
    restarted: list[str]
    elapsed: float

    def to_data(self) -> dict[str, Any]:
        return {"restarted": self.restarted, "elapsed": round(self.elapsed, 2)}


def restart(site: Site, names: list[str] | None = None, *, timeout: float = 300) -> RestartResult:
    """Restart existing containers in dependency order: a wave is restarted only once the
    wave before it is running and healthy again (as `up` gates a first start)."""
    from ..engine.backup_ops import wait_healthy

    started = time.monotonic()
    selection = select(site, names, with_dependencies=False, overlays=False)
    done: list[str] = []
    for wave in selection.order:
        batch: dict[str, list[str]] = {}
        for name in wave:
            batch.setdefault(selection.graph.services[name].stack, []).append(name)
        parallel(
            {k: (k, v) for k, v in batch.items()},
            lambda item: selection.projects[item[0]].run("restart", *item[1]),
        )
        parallel(
            {name: selection.graph.services[name] for name in wave},
            lambda service: wait_healthy(site, service, timeout),
        )
        done += wave
    return RestartResult(done, time.monotonic() - started)


@dataclass
class PullResult:
    pulled: dict[str, list[str]]  # stack → services

    def to_data(self) -> dict[str, Any]:
        return {"pulled": self.pulled}


def pull(site: Site, names: list[str] | None = None) -> PullResult:
    """Pull the images of the selected services, stacks in parallel."""
    selection = select(site, names, with_dependencies=False)
    batch: dict[str, list[str]] = {}
    for service in selection.services:
        batch.setdefault(service.stack, []).append(service.id)

    def one(item: tuple[str, list[str]]) -> None:
        stack_id, services = item
        project = selection.projects[stack_id]
        done = project.run("pull", "--quiet", *services, check=False, timeout=3600)
        if done.returncode != 0:
            env = site.stack_env(project.stack)
            images = [
                f"{image_of(selection.graph.services[name], env) or '?'} (service {name})"
                for name in services
            ]
            raise registry_error(images, done.stderr or done.stdout, standin_hint=False)

    try:
        parallel({k: (k, v) for k, v in batch.items()}, one)
    except CommandFailed as failed:  # compose itself could not run (timeout)
        raise registry_error([failed.command[-1]], failed.stderr, standin_hint=False) from None
    return PullResult(batch)
