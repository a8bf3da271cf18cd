"""Tarjan's components against a brute-force reachability check on random graphs."""

from __future__ import annotations

import random

from homestack.lint.rules_deps import strongly_connected


def _reaches(graph: dict[str, list[str]], start: str, goal: str) -> bool:
    seen: set[str] = set()
    todo = list(graph.get(start, []))
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, []))
    return False


def test_components_are_exactly_the_nodes_on_cycles() -> None:
    rng = random.Random(7)
    for _ in range(300):
        nodes = [f"n{i}" for i in range(rng.randint(1, 9))]
        graph = {n: [m for m in nodes if rng.random() < 0.18] for n in nodes}
        components = strongly_connected(graph)
        on_cycle = {n for n in nodes if _reaches(graph, n, n)}
        assert {n for c in components for n in c} == on_cycle
        for component in components:  # members of one component reach each other
            assert all(_reaches(graph, a, b) for a in component for b in component)
