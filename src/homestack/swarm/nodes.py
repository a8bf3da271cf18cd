"""`homestack nodes` and `homestack nodes label`: the swarm's machines as homestack sees them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..catalog import Site
from .placement import GENERIC_KINDS, GPU_LABEL, label_args


@dataclass(frozen=True)
class NodeRow:
    hostname: str
    id: str
    role: str
    availability: str
    state: str
    address: str
    labels: dict[str, str]
    gpu: str  # from the node's label, else the generic resources its engine advertises
    services: list[str] = field(default_factory=list)  # this site's services running there

    def to_data(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class NodesResult:
    rows: list[NodeRow]

    def to_data(self) -> dict[str, Any]:
        return {"nodes": [r.to_data() for r in self.rows]}


def list_nodes(site: Site) -> NodesResult:
    from ..engine import swarm as engine
    from . import stack_name

    engine.require_manager()
    found = engine.nodes()
    live = engine.services({stack_name(site, k) for k in site.stacks})
    names = {s.id: s.labels.get("org.homestack.service", s.name) for s in live}
    where: dict[str, list[str]] = {}
    for task in engine.tasks(set(names)):
        if task.desired == "running" and task.state == "running":
            where.setdefault(task.node_id, []).append(names[task.service_id])
    kinds = {kind: vendor for vendor, kind in GENERIC_KINDS.items()}
    rows = []
    for node in found:
        gpu = node.labels.get(GPU_LABEL, "")
        if not gpu:
            gpu = ", ".join(sorted(kinds[k] for k in node.generic if k in kinds))
        rows.append(
            NodeRow(
                node.hostname,
                node.id[:12],
                node.role,
                node.availability,
                node.state,
                node.address,
                node.labels,
                gpu,
                sorted(where.get(node.id, [])),
            )
        )
    return NodesResult(rows)


def label_node(site: Site, name: str, pairs: list[str]) -> NodesResult:
    from ..engine import swarm as engine

    engine.require_manager()
    add, remove = label_args(pairs)
    node = engine.find_node(name)
    engine.set_node_labels(node, add, remove)
    result = list_nodes(site)
    return NodesResult([r for r in result.rows if r.id == node.id[:12]])


def data_nodes(site: Site, services: list[Any]) -> dict[str, str]:
    """service → the node its data lives on (by the placement labels), for refusals."""
    from ..engine import swarm as engine
    from .placement import place

    engine.require_manager()
    node_list = engine.nodes()
    placements = place(site, services, node_list)
    manager = next((n.hostname for n in node_list if n.role == "manager"), "the manager")
    out: dict[str, str] = {}
    for service in services:
        chosen = placements[service.id]
        if "data" in chosen.reasons or "data (moved)" in chosen.reasons:
            out[service.id] = ", ".join(chosen.nodes) or "no node (label one data=true)"
        else:
            out[service.id] = manager
    return out
