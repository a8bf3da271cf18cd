"""Catalog commands: ls, enable, disable, config, validate, plan, schema."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import ExitStatus
from .app import JsonOption, app, emit, fail, state

if TYPE_CHECKING:
    from rich.console import Console

Names = Annotated[list[str] | None, typer.Argument(help="Stacks or services (default: all).")]


@app.command("ls")
def ls_command(names: Names = None, as_json: JsonOption = False) -> None:
    """List stacks and services: enabled or not, GPU need, ports."""
    from ..inventory import inventory

    emit(inventory(state.site(), names), as_json, _render_inventory)


def _render_inventory(result: Any, out: Console) -> None:
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("STACK", "SERVICE", "ON", "GPU", "PORTS", "WEB", "IMAGE"):
        table.add_column(column)
    for row in result.services:
        table.add_row(
            row.stack,
            row.service + (" *" if row.critical else ""),
            "[green]yes[/]" if row.enabled else "[dim]no[/]",
            row.gpu if row.gpu != "none" else "-",
            ", ".join(row.ports) or "-",
            row.web or "-",
            row.image or "-",
        )
    out.print(table)
    enabled = sum(1 for r in result.services if r.enabled)
    out.print(f"[dim]{enabled} of {len(result.services)} services enabled; * critical[/]")


def _toggle(names: list[str], enable: bool, as_json: bool) -> None:
    from ..stackfile import toggle

    result = toggle(state.site(), names, enable=enable)

    def render(res: Any, out: Console) -> None:
        verb = "enabled" if enable else "disabled"
        for name in res.changed:
            out.print(f"{verb} {name}")
        for name in res.unchanged:
            out.print(f"[dim]{name} was already {verb}[/]")

    emit(result, as_json, render)


@app.command("enable")
def enable_command(
    services: Annotated[list[str], typer.Argument(help="Services to enable.")],
    as_json: JsonOption = False,
) -> None:
    """Enable services in their stack.yaml (comments and order kept)."""
    _toggle(services, True, as_json)


@app.command("disable")
def disable_command(
    services: Annotated[list[str], typer.Argument(help="Services to disable.")],
    as_json: JsonOption = False,
) -> None:
    """Disable services by commenting their line in stack.yaml."""
    _toggle(services, False, as_json)


@app.command("config")
def config_command(
    stack: Annotated[str | None, typer.Argument(help="One stack (default: all).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the merged compose model Compose will run, per stack."""
    from ..validate import merged_config

    result = merged_config(state.site(), stack)

    def render(res: Any, out: Console) -> None:
        import yaml

        for name, model in res.to_data().items():
            out.print(f"[bold]# stack {name}[/]")
            out.out(yaml.safe_dump(model, sort_keys=False), highlight=False)

    emit(result, as_json, render)


@app.command("validate")
def validate_command(
    stack: Annotated[str | None, typer.Argument(help="One stack (default: all).")] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Lint only; skip `docker compose config`.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Lint every file (stable rule ids), then check each stack with `docker compose config`."""
    from ..validate import validate

    result = validate(state.site(), stack, offline=offline)
    emit(result, as_json, _render_validation)
    if result.errors:
        raise fail(ExitStatus.FAILED)


def _render_validation(result: Any, out: Console) -> None:
    from rich.markup import escape

    colours = {"error": "red", "warning": "yellow", "info": "blue"}
    root = result.root
    for finding in result.findings:
        where = finding.file
        with contextlib.suppress(ValueError):
            where = finding.file.relative_to(root)
        loc = f"{where}:{finding.line}" if finding.line else str(where)
        colour = colours[finding.severity.value]
        service = f" [{finding.service}]" if finding.service else ""
        out.print(
            f"[{colour}]{finding.severity.value:7}[/] {escape(loc)} "
            f"[bold]{finding.rule}[/]{escape(service)}: {escape(finding.message)}"
        )
        if finding.hint:
            out.print(f"         [dim]fix: {escape(finding.hint)}[/]")
    for name, status in result.compose.items():
        mark = "[green]ok[/]" if status == "ok" else f"[red]{escape(status)}[/]"
        out.print(f"compose config {name}: {mark}")
    out.print(
        f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)"
        + (" — compose check skipped (--offline)" if result.offline else "")
    )


@app.command("plan")
def plan_command(names: Names = None, as_json: JsonOption = False) -> None:
    """Show the dependency waves and what `up` would create, touching nothing."""
    from ..plan import make_plan

    emit(make_plan(state.site(), names), as_json, _render_plan)


def _render_plan(result: Any, out: Console) -> None:
    out.print("[bold]Stacks, in waves[/] (a wave starts when the one before is healthy)")
    for number, wave in enumerate(result.stack_waves, start=1):
        out.print(f"  {number}. " + ", ".join(wave))
    out.print("[bold]Services, in waves[/]")
    for number, wave in enumerate(result.service_waves, start=1):
        out.print(f"  {number}. " + ", ".join(wave))
    out.print("[bold]Would create[/]")
    for item in result.creates:
        state_word = "[dim]exists[/]" if item.exists else "[green]create[/]"
        if item.detail == "ensure":
            state_word = "[cyan]ensure[/]"
        out.print(f"  {state_word} {item.kind:8} {item.name}")


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of the x-homestack block."""
    import json
    import sys

    from ..models import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
