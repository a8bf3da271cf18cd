"""What `up`, `down`, `restart` and `pull` share: the selection, one Compose project per stack
(with its overlays and, in a rehearsal, the stand-in override), config hashes, live state."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .. import fsutil
from ..catalog import Service, Site, Stack
from ..engine import model
from ..engine.backend import Backend, default_backend
from ..engine.compose import ComposeProject
from ..errors import OperationFailed
from ..plan import Graph, selected_graph, waves
from ..resolved import Resolved, resolve
from ..settings import variables_in

# Compose's labels, for the callers that read them from here (engine.model defines them)
PROJECT_LABEL = model.PROJECT_LABEL
SERVICE_LABEL = model.SERVICE_LABEL
HASH_LABEL = model.HASH_LABEL
IMAGE_LABEL = model.IMAGE_LABEL
K = TypeVar("K")
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Project(ComposeProject):
    """A ComposeProject that may carry extra files after the stack's own (the stand-in)."""

    extra_files: tuple[Path, ...] = ()

    @property
    def files(self) -> list[Path]:
        return [*super().files, *self.extra_files]


@dataclass
class Selection:
    """The services a command acts on, their graph, and one project per stack."""

    graph: Graph
    order: list[list[str]]  # service waves
    projects: dict[str, Project] = field(default_factory=dict)  # stack id → project
    #: every service of the projects' files, resolved once (env, interpolated compose …)
    resolved: Resolved | None = None

    @property
    def services(self) -> list[Service]:
        return [self.graph.services[name] for wave in self.order for name in wave]


def select(
    site: Site,
    names: list[str] | None,
    *,
    with_dependencies: bool = True,
    overlays: bool = True,
) -> Selection:
    """Resolve STACK|SERVICE… into the dependency graph (and, for `up`, what they need)."""
    chosen, graph = selected_graph(site, names)
    if not with_dependencies and chosen is not None:
        keep = {s.id for s in chosen}
        graph.services = {k: v for k, v in graph.services.items() if k in keep}
        graph.needs = {k: {d for d in v if d in keep} for k, v in graph.needs.items() if k in keep}
    order = waves(graph.needs)
    selection = Selection(graph, order)
    by_stack: dict[str, list[Service]] = {}
    for service in graph.services.values():
        by_stack.setdefault(service.stack, []).append(service)
    chosen_overlays: dict[str, Sequence[str]] = {}
    for stack_id, members in by_stack.items():
        stack = site.stacks[stack_id]
        project = Project(
            site, stack, files_for(stack, members), _overlays(site, stack) if overlays else None
        )
        selection.projects[stack_id] = project
        chosen_overlays.update(project.overlays or {})
    every = [s for project in selection.projects.values() for s in project.services or ()]
    selection.resolved = resolve(site, every, overlays=chosen_overlays, needs=graph.needs)
    # a broken .env layer: bad input now, not compose failing later
    selection.resolved.raise_first()
    return selection


def files_for(stack: Stack, services: Iterable[Service]) -> list[Service]:
    """The stack's enabled services plus any selected ones that are not, in file order.

    Always the whole stack, so Compose computes the same config hash in every run."""
    wanted = {s.id for s in stack.enabled} | {s.id for s in services}
    return [s for s in stack.services.values() if s.id in wanted]


def _overlays(site: Site, stack: Stack) -> Mapping[str, list[str]]:
    from ..gpu_choice import overlays_for

    return overlays_for(site, stack)


def parallel(jobs: Mapping[K, T], work: Callable[[T], R], workers: int = 4) -> dict[K, R]:
    """Run work(job) for each job in threads; returns key → result (exceptions re-raised)."""
    if not jobs:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        futures = {key: pool.submit(work, job) for key, job in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


def config_hashes(project: Project, backend: Backend | None = None) -> dict[str, str]:
    """Compose's config hash of each service, exactly as `up` will label its container
    (`backend`: the context's; default: engine.backend.default_backend())."""
    return (backend or default_backend()).config_hashes(project)


PLUGIN_PATHS = (
    "/usr/local/lib/docker/cli-plugins/docker-compose",
    "/usr/local/libexec/docker/cli-plugins/docker-compose",
    "/usr/lib/docker/cli-plugins/docker-compose",
    "/usr/libexec/docker/cli-plugins/docker-compose",
    "~/.docker/cli-plugins/docker-compose",
)


def fingerprint(project: Project) -> str:
    """Everything Compose's config hashes are made from: the files' bytes, the values of the
    variables they use, COMPOSE_*/DOCKER_* settings, and which Compose binary is installed."""
    digest = hashlib.sha256()
    env = project.environment()
    names: set[str] = set()
    for path in [*project.files, *project.site.env_files(project.stack)]:
        try:
            data = path.read_bytes()
        except OSError:
            data = b"\0missing"
        digest.update(f"\0{path}\0".encode() + data)
        names.update(name for name, _ in variables_in(data.decode("utf-8", "replace")))
    names.update(k for k in env if k.startswith(("COMPOSE_", "DOCKER_")))
    for name in sorted(names):
        digest.update(f"\0{name}={env.get(name)}".encode())
    for candidate in PLUGIN_PATHS:
        with contextlib.suppress(OSError):
            info = Path(candidate).expanduser().stat()
            digest.update(f"\0{candidate}:{info.st_size}:{info.st_mtime_ns}".encode())
    digest.update(f"\0{project.name}".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class ConfigHashes:
    """A project's config hashes and whether they came from the cache (see remember)."""

    project: Project
    key: str  # the fingerprint of their inputs
    hashes: dict[str, str]
    cached: bool

    def remember(self) -> None:
        """Keep fresh hashes under DATA/.homestack/ for the next run (a cache: losing it
        costs a rerun). `up` calls it once Compose accepted every stack's files."""
        if self.cached:
            return
        cache = _hash_cache(self.project)
        with contextlib.suppress(OSError):
            cache.parent.mkdir(parents=True, exist_ok=True)
            payload = json.dumps({"fingerprint": self.key, "hashes": self.hashes})
            fsutil.write_atomic(cache, payload, durable=False)


def _hash_cache(project: Project) -> Path:
    """One cache per file set: `up --stand-in` hashes a stack without its override (the
    check of the user's files) and with it; one shared file would make each evict the other."""
    name = f"{project.name}+extra" if project.extra_files else project.name
    return project.site.data_root / ".homestack" / "config-hashes" / f"{name}.json"


def read_config_hashes(project: Project, backend: Backend | None = None) -> ConfigHashes:
    """config_hashes(), from the cache under DATA/.homestack/ when the fingerprint of its
    inputs is unchanged, so a no-op `up` does not start one Compose process per stack.
    Writes nothing: ConfigHashes.remember does."""
    key = fingerprint(project)
    with contextlib.suppress(OSError, ValueError):
        saved = json.loads(_hash_cache(project).read_text(encoding="utf-8"))
        if saved.get("fingerprint") == key and isinstance(saved.get("hashes"), dict):
            hashes = {str(k): str(v) for k, v in saved["hashes"].items()}
            return ConfigHashes(project, key, hashes, cached=True)
    return ConfigHashes(project, key, config_hashes(project, backend), cached=False)


_NOISE = re.compile(r"^\s*(?:\S+\s+)?(?:Pulling|Pulled|Waiting|Downloading|Interrupted|Skipped)\b")
#: compose's progress line for a failed pull: `<service> Error <reason>`
_SERVICE_ERROR = re.compile(r"^\S+\s+Error\s+(?=\S)")


def pull_failure(stderr: str) -> str:
    """The one readable reason in `docker compose pull` output (no Go stack trace)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    useful = [
        _SERVICE_ERROR.sub("", ln)
        for ln in lines
        if not _NOISE.match(ln) and not ln.startswith(("goroutine ", "\t", "panic:"))
    ]
    for line in useful:
        lowered = line.lower()
        if any(
            word in lowered
            for word in ("error", "denied", "no such host", "dial tcp", "timeout", "not found")
        ):
            return line[:300]
    return (useful or lines or ["pull failed"])[-1][:300]


def _unreachable(reason: str) -> bool:
    return any(
        word in reason.lower()
        for word in ("no such host", "dial tcp", "timeout", "connection refused", "network")
    )


def registry_error(
    images: list[str], stderr: str, *, standin_hint: bool, command: Sequence[str] | None = None
) -> OperationFailed:
    """The images could not be pulled, for the one reason in stderr."""
    reason = pull_failure(stderr)
    return pull_error(
        [(image, reason) for image in images], standin_hint=standin_hint, command=command
    )


def pull_error(
    failures: list[tuple[str, str]], *, standin_hint: bool, command: Sequence[str] | None = None
) -> OperationFailed:
    """Every image that could not be pulled, (image, reason) each: one line when they share
    the reason, else a line per image with its own."""
    reasons = list(dict.fromkeys(reason for _, reason in failures))

    def because(reason: str) -> str:
        return f"no image registry is reachable ({reason})" if _unreachable(reason) else reason

    if len(reasons) <= 1:
        what = ", ".join(image for image, _ in failures)
        message = f"cannot pull {what}: {because(reasons[0] if reasons else 'pull failed')}"
    else:
        message = f"cannot pull {len(failures)} images:\n" + "\n".join(
            f"  {image}: {because(reason)}" for image, reason in failures
        )
    hint = "Check this machine's internet access and DNS, or log in to the registry."
    if standin_hint:
        hint += (
            f" To rehearse the topology without the images, run {_standin_command(command)} "
            "(a tiny image built offline stands in for each service)."
        )
    return OperationFailed(message, hint)


def _standin_command(command: Sequence[str] | None) -> str:
    """The rehearsal in the form the user ran (`command`: Context.command, the CLI's words):
    the installer (`./install-stack.sh`, which runs `homestack install all`), `homestack
    up`, or both when not run from the CLI."""
    words = list(command or ())
    if words[:1] == ["install"]:
        return "`./install-stack.sh --stand-in` (or `homestack install all --stand-in`)"
    if words[:1] == ["up"]:
        return "`homestack up --stand-in`"
    return "`homestack up --stand-in` (with the installer: `./install-stack.sh --stand-in`)"
