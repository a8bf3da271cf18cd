"""`homestack top` in swarm mode: each service's tasks from the manager's view (state,
node), with CPU and memory read from the containers the manager's own engine runs. A
worker's engine is not reachable from the manager (the swarm API has no stats), so a task
on another node shows its node and no figures, and says so."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from ..catalog import Site
from ..observe.status import StatusResult, StatusRow
from . import stack_name
from .ops import status

STATES = {"healthy": ("running", "healthy"), "starting": ("running", "starting")}


def _usage(api: Any, container: str) -> Any:
    from ..engine.usage import usage_from_stats

    try:
        return usage_from_stats(api.stats(container, stream=False))
    except Exception:
        return None


def collect(site: Site, names: list[str] | None) -> StatusResult:
    from ..engine import swarm as engine
    from ..engine.docker import api_client

    current = status(site, names)
    here = engine.local_node_id()
    hostname = next((n.hostname for n in engine.nodes() if n.id == here), "this node")
    live = {
        s.labels.get("org.homestack.service", ""): s
        for s in engine.services({stack_name(site, k) for k in site.stacks})
    }
    local: dict[str, str] = {}  # service → a container of its running task on this node
    ids = {s.id: name for name, s in live.items()}
    for task in engine.tasks(set(ids)):
        if task.state == "running" and task.node_id == here and task.container:
            local.setdefault(ids[task.service_id], task.container)
    api = api_client()
    with ThreadPoolExecutor(max_workers=8) as pool:
        usage = dict(zip(local, pool.map(lambda c: _usage(api, c), local.values()), strict=True))
    rows = []
    for row in current.rows:
        state, health = STATES.get(row.state, (row.state, None))
        found = usage.get(row.service)
        flag = None
        if state == "running" and row.service not in local:
            flag = f"on {', '.join(row.nodes)}: no figures (only {hostname}'s engine is read)"
        elif row.detail and state != "running":
            flag = row.detail
        rows.append(
            StatusRow(
                service=row.service,
                stack=row.stack,
                container=local.get(row.service, "")[:12] or None,
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
