"""depends_on across services and stacks: unknown or disabled targets, and cycles.

Three kinds of edge make one graph, as `plan` builds it: compose `depends_on` (inside a
stack), x-homestack `depends_on` (any stack) and stack.yaml `depends_on` (every service of
the stack waits for the other stack's critical services, or all its enabled ones).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..catalog import Service, Site
from ..findings import Finding, Severity
from ..plan import Dependent, compose_depends_on, compose_required
from .core import LintContext, rule


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str  # "compose", "x-homestack", "stack"
    file: Path
    line: int | None


def _own_edges(context: LintContext, service: Service) -> Iterator[Edge]:
    raw = service.compose.get("depends_on")
    for index, target in enumerate(compose_depends_on(service)):
        key: str | int = target if isinstance(raw, dict) else index
        line = context.line(service, "depends_on", key)
        yield Edge(service.id, target, "compose", service.file, line)
    for index, target in enumerate(service.meta.depends_on if service.meta else []):
        line = context.line(service, "x-homestack", "depends_on", index)
        yield Edge(service.id, target, "x-homestack", service.file, line)


def _stack_gate(context: LintContext, stack_id: str) -> list[str]:
    enabled = context.site.stacks[stack_id].enabled
    critical = [s.id for s in enabled if s.meta and s.meta.critical]
    return critical or [s.id for s in enabled]


def _gate_node(stack_id: str) -> str:
    # one node per stack gate keeps the graph small: service → @stack → its gate services
    return f"@{stack_id}"


def _graph(context: LintContext) -> dict[str, list[Edge]]:
    known = {s.id for s in context.services}
    graph: dict[str, list[Edge]] = {s.id: [] for s in context.services}
    stacks = context.site.stacks
    for stack_id, stack in stacks.items():
        graph[_gate_node(stack_id)] = [
            Edge(_gate_node(stack_id), gate, "stack", stack.file, None)
            for gate in _stack_gate(context, stack_id)
            if gate in known
        ]
    for service in context.services:
        for edge in _own_edges(context, service):
            if edge.target in known:
                graph[service.id].append(edge)
        stack = stacks[service.stack]
        for other in stack.meta.depends_on:
            if other in stacks and other != stack.id:
                graph[service.id].append(
                    Edge(service.id, _gate_node(other), "stack", stack.file, None)
                )
    return graph


def strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's components with more than one node, or a node that needs itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0

    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = graph.get(node, [])
            if child < len(targets):
                work.append((node, child + 1))
                nxt = targets[child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in targets:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def _loop(start: str, first: str, graph: dict[str, list[str]], members: set[str]) -> list[str]:
    """A path start → first → … → start inside one component."""
    paths = {first: [start, first]}
    queue = [first]
    while queue:
        node = queue.pop(0)
        if node == start:
            return paths[node]
        for nxt in graph.get(node, []):
            if nxt in members and nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
            if nxt == start:
                return [*paths[node], start]
    return [start, first, start]


@rule("depends.cycle", "depends_on never loops, across services and stacks")
def depends_cycle(context: LintContext) -> Iterator[Finding]:
    yield from _stack_cycles(context)
    edges = _graph(context)
    simple = {name: [e.target for e in out] for name, out in edges.items()}
    by_id = {s.id: s for s in context.services}
    for component in strongly_connected(simple):
        members = set(component)
        on = all(by_id[m].enabled for m in component if m in by_id)
        severity = Severity.ERROR if on else Severity.WARNING
        for name in component:
            for edge in edges[name]:
                if edge.kind == "stack" or edge.target not in members:
                    continue  # stack-only loops are reported on stack.yaml
                loop = [
                    f"stack {n[1:]}" if n.startswith("@") else n
                    for n in _loop(name, edge.target, simple, members)
                ]
                yield Finding(
                    "depends.cycle",
                    severity,
                    f"dependency cycle: {' → '.join(loop)} (this edge: {edge.kind} depends_on)",
                    edge.file,
                    edge.line,
                    name,
                    "Remove one depends_on of the loop (compose, x-homestack or stack.yaml); "
                    "the service that is needed first must not wait for the other.",
                )


def _stack_cycles(context: LintContext) -> Iterator[Finding]:
    stacks = context.site.stacks
    graph = {sid: [d for d in s.meta.depends_on if d in stacks] for sid, s in stacks.items()}
    for component in strongly_connected(graph):
        members = set(component)
        for sid in component:
            doc = context.stack_docs.get(sid)
            for index, target in enumerate(stacks[sid].meta.depends_on):
                if target not in members:
                    continue
                loop = _loop(sid, target, graph, members)
                yield Finding(
                    "depends.cycle",
                    Severity.ERROR,
                    f"stack dependency cycle: {' → '.join(loop)}",
                    stacks[sid].file,
                    doc.line("depends_on", index) if doc else None,
                    None,
                    "Remove one stack from a depends_on list in the loop.",
                )


def _did_you_mean(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f"Did you mean {close[0]}? " if close else ""


@rule("depends.unknown", "depends_on names a service or stack that exists and is enabled")
def depends_unknown(context: LintContext) -> Iterator[Finding]:
    by_id = {s.id: s for s in context.site.services()}
    names = list(by_id)
    for service in context.services:
        for edge in _own_edges(context, service):
            target = by_id.get(edge.target)
            message: str | None = None
            hint = ""
            severity = Severity.ERROR if service.enabled else Severity.WARNING
            if target is None:
                message = f"{service.id} depends on {edge.target!r}, which does not exist"
                hint = _did_you_mean(edge.target, names) + "Fix the name or remove the entry."
            elif edge.kind == "compose" and target.stack != service.stack:
                message = (
                    f"{service.id} has compose depends_on {edge.target!r} from the "
                    f"{target.stack} stack; Compose only sees services of its own stack"
                )
                hint = "Move it to x-homestack depends_on, which works across stacks."
            elif not target.enabled and service.enabled:
                message = f"{service.id} depends on {edge.target}, which is disabled"
                hint = f"Enable it (`homestack enable {edge.target}`) or remove the dependency."
                if edge.kind == "compose" and not compose_required(service, edge.target):
                    # Compose (v2.40) refuses a depends_on on a service that is not in the
                    # project, required or not: a disabled service's file is not passed
                    message += (
                        "; Compose refuses the stack all the same ('depends on undefined "
                        "service'): required: false only lets it start when "
                        f"{edge.target} fails to"
                    )
            if message:
                yield Finding(
                    "depends.unknown", severity, message, edge.file, edge.line, service.id, hint
                )
    stacks = context.site.stacks
    for sid, stack in stacks.items():
        doc = context.stack_docs.get(sid)
        for index, target_id in enumerate(stack.meta.depends_on):
            if target_id not in stacks:
                yield Finding(
                    "depends.unknown",
                    Severity.ERROR,
                    f"stack {sid} depends on stack {target_id!r}, which does not exist",
                    stack.file,
                    doc.line("depends_on", index) if doc else None,
                    None,
                    _did_you_mean(target_id, list(stacks)) + f"Stacks: {', '.join(stacks)}.",
                )


def enabled_dependents(site: Site, targets: Collection[str]) -> list[Dependent]:
    """The enabled services (targets excluded) that need one of `targets` through compose
    `depends_on` (`required: false` too: Compose refuses a target that is not in the
    project) or x-homestack `depends_on`, directly or through
    each other, each with its shortest path: what `disable` of the targets leaves without
    something it needs (depends.unknown, and `up` refuses them). stack.yaml depends_on is
    left out: a stack's gate is its enabled services, so disabling one only shrinks it."""
    wanted = set(targets)
    by_id = {s.id: s for s in site.services(enabled_only=True) if s.id not in wanted}
    needed_by: dict[str, dict[str, set[str]]] = {}  # target → {user: whys}
    for service in by_id.values():
        for name, whys in _needs(service).items():
            needed_by.setdefault(name, {})[service.id] = whys
    parent: dict[str, str] = {}
    queue = sorted(wanted)
    while queue:
        current = queue.pop(0)
        for user in sorted(needed_by.get(current, {})):
            if user not in wanted and user not in parent:
                parent[user] = current
                queue.append(user)
    stack_of = {s.id: s.stack for s in site.services()}
    found: list[Dependent] = []
    for name, first in parent.items():
        path = [name, first]
        while path[-1] not in wanted:
            path.append(parent[path[-1]])
        why = ", ".join(sorted(needed_by[first][name]))
        stacks = tuple(stack_of.get(step, "?") for step in path)
        found.append(Dependent(name, stacks[0], tuple(path), stacks, why))
    return sorted(found, key=lambda d: (d.stack, d.service))


def _needs(service: Service) -> dict[str, set[str]]:
    """What one service needs for `up` to start it (name → why), as depends.unknown reads."""
    found: dict[str, set[str]] = {}
    for name in compose_depends_on(service):  # required: false too: see depends.unknown
        optional = "" if compose_required(service, name) else " (required: false)"
        found.setdefault(name, set()).add(f"compose depends_on{optional}")
    for name in service.meta.depends_on if service.meta else []:
        found.setdefault(name, set()).add("x-homestack depends_on")
    return found


def disabled_needs(site: Site, enabling: Collection[str]) -> list[Dependent]:
    """For `enable`: the disabled services that the ones being enabled need, directly or
    through others (enabled or not), each with the path from the service enabled; what
    `up` would refuse them for until those are enabled too."""
    wanted = set(enabling)
    by_id = {s.id: s for s in site.services()}
    found: list[Dependent] = []
    reported: set[str] = set()
    for origin in sorted(wanted):
        if origin not in by_id:
            continue
        paths = {origin: [origin]}
        queue = [origin]
        while queue:
            current = queue.pop(0)
            for name in sorted(_needs(by_id[current])):
                target = by_id.get(name)
                if target is None or name in paths:
                    continue
                paths[name] = [*paths[current], name]
                queue.append(name)
                if not target.enabled and name not in wanted and name not in reported:
                    reported.add(name)
                    path = paths[name]
                    why = ", ".join(sorted(_needs(by_id[origin])[path[1]]))
                    stacks = tuple(by_id[step].stack for step in path)
                    found.append(Dependent(origin, stacks[0], tuple(path), stacks, why))
    return found
