"""What else goes down with `homestack down STACK|SERVICE…`: the running services, in any
stack, that need (directly or through others) what is taken down.

Compose's own rule, applied across stacks: `docker compose stop X` also stops what depends
on X. The edges are the plan's (compose depends_on, x-homestack depends_on, stack.yaml
depends_on); this module only walks them backwards. Pure: the caller says what runs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..plan import Graph, waves


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
