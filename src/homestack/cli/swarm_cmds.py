"""Swarm mode (DEPLOY_MODE=swarm): `homestack nodes`, and what up/down/status/plan print
there. The existing commands call `active()` and hand over to these when it is true."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import ExitStatus
from .app import JsonOption, app, emit, fail, state
from .consoles import console

if TYPE_CHECKING:
    from rich.console import Console

    from ..swarm.nodes import NodesResult
    from ..swarm.ops import SwarmDown, SwarmStatus

nodes_app = typer.Typer(
    name="nodes",
    help="The swarm's nodes: role, availability, labels, GPUs, what runs where.",
    invoke_without_command=True,
    no_args_is_help=False,
)


def active() -> bool:
    """True when the site says DEPLOY_MODE=swarm."""
    from ..swarm import is_swarm

    return is_swarm(state.site())


@nodes_app.callback()
def nodes_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the swarm's nodes with role, availability, labels, GPUs and services."""
    if ctx.invoked_subcommand is not None:
        return
    from ..swarm.nodes import list_nodes

    emit(list_nodes(state.site()), as_json, _render_nodes)


def _render_nodes(result: NodesResult, out: Console) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("NODE", "ROLE", "AVAIL", "STATE", "LABELS", "GPU", "SERVICES"):
        table.add_column(column)
    for row in result.rows:
        table.add_row(
            escape(row.hostname),
            row.role,
            row.availability,
            row.state,
            escape(", ".join(f"{k}={v}" for k, v in sorted(row.labels.items())) or "-"),
            escape(row.gpu or "-"),
            escape(", ".join(row.services) or "-"),
        )
    out.print(table)


@nodes_app.command("label")
def label_command(
    node: Annotated[str, typer.Argument(help="Node hostname or id.")],
    labels: Annotated[
        list[str], typer.Argument(help="KEY=VALUE to set (gpu=nvidia, data=true), KEY- to remove.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Set or remove node labels: gpu=nvidia|amd|intel, data=true, data.SERVICE=true."""
    from ..swarm.nodes import label_node

    result = label_node(state.site(), node, labels)
    emit(result, as_json, _render_nodes)


app.add_typer(nodes_app)


def down(names: list[str] | None, *, volumes: bool, dependents: bool, as_json: bool) -> None:
    """`down` in swarm mode (api.down: the swarm's), with its own rendering."""
    from ..api import down as api_down
    from ..swarm.ops import SwarmDown

    result = api_down(state.context(as_json=as_json), names, volumes=volumes,
                      dependents=dependents)  # fmt: skip
    assert isinstance(result, SwarmDown)  # noqa: S101 - a swarm site's down is the swarm's

    def render(res: SwarmDown, out: Console) -> None:
        if res.dependents:
            out.print("first removed the running services that need what goes down:")
            for line in res.dependents:
                out.print("  " + line, markup=False)
        out.print(
            f"removed {len(res.removed)} services"
            + (f" (stacks: {', '.join(res.stacks)})" if res.stacks else "")
            + (f"; networks {', '.join(res.networks)}" if res.networks else "")
            + f"; DATA kept, in {res.elapsed:.1f}s",
            markup=False,
        )
        for item in res.left:
            out.print(f"still there: {item}", markup=False)

    emit(result, as_json, render)
    if result.left:
        raise fail(ExitStatus.FAILED)


def status(names: list[str] | None, as_json: bool) -> None:
    from ..swarm.ops import status as swarm_status

    result = swarm_status(state.site(), names)

    def render(res: SwarmStatus, out: Console) -> None:
        from rich.markup import escape
        from rich.table import Table

        table = Table(box=None, pad_edge=False)
        for column in ("SERVICE", "STACK", "STATE", "TASKS", "NODE", "DETAIL"):
            table.add_column(column)
        colours = {"healthy": "green", "starting": "yellow"}
        for row in res.rows:
            colour = colours.get(row.state, "red")
            table.add_row(
                escape(row.service),
                row.stack,
                f"[{colour}]{row.state}[/]",
                row.replicas,
                escape(", ".join(row.nodes) or "-"),
                escape(row.detail),
            )
        out.print(table)

    emit(result, as_json, render)


def logs(query: Any, *, follow: bool, as_json: bool) -> None:
    import json
    import sys

    from ..swarm.logs import follow_logs
    from ..swarm.logs import logs as swarm_logs

    site = state.site()
    lines = follow_logs(site, query) if follow else swarm_logs(site, query)
    out = console()
    names = [s.id for s in site.services()]
    width = max((len(name) for name in names), default=0)
    shown = 0
    try:
        for line in lines:
            shown += 1
            if as_json:
                sys.stdout.write(json.dumps(line.to_data()) + "\n")
                sys.stdout.flush()
            else:
                stamp = line.time[:23].replace("T", " ")
                out.print(f"{line.service:<{width}} {stamp} {line.line}", markup=False)
    except KeyboardInterrupt:
        return
    if not shown and not as_json:
        sys.stderr.write("no log lines from the chosen services on the swarm\n")
