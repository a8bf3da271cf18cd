"""`homestack top` in swarm mode: each service's tasks from the manager's view (state,
node), with CPU and memory read from the engine of the node each task runs on: the engine
homestack talks to for its own node, and for another node the engine its
`homestack.engine` label names (`homestack nodes label NAS engine=ssh://me@nas`; the swarm
API carries no container stats). A task on a node without one shows its node and says how
to get its figures."""

from __future__ import annotations

from datetime import UTC, datetime

from ..catalog import Site
from ..observe.status import StatusResult, StatusRow, usage_fields
from . import stack_name
from .ops import status

STATES = {"healthy": ("running", "healthy"), "starting": ("running", "starting")}


def collect(site: Site, names: list[str] | None) -> StatusResult:
    from ..engine import swarm as engine
    from ..engine.swarm_backend import NODE_LABEL, SwarmBackend

    backend = SwarmBackend()
    current = status(site, names)
    node_list = {n.id: n for n in engine.nodes()}
    apis, unreachable = backend.node_apis()  # node id → a client of its engine / why none
    placed: dict[str, tuple[str, str]] = {}  # service → (node id, container) of a task
    for box in backend.containers({stack_name(site, k) for k in site.stacks}):
        if box.running and box.health == "healthy" and box.service:
            placed.setdefault(box.service, (box.labels.get(NODE_LABEL, ""), box.id))
    figures = backend.usage({cid: node for node, cid in placed.values()}, apis)
    usage = {service: figures.get(cid) for service, (_, cid) in placed.items()}
    rows = []
    for row in current.rows:
        state, health = STATES.get(row.state, (row.state, None))
        found = usage.get(row.service)
        flag = None
        where = placed.get(row.service)
        if state == "running" and where and where[0] in unreachable:
            hostname = node_list[where[0]].hostname if where[0] in node_list else where[0]
            flag = f"on {hostname}: {unreachable[where[0]]}"
        elif state == "running" and where and found is None:
            flag = "no figures: its node's engine did not answer"
        elif row.detail and state != "running":
            flag = row.detail
        rows.append(
            StatusRow(
                service=row.service,
                stack=row.stack,
                container=(where[1][:12] if where else None),
                enabled=True,
                state=state,
                health=health,
                **usage_fields(found),
                flag=flag,
            )
        )
    return StatusResult(rows, taken_at=datetime.now(UTC).isoformat(timespec="seconds"))
