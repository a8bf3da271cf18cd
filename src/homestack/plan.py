"""The dependency graph across stacks and services, its waves, and what `up` would create.

Nothing here touches Docker: the plan is read from the files alone, so it is instant and
works without an engine.
"""

from __future__ import annotations

import difflib
import graphlib
from collections import deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import yamlio
from .catalog import Service, Site, Stack
from .errors import BadInput
from .resolved import resolve
from .serial import Serialised


@dataclass(frozen=True)
class Edge:
    service: str
    needs: str
    why: str  # "compose depends_on", "x-homestack depends_on", "stack depends_on"


@dataclass
class Graph:
    services: dict[str, Service]
    needs: dict[str, set[str]]
    edges: list[Edge]
    unknown: list[tuple[Service, str]] = field(default_factory=list)
    #: the needs that are only a compose depends_on with `required: false` (also in `needs`):
    #: Compose starts the target first and waits for it, but starts the service even when the
    #: target fails (a warning). A target not in the project is refused all the same
    #: ("depends on undefined service"), so it is a need like any other for the plan.
    optional: dict[str, set[str]] = field(default_factory=dict)

    def stack_needs(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {s.stack: set() for s in self.services.values()}
        for name, deps in self.needs.items():
            mine = self.services[name].stack
            for dep in deps:
                theirs = self.services[dep].stack
                if theirs != mine:
                    out[mine].add(theirs)
        return out


def compose_depends_on(service: Service) -> list[str]:
    raw = service.compose.get("depends_on")
    if isinstance(raw, list):
        return [str(item) for item in raw]
    if isinstance(raw, dict):
        return [str(key) for key in raw]
    return []


def compose_required(service: Service, target: str) -> bool:
    """False for a compose `depends_on: {target: {required: false}}`. Compose (v2.40) still
    starts the target first and waits for its condition, but starts the service even when
    the target fails to (a warning); a target that is not in the project is refused as for
    any depends_on ("depends on undefined service")."""
    raw = service.compose.get("depends_on")
    if isinstance(raw, dict):
        spec = raw.get(target)
        return not (isinstance(spec, dict) and spec.get("required") is False)
    return True


def _stack_gate(stack: Stack) -> list[Service]:
    enabled = stack.enabled
    critical = [s for s in enabled if s.meta and s.meta.critical]
    return critical or enabled


def build_graph(site: Site, services: list[Service] | None = None) -> Graph:
    """The graph of the enabled services (or the given ones and what they need)."""
    enabled = {s.id: s for s in site.services(enabled_only=True)}
    known = {s.id: s for s in site.services()}
    wanted = list(services) if services is not None else list(enabled.values())
    graph = Graph({}, {}, [])
    queue = list(wanted)
    while queue:
        service = queue.pop()
        if service.id in graph.services:
            continue
        graph.services[service.id] = service
        deps: set[str] = set()
        soft: set[str] = set()
        for name in compose_depends_on(service):
            deps.add(name)
            if compose_required(service, name):
                graph.edges.append(Edge(service.id, name, "compose depends_on"))
            else:
                soft.add(name)
                graph.edges.append(Edge(service.id, name, "compose depends_on (required: false)"))
        hard = set(deps) - soft
        for name in service.meta.depends_on if service.meta else []:
            deps.add(name)
            hard.add(name)
            graph.edges.append(Edge(service.id, name, "x-homestack depends_on"))
        for stack_id in site.stacks[service.stack].meta.depends_on:
            if stack_id in site.stacks:
                for gate in _stack_gate(site.stacks[stack_id]):
                    deps.add(gate.id)
                    hard.add(gate.id)
                    graph.edges.append(Edge(service.id, gate.id, f"stack depends_on {stack_id}"))
        resolved: set[str] = set()
        for name in deps:
            target = enabled.get(name) or (known.get(name) if services is not None else None)
            if target is None:
                graph.unknown.append((service, name))
                continue
            resolved.add(name)
            queue.append(target)
        graph.needs[service.id] = resolved
        if soft & resolved - hard:
            graph.optional[service.id] = soft & resolved - hard
    return graph


def waves(needs: dict[str, set[str]]) -> list[list[str]]:
    """Topological layers: everything in a wave only needs earlier waves."""
    sorter = graphlib.TopologicalSorter(needs)
    try:
        sorter.prepare()
    except graphlib.CycleError as cycle:
        loop = cycle.args[1]
        raise BadInput(
            "dependency cycle: " + " → ".join(str(x) for x in reversed(loop)),
            "Remove one depends_on (compose, x-homestack or stack.yaml) from the loop.",
        ) from None
    layers: list[list[str]] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        layers.append(ready)
        sorter.done(*ready)
    return layers


@dataclass(frozen=True)
class Creation:
    kind: str  # network, secret, folder, volume
    name: str
    exists: bool
    detail: str = ""


@dataclass
class PlanResult(Serialised):
    stack_waves: list[list[str]]
    service_waves: list[list[str]]
    stacks: dict[str, list[str]]
    edges: list[Edge]
    creates: list[Creation]
    placement: list[dict[str, Any]] = field(default_factory=list)  # swarm mode: where

    DATA_ORDER = ("placement",)


def networks_for(site: Site, services: list[Service]) -> list[str]:
    """Seed networks these services join (iot_macvlan only when configured)."""
    wanted: list[str] = []
    for service in services:
        nets = service.compose.get("networks") or []
        names = list(nets) if isinstance(nets, (list, dict)) else []
        for name in [site.stacks[service.stack].network, *names]:
            if name and name not in wanted:
                wanted.append(str(name))
    return [n for n in wanted if n in site.networks]


def selected_graph(site: Site, names: list[str] | None) -> tuple[list[Service] | None, Graph]:
    """Resolve STACK|SERVICE… into (the services named, or None for all; their dependency
    graph). BadInput when a service depends on one that is not enabled, or when a file of a
    stack involved (named, or holding something they need) cannot be read."""
    if not names:
        site.require_valid()
    stacks, chosen = site.select(names)
    if names and chosen is None:
        chosen = [s for stack in stacks for s in stack.enabled]
    graph = build_graph(site, chosen)
    if names:
        site.require_valid({s.id for s in stacks} | {s.stack for s in graph.services.values()})
    _check_stack_needs(site, {s.stack for s in graph.services.values()})
    if graph.unknown:
        service, name = graph.unknown[0]
        optional = name in compose_depends_on(service) and not compose_required(service, name)
        raise BadInput(
            f"{service.id} depends on {name!r}, which is not an enabled service",
            f"Enable it (`homestack enable {name}`) or remove the dependency."
            + (
                " `required: false` does not help: Compose refuses a depends_on on a service "
                "that is not in the project ('depends on undefined service'); it only lets "
                f"{service.id} start when {name} fails."
                if optional
                else ""
            ),
            file=service.file,
            service=service.id,
        )
    return chosen, graph


def _check_stack_needs(site: Site, stack_ids: set[str]) -> None:
    """A stack's depends_on names stacks that exist (build_graph would skip a typo, so the
    stacks it names would not be waited for)."""
    for stack_id in sorted(stack_ids):
        stack = site.stacks[stack_id]
        for index, name in enumerate(stack.meta.depends_on):
            if name in site.stacks:
                continue
            close = difflib.get_close_matches(name, list(site.stacks), n=1, cutoff=0.6)
            raise BadInput(
                f"stack {stack_id} depends on stack {name!r}, which does not exist",
                (f"Did you mean {close[0]}? " if close else "")
                + f"Stacks: {', '.join(site.stacks)}.",
                file=stack.file,
                line=yamlio.load(stack.file).line("depends_on", index),
            )


def make_plan(site: Site, names: list[str] | None = None) -> PlanResult:
    _, graph = selected_graph(site, names)
    service_waves = waves(graph.needs)
    stack_waves = waves(graph.stack_needs())
    stacks: dict[str, list[str]] = {}
    for wave in service_waves:
        for name in wave:
            stacks.setdefault(graph.services[name].stack, []).append(name)
    creates: list[Creation] = []
    services = list(graph.services.values())
    resolved = resolve(site, services).services  # each service interpolated once, as up does
    for network in networks_for(site, services):
        creates.append(Creation("network", site.network_name(network), False, "ensure"))
    for service in services:
        for secret in service.meta.secrets if service.meta else []:
            path = site.secrets_dir / f"{service.id}_{secret.name}"
            creates.append(Creation("secret", str(path), path.exists(), f"{secret.length} chars"))
    for service in services:
        for folder in (
            site.data_root / service.id,
            site.data_root / "config" / service.id,
            site.data_root / "backups" / service.id,
        ):
            creates.append(Creation("folder", str(folder), folder.is_dir()))
        data = service.doc.data if service.doc else None
        volumes = data.get("volumes") if isinstance(data, dict) else None
        own = resolved[service.id].volume if service.id in resolved else None
        for key in volumes or {}:
            name = own[0] if own and key == service.volume_name else site.prefix + str(key)
            creates.append(Creation("volume", name, False, "ensure"))
    result = PlanResult(stack_waves, service_waves, stacks, graph.edges, creates)
    from .swarm import is_swarm

    if is_swarm(site):
        from .swarm.placement import plan_placement

        result.placement = plan_placement(site, services)
    return result


# ---- dependents: what else goes down with `homestack down STACK|SERVICE…` ------------------
# Compose's own rule, applied across stacks: `docker compose stop X` also stops what depends
# on X. The edges are the graph's above; this part only walks them backwards. Pure: the
# caller says what runs.


@dataclass(frozen=True)
class Dependent:
    """A running service that needs something being taken down.

    `path` runs from this service to the target it needs: ("open-webui", "authelia"), or
    longer when it needs it through others; `stacks` holds the stack of each step."""

    service: str
    stack: str
    path: tuple[str, ...]
    stacks: tuple[str, ...]
    why: str  # the edge(s) from service to path[1]: "x-homestack depends_on", …

    @property
    def needs(self) -> str:
        return self.path[1]

    @property
    def target(self) -> str:
        return self.path[-1]

    def labels(self) -> list[str]:
        return [f"{stack}/{name}" for stack, name in zip(self.stacks, self.path, strict=True)]

    def reason(self) -> str:
        """'ai/open-webui needs essentials/authelia (stack depends_on essentials)'; a longer
        path reads '…, which needs …'."""
        labels = self.labels()
        text = f"{labels[0]} needs {labels[1]} ({self.why})"
        for label in labels[2:]:
            text += f", which needs {label}"
        return text

    def to_data(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "stack": self.stack,
            "needs": self.needs,
            "needs_stack": self.stacks[1],
            "why": self.why,
            "target": self.target,
            "path": self.labels(),
            "reason": self.reason(),
        }


def find_dependents(
    graph: Graph, targets: Iterable[str], running: Collection[str]
) -> list[Dependent]:
    """The services in `running` that need one of `targets`, directly or transitively,
    targets excluded; each with its shortest path to a target. Ordered by stack, then name.

    The walk goes through services that are not running too: if C needs B needs A, taking A
    down takes C down even while B is stopped (as Compose does within a project)."""
    wanted = set(targets)
    needed_by: dict[str, set[str]] = {}
    for name, needs in graph.needs.items():
        for need in needs:
            needed_by.setdefault(need, set()).add(name)
    parent: dict[str, str] = {}
    queue = deque(sorted(wanted))
    while queue:
        current = queue.popleft()
        for user in sorted(needed_by.get(current, ())):
            if user not in wanted and user not in parent:
                parent[user] = current
                queue.append(user)
    found: list[Dependent] = []
    for name, first in parent.items():
        if name not in running or name not in graph.services:
            continue
        path = [name, first]
        while path[-1] not in wanted:
            path.append(parent[path[-1]])
        whys = sorted({e.why for e in graph.edges if e.service == name and e.needs == first})
        stacks = tuple(_stack(graph, step) for step in path)
        found.append(Dependent(name, stacks[0], tuple(path), stacks, ", ".join(whys)))
    return sorted(found, key=lambda d: (d.stack, d.service))


def order_within(
    full: Mapping[str, Collection[str]], chosen: Mapping[str, Collection[str]]
) -> list[list[str]]:
    """Waves of the chosen services (keys of `chosen`, with their own needs) where one also
    counts as needing another it reaches only through services left out of the choice
    (C needs B needs A, B not chosen: C still goes before A when taken down)."""
    keep = set(chosen)
    needs: dict[str, set[str]] = {}
    for name, own in chosen.items():
        reached: set[str] = set()
        stack = list(full.get(name, ()))
        while stack:
            step = stack.pop()
            if step not in reached:
                reached.add(step)
                stack.extend(full.get(step, ()))
        needs[name] = (reached & keep) | set(own)
    return waves(needs)


def _stack(graph: Graph, name: str) -> str:
    service = graph.services.get(name)
    return service.stack if service is not None else "?"


def is_running(state: str) -> bool:
    """A container state whose service would break if what it needs went away."""
    return state in ("running", "restarting", "paused")
