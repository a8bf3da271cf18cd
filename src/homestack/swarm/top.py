"""`homestack top` in swarm mode: each service's tasks from the manager's view (state,
node), with CPU and memory read from the engine of the node each task runs on: the engine
homestack talks to for its own node, and for another node the engine its
`homestack.engine` label names (`homestack nodes label NAS engine=ssh://me@nas`; the swarm
API carries no container stats). A task on a node without one shows its node and says how
to get its figures."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from ..catalog import Site
from ..observe.status import StatusResult, StatusRow
from . import stack_name
from .ops import status
from .placement import ENGINE_LABEL

STATES = {"healthy": ("running", "healthy"), "starting": ("running", "starting")}


def _usage(api: Any, container: str) -> Any:
    from ..engine import swarm as engine
    from ..engine.usage import usage_from_stats

    stats = engine.container_stats(api, container)
    return usage_from_stats(stats) if stats is not None else None


def collect(site: Site, names: list[str] | None) -> StatusResult:
    from ..engine import swarm as engine
    from ..engine.docker import api_client
    from ..errors import HomestackError

    current = status(site, names)
    here = engine.local_node_id()
    node_list = {n.id: n for n in engine.nodes()}
    live = {
        s.labels.get("org.homestack.service", ""): s
        for s in engine.services({stack_name(site, k) for k in site.stacks})
    }
    apis: dict[str, Any] = {here: api_client()}  # node id → a client of its engine
    unreachable: dict[str, str] = {}  # node id → why its figures are missing
    for node in node_list.values():
        url = node.labels.get(ENGINE_LABEL, "")
        if node.id == here:
            continue
        if not url:
            unreachable[node.id] = (
                f"no figures: label it `homestack nodes label {node.hostname} "
                "engine=ssh://USER@HOST` to read its engine"
            )
            continue
        try:
            apis[node.id] = engine.node_api(url)
        except HomestackError as error:
            unreachable[node.id] = f"no figures: {error.message.splitlines()[0]}"
    placed: dict[str, tuple[str, str]] = {}  # service → (node id, container) of a task
    ids = {s.id: name for name, s in live.items()}
    for task in engine.tasks(set(ids)):
        if task.state == "running" and task.desired == "running" and task.container:
            placed.setdefault(ids[task.service_id], (task.node_id, task.container))
    readable = {k: v for k, v in placed.items() if v[0] in apis}
    with ThreadPoolExecutor(max_workers=8) as pool:
        figures = pool.map(lambda v: _usage(apis[v[0]], v[1]), readable.values())
        usage = dict(zip(readable, figures, strict=True))
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
                health_output=None,
                exit_code=None,
                started_at=None,
                uptime_s=None,
                restarts=None,
                cpu_percent=round(found.cpu_percent, 2)
                if found and found.cpu_percent is not None
                else None,
                mem_used=found.mem_used if found else None,
                mem_limit=found.mem_limit if found else None,
                url=None,
                ports=[],
                last_backup=None,
                backup_failed=False,
                flag=flag,
            )
        )
    return StatusResult(rows, taken_at=datetime.now(UTC).isoformat(timespec="seconds"))
