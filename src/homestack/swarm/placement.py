"""Where each service may run on a swarm: by its GPU need and where its DATA is.

Node labels (set with `homestack nodes label NODE gpu=nvidia data=true`, stored as
`homestack.gpu`, `homestack.data`):

- `homestack.gpu=nvidia|amd|intel`: the node has that GPU. A `gpu: required` service is
  constrained to such a node (no node: refused); `gpu: optional` goes to one when the swarm
  has one (else it runs on the CPU anywhere). Where a node advertises the GPU as a generic
  resource (NVIDIA-GPU …), the service also reserves one.
- `homestack.data=true`: the node holding DATA/. A service with a volume or bind under
  DATA_ROOT is constrained to it; `homestack.data.SERVICE=true` on another node moves that
  one service's data there (after its DATA folder was moved, see docs/swarm.md). A
  one-node swarm needs no label.

A service whose constraints no usable node meets is a finding `validate` reports and `up`
refuses before it deploys anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..catalog import Service, Site
from ..engine.swarm import NodeInfo
from ..models import GPU_VENDORS

GPU_LABEL = "homestack.gpu"
DATA_LABEL = "homestack.data"
#: a node's engine, as a DOCKER_HOST value (ssh://user@host, tcp://…, unix://…): where
#: `top` reads the CPU and memory of the tasks on that node
ENGINE_LABEL = "homestack.engine"
GENERIC_KINDS = {"nvidia": "NVIDIA-GPU", "amd": "AMD-GPU", "intel": "INTEL-GPU"}


@dataclass(frozen=True)
class Placement:
    service: str
    constraints: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()  # hostnames that satisfy every constraint
    reasons: tuple[str, ...] = ()  # why: "gpu=nvidia", "data", "data (moved)" …
    generic: tuple[dict[str, Any], ...] = ()
    problem: str | None = None
    hint: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_data(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "constraints": list(self.constraints),
            "nodes": list(self.nodes),
            "reasons": list(self.reasons),
            "problem": self.problem,
            "hint": self.hint,
            "notes": list(self.notes),
        }


def data_bound(service: Service) -> bool:
    """True when a volume or bind mount of the service lives under DATA_ROOT."""
    compose = service.compose
    data = service.doc.data if service.doc else None
    top = data.get("volumes") if isinstance(data, dict) else None
    top = top if isinstance(top, dict) else {}
    for volume in compose.get("volumes") or []:
        text = str(volume.get("source", "")) if isinstance(volume, dict) else str(volume)
        if "DATA_ROOT" in text:
            return True
        name = text.split(":", 1)[0]
        spec = top.get(name)
        if isinstance(spec, dict) and "DATA_ROOT" in str(spec.get("driver_opts", "")):
            return True
    return False


def _data_holders(service: Service, usable: list[NodeInfo]) -> list[NodeInfo] | None:
    """The nodes that hold the service's data by their labels (None: it keeps none)."""
    if not data_bound(service):
        return None
    own = [n for n in usable if _matches(n, f"{DATA_LABEL}.{service.id}", "true")]
    return own or [n for n in usable if _matches(n, DATA_LABEL, "true")]


def _matches(node: NodeInfo, label: str, value: str) -> bool:
    return node.labels.get(label, "").lower() == value


@dataclass
class _Draft:
    constraints: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    generic: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[NodeInfo] = field(default_factory=list)
    problem: str | None = None
    hint: str | None = None


def _gpu_part(service: Service, usable: list[NodeInfo], d: _Draft) -> None:
    need = service.meta.gpu if service.meta else "none"
    if need == "none":
        return
    vendors = [v for v in GPU_VENDORS if v in service.overlays] or list(GPU_VENDORS)
    present = [v for v in vendors if any(_matches(n, GPU_LABEL, v) for n in usable)]
    holding = _data_holders(service, usable)
    if need == "optional" and holding is not None:
        # an optional GPU never takes a service away from its data
        kept = [v for v in present if any(_matches(n, GPU_LABEL, v) for n in holding)]
        if present and not kept:
            d.notes.append("its GPU node does not hold its data: runs on the CPU")
        present = kept
    if present:
        vendor = present[0]
        d.constraints.append(f"node.labels.{GPU_LABEL} == {vendor}")
        d.reasons.append(f"gpu={vendor}")
        d.candidates = [n for n in d.candidates if _matches(n, GPU_LABEL, vendor)]
        kind = GENERIC_KINDS[vendor]
        if any(n.generic.get(kind) for n in d.candidates):
            d.generic.append({"discrete_resource_spec": {"kind": kind, "value": 1}})
    elif need == "required":
        d.problem = (
            f"{service.id} requires a GPU ({'/'.join(vendors)}), and no node of the "
            f"swarm is labelled {GPU_LABEL}=" + "|".join(vendors)
        )
        d.hint = (
            "Label the GPU machine: `homestack nodes label NODE gpu=nvidia` (after "
            "joining it with `docker swarm join`), or disable "
            f"{service.id} (`homestack disable {service.id}`)."
        )
        d.candidates = []
    else:
        d.notes.append("no GPU node: runs on the CPU")


def _data_part(service: Service, usable: list[NodeInfo], d: _Draft) -> None:
    if not data_bound(service) or d.problem is not None:
        return
    own = f"{DATA_LABEL}.{service.id}"
    if any(_matches(n, own, "true") for n in usable):
        d.constraints.append(f"node.labels.{own} == true")
        d.reasons.append("data (moved)")
        d.candidates = [n for n in d.candidates if _matches(n, own, "true")]
    elif any(_matches(n, DATA_LABEL, "true") for n in usable):
        d.constraints.append(f"node.labels.{DATA_LABEL} == true")
        d.reasons.append("data")
        d.candidates = [n for n in d.candidates if _matches(n, DATA_LABEL, "true")]
    elif len(usable) > 1:
        d.problem = (
            f"{service.id} keeps its data in DATA/{service.id}, and no node of the "
            f"{len(usable)}-node swarm is labelled {DATA_LABEL}=true"
        )
        d.hint = (
            "Label the node that holds DATA/: `homestack nodes label NODE data=true` "
            "(usually the manager homestack runs on)."
        )
        d.candidates = []
    else:
        d.reasons.append("data")
    if d.problem is None and not d.candidates:
        d.problem = (
            f"{service.id} needs {' and '.join(d.reasons)} on one node, and no node "
            "has all of those labels"
        )
        d.hint = (
            "Put its GPU and its data on one node: label that node with both (`homestack "
            "nodes label NODE gpu=nvidia data.SERVICE=true` after moving DATA/SERVICE "
            "there), or make its GPU optional."
        ).replace("SERVICE", service.id)


def place(site: Site, services: list[Service], node_list: list[NodeInfo]) -> dict[str, Placement]:
    usable = [n for n in node_list if n.availability != "drain"]
    out: dict[str, Placement] = {}
    for service in services:
        d = _Draft(candidates=list(usable))
        _gpu_part(service, usable, d)
        _data_part(service, usable, d)
        out[service.id] = Placement(
            service.id,
            tuple(d.constraints),
            tuple(n.hostname for n in d.candidates),
            tuple(d.reasons),
            tuple(d.generic),
            d.problem,
            d.hint,
            tuple(d.notes),
        )
    return out


def label_args(pairs: list[str]) -> tuple[dict[str, str], list[str]]:
    """`gpu=nvidia data=true old-` → labels to set (homestack.*) and labels to remove."""
    from ..errors import BadInput

    add: dict[str, str] = {}
    remove: list[str] = []
    for pair in pairs:
        if pair.endswith("-") and "=" not in pair:
            remove.append(_full(pair[:-1]))
            continue
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise BadInput(
                f"{pair!r} is not KEY=VALUE (or KEY- to remove a label)",
                "For example: homestack nodes label NODE gpu=nvidia data=true (gpu- removes gpu)",
            )
        key = _full(key)
        if key == GPU_LABEL and value not in GPU_VENDORS:
            raise BadInput(
                f"gpu={value!r} is not one of {', '.join(GPU_VENDORS)}",
                "For example: homestack nodes label NODE gpu=nvidia",
            )
        add[key] = value
    return add, remove


def _full(key: str) -> str:
    """gpu, data, data.SERVICE, engine are homestack's labels; any other key is kept as
    written."""
    if key.startswith("homestack.") or key.split(".", maxsplit=1)[0] not in (
        "gpu",
        "data",
        "engine",
    ):
        return key
    return f"homestack.{key}"


def summary(placements: Mapping[str, Placement]) -> list[str]:
    return [
        f"{p.service}: {', '.join(p.nodes) or 'no node'}"
        + (f" ({', '.join(p.reasons)})" if p.reasons else "")
        for p in placements.values()
    ]


def plan_placement(site: Site, services: list[Service]) -> list[dict[str, Any]]:
    """`plan` in swarm mode: where each service may run, and why (no engine: labels unknown)."""
    from ..engine import swarm as swarm_engine

    swarm_engine.require_manager()
    return [p.to_data() for p in place(site, services, swarm_engine.nodes()).values()]
