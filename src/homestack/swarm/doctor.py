"""`homestack doctor` in swarm mode: the swarm's own health, one line per check.

The manager answers; every node is ready and active; the labels placement needs are there
(a data node on a multi-node swarm, a GPU node for a GPU-required service); every enabled
service can be placed and, once deployed, runs; what the translation loses is counted
(`homestack validate` lists it). The host checks of compose mode (ports, bridge networks,
containers' mounts) do not apply to a swarm and are not run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..catalog import Site
from ..errors import BadInput
from ..findings import Severity
from ..observe.checks import Check, DoctorResult, fail, ok, warn

if TYPE_CHECKING:
    from ..engine.swarm import NodeInfo


def swarm_doctor(site: Site) -> DoctorResult:
    from ..engine import swarm as engine
    from .ops import findings, status
    from .placement import place

    result = DoctorResult()
    checks = result.checks
    try:
        engine.require_manager()
    except BadInput as refused:
        checks.append(fail("swarm", "manager", refused.message, refused.hint))
        return result
    node_list = engine.nodes()
    checks.append(ok("swarm", "manager", f"this engine manages a {len(node_list)}-node swarm"))
    checks += [_node_check(n) for n in node_list]
    services = site.services(enabled_only=True)
    for name, placement in place(site, services, node_list).items():
        if placement.problem:
            checks.append(fail("placement", name, placement.problem, placement.hint))
    found = findings(site, services)
    for finding in (f for f in found if f.severity is Severity.ERROR):
        checks.append(fail("translation", finding.service or "?", finding.message, finding.hint))
    losses = [f for f in found if f.severity is Severity.WARNING]
    if losses:
        checks.append(
            warn(
                "translation",
                "losses",
                f"{len(losses)} things the swarm cannot carry, each named",
                "`homestack validate` lists them with the swarm alternative.",
            )
        )
    rows = status(site).rows
    healthy = [r for r in rows if r.state == "healthy"]
    if healthy:
        checks.append(ok("services", "healthy", f"{len(healthy)} of {len(rows)} services run"))
    for row in rows:
        if row.state == "missing":
            checks.append(
                warn("services", row.service, "not deployed", f"`homestack up {row.service}`")
            )
        elif row.state in ("unscheduled", "failed"):
            checks.append(
                fail(
                    "services",
                    row.service,
                    f"{row.state}: {row.detail}",
                    "`homestack nodes` shows which node is down or lacks a label; "
                    "docs/swarm.md says how to move a service's data.",
                )
            )
        elif row.state != "healthy":
            checks.append(warn("services", row.service, f"{row.state}: {row.detail}", None))
    return result


def _node_check(node: NodeInfo) -> Check:
    name = node.hostname
    if node.state != "ready":
        return fail(
            "nodes",
            name,
            f"{node.role} {name} is {node.state}: nothing runs there, and what must run "
            "there (its data, its GPU) cannot run anywhere",
            f"Start Docker on {name}; or, if it is gone for good, `docker node rm "
            f"--force {name}` and move its services' data (docs/swarm.md).",
        )
    if node.availability != "active":
        return warn(
            "nodes",
            name,
            f"{node.role} {name} is {node.availability}: no new task goes there",
            f"`docker node update --availability active {name}` when it should take work.",
        )
    return ok("nodes", name, f"{node.role}, ready, active")
