"""Catalog commands: ls, enable, disable, config, validate, plan, schema."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import BadInput, ExitStatus, HomestackError
from .app import JsonOption, Names, WideOption, app, emit, fail, state

if TYPE_CHECKING:
    from rich.console import Console

    from ..errors import CommandFailed
    from ..inventory import Inventory
    from ..plan import PlanResult
    from ..stackfile import ToggleResult
    from ..validate import MergedConfig, Validation


@app.command("ls")
def ls_command(
    names: Names = None,
    wide: WideOption = False,
    as_json: JsonOption = False,
) -> None:
    """List stacks and services: enabled or not, GPU need, ports."""
    from ..inventory import inventory

    emit(
        inventory(state.site(), names),
        as_json,
        lambda result, out: _render_inventory(result, out, wide=wide),
    )


def _inventory_cells(row: Any, *, compact: bool) -> tuple[str, ...]:
    ports = [_compact_port(p) for p in row.ports] if compact else row.ports
    return (
        row.stack,
        row.service + (" *" if row.critical else ""),
        "yes" if row.enabled else "no",
        row.gpu if row.gpu != "none" else "-",
        ", ".join(ports) or "-",
        row.web or "-",
        row.image or "-",
    )


def _compact_port(port: str) -> str:
    """`127.0.0.1:8080->80/tcp` as `8080` (the host port, with the address when it is not
    loopback and the protocol when it is not tcp)."""
    host, _, rest = port.partition("->")
    address, _, number = host.rpartition(":")
    protocol = rest.partition("/")[2]
    shown = number if address in ("127.0.0.1", "") else f"{address}:{number}"
    return shown + (f"/{protocol}" if protocol and protocol != "tcp" else "")


def _plain(lines: list[str]) -> list[str]:
    from rich.text import Text

    return [Text.from_markup(line).plain for line in lines]


def terminal_room(out: Console, wide: bool) -> int | None:
    """The width a table must fit: the terminal's; None for a pipe, a log or --wide, which
    get whole lines."""
    if wide or not out.is_terminal:
        return None
    return out.width


def _render_inventory(result: Inventory, out: Console, *, wide: bool = False) -> None:
    room = terminal_room(out, wide)
    styles = {"yes": "green", "no": "dim"}
    headers: tuple[str, ...] = ("STACK", "SERVICE", "ON", "GPU", "PORTS", "WEB", "IMAGE")
    rows = [_inventory_cells(row, compact=False) for row in result.services]
    lines = _columns(headers, rows, lambda column, cell: styles.get(cell) if column == 2 else None)
    if room is not None and max(len(line) for line in _plain(lines)) > room:
        # a narrow terminal: a heading line per stack, host ports only, long cells wrapped
        stacks = [row.stack for row in result.services]
        lines = _columns(
            headers[1:],
            [_inventory_cells(row, compact=True)[1:] for row in result.services],
            lambda column, cell: styles.get(cell) if column == 1 else None,
            room=room,
            wrap=(5, 3, 4),  # IMAGE, PORTS, WEB give way, in that order
            headings=[
                f"[bold]{stack}[/]" if index == 0 or stacks[index - 1] != stack else None
                for index, stack in enumerate(stacks)
            ],
        )
    enabled = sum(1 for r in result.services if r.enabled)
    lines.append(f"[dim]{enabled} of {len(result.services)} services enabled; * critical[/]")
    if result.problems:
        lines.append(
            f"[yellow]{result.problems} problem(s) in the files (a stack.yaml that cannot be "
            "read shows its services as off): run `homestack validate`[/]"
        )
    out.print("\n".join(lines), soft_wrap=True)


def _columns(
    headers: tuple[str, ...],
    rows: list[tuple[str, ...]],
    style: Callable[[int, str], str | None],
    *,
    room: int | None = None,
    wrap: tuple[int, ...] = (),
    headings: list[str | None] | None = None,
) -> list[str]:
    """Aligned columns as Rich markup lines. One print of plain lines is ~10x faster than a
    rich Table for a few hundred rows, and `ls` must stay instant on a big catalog. With
    `room`, the `wrap` columns (in that order) give way until the lines fit it, their cells
    continued on the next lines; the others stay whole. `headings`: a line (markup) before
    each row that has one."""
    from rich.markup import escape

    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    if room is not None:  # the widest `wrap` column gives a cell at a time, down to 8
        excess = sum(widths) + 2 * (len(widths) - 1) - room
        floors = {index: max(len(headers[index]), 8) for index in wrap}
        while excess > 0:
            shrinkable = [i for i in wrap if widths[i] > floors[i]]
            if not shrinkable:
                break
            widest = max(shrinkable, key=lambda i: widths[i])
            widths[widest] -= 1
            excess -= 1
    last = len(headers) - 1
    lines = [
        "[bold]"
        + escape("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
        + "[/]"
    ]
    for number, row in enumerate(rows):
        if headings and headings[number]:
            lines.append(headings[number] or "")
        parts = [_wrap_cell(cell, width) for cell, width in zip(row, widths, strict=True)]
        for depth in range(max(len(p) for p in parts)):
            cells = []
            for index, (part, width) in enumerate(zip(parts, widths, strict=True)):
                cell = part[depth] if depth < len(part) else ""
                text = escape(cell) + " " * (0 if index == last else width - len(cell))
                colour = style(index, cell) if depth == 0 else None
                cells.append(f"[{colour}]{text}[/]" if colour else text)
            lines.append("  ".join(cells).rstrip())
    return lines


def _wrap_cell(cell: str, width: int) -> list[str]:
    """A cell in lines of at most `width`, broken after `/`, `,` or a space where it can be
    (an image name, a list of ports), else anywhere."""
    if len(cell) <= width:
        return [cell]
    pieces = [p for p in re.split(r"(?<=[/, ])|(?=[:@])", cell) if p]
    out: list[str] = []
    line = ""
    for whole in pieces:
        piece = whole
        while len(piece) > width:  # longer than a whole line: cut it
            if line:
                out.append(line.rstrip())
                line = ""
            out.append(piece[:width])
            piece = piece[width:]
        if len(line) + len(piece.rstrip()) > width:
            out.append(line.rstrip())
            line = piece.lstrip()
        else:
            line += piece
    if line.strip():
        out.append(line.rstrip())
    return out


def _toggle(names: list[str], enable: bool, as_json: bool, dependents: bool = True) -> None:
    from ..stackfile import toggle

    result = toggle(state.site(), names, enable=enable, dependents=dependents)

    def render(res: ToggleResult, out: Console) -> None:
        from rich.markup import escape

        verb = "enabled" if enable else "disabled"
        for name in res.changed:
            out.print(f"{verb} {name}")
        for name in res.unchanged:
            out.print(f"[dim]{name} was already {verb}[/]")
        if res.needed_by:
            count = len(res.needed_by)
            out.print(
                f"[yellow]warning:[/] {count} enabled service{'s' if count != 1 else ''} "
                f"need{'s' if count == 1 else ''} what was disabled:"
            )
            for dependent in res.needed_by:
                out.print("  " + escape(dependent.reason()))
            ids = " ".join(d.service for d in res.needed_by)
            out.print(
                "[dim]Until they are disabled too or it is enabled again, `homestack up` "
                "refuses them and validate reports depends.unknown; running containers are "
                "not touched. To disable them:[/]"
            )
            out.print(f"  homestack disable {escape(ids)}", soft_wrap=True)
        for name in res.critical:
            out.print(
                f"[yellow]warning:[/] {name} is critical (x-homestack critical): the site is "
                "not whole without it"
                + (f"; every web UI goes through it ({len(res.web_uis)})" if res.web_uis else "")
                + f". `homestack enable {name}` puts it back."
            )
            if res.web_uis:
                out.print("  reached through it: " + escape(", ".join(res.web_uis)), soft_wrap=True)
        if res.needs_disabled:
            out.print("[yellow]warning:[/] what was enabled needs services that are disabled:")
            for need in res.needs_disabled:
                out.print("  " + escape(need.reason()))
            ids = " ".join(dict.fromkeys(d.target for d in res.needs_disabled))
            out.print(
                "[dim]`homestack up` refuses it and validate reports depends.unknown until "
                "they are enabled too:[/]"
            )
            out.print(f"  homestack enable {escape(ids)}", soft_wrap=True)

    emit(result, as_json, render)


@app.command("enable")
def enable_command(
    services: Annotated[list[str], typer.Argument(help="Services to enable.")],
    as_json: JsonOption = False,
) -> None:
    """Enable services in their stack.yaml (comments and order kept).

    The disabled services they need (compose or x-homestack depends_on, directly or through
    others) are named; the change is still made, and `up` refuses until those are enabled.
    """
    _toggle(services, True, as_json)


@app.command("disable")
def disable_command(
    services: Annotated[list[str], typer.Argument(help="Services to disable.")],
    no_dependents: Annotated[
        bool,
        typer.Option(
            "--no-dependents",
            help="Refuse (exit 2, nothing changed) when enabled services need what would be "
            "disabled, instead of disabling it and naming them.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Disable services by commenting their line in stack.yaml.

    The enabled services that need one of them (compose or x-homestack depends_on, directly
    or through others) are named, with why; the change is still made, as `enable` and `down`
    act by default, and `up` then refuses those services until they are disabled too.
    `--no-dependents` refuses instead, as `down --no-dependents` does. Containers are not
    touched: `homestack down SERVICE` stops one and what needs it.
    """
    _toggle(services, False, as_json, dependents=not no_dependents)


@app.command("config")
def config_command(
    stack: Annotated[str | None, typer.Argument(help="One stack (default: all).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the merged compose model Compose will run, per stack."""
    from ..errors import CommandFailed
    from ..validate import merged_config

    site = state.site()
    try:
        result = merged_config(site, stack)
    except CommandFailed as failed:
        raise _compose_refused(failed, site.prefix) from None

    def render(res: MergedConfig, out: Console) -> None:
        import yaml

        for index, (name, model) in enumerate(res.to_data().items()):
            if index:  # one YAML document per stack: `name:` and `services:` repeat
                out.out("---", highlight=False)
            out.print(f"[bold]# stack {name}[/]")
            out.out(yaml.safe_dump(model, sort_keys=False), highlight=False)
        for name in res.empty:
            out.print(f"[bold]# stack {name}[/]: no service enabled (`homestack enable NAME`)")

    emit(result, as_json, render)


#: where compose-go says a file is wrong: "failed to parse FILE: line N: …" (YAML) and
#: "failed to read FILE: line N: …" (an env file)
_COMPOSE_WHERE = re.compile(r"failed to (?:parse|read) (?P<file>\S+?): line (?P<line>\d+)")


def _compose_refused(failed: CommandFailed, prefix: str) -> HomestackError:
    """`docker compose config` exiting 1 is Compose refusing the files (a duplicate key,
    `services:` not a mapping, an env file it cannot read): bad input, with the way to see
    every problem with its fix. A timeout or a crash stays a failed operation."""
    if failed.returncode != 1:
        return failed
    args = failed.command
    project = args[args.index("-p") + 1] if "-p" in args[:-1] else ""
    stack = project.removeprefix(prefix) or "STACK"
    reason = "\n".join(failed.stderr.strip().splitlines()[-10:]) or "(no reason given)"
    where = _COMPOSE_WHERE.search(failed.stderr)
    return BadInput(
        f"Compose refuses the files of stack {stack}:\n{reason}",
        f"Fix what it names; `homestack validate {stack}` lists every problem of the stack "
        "with its file, line and fix.",
        file=where["file"] if where else None,
        line=int(where["line"]) if where else None,
    )


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


def _render_validation(result: Validation, out: Console) -> None:
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
    for name in result.compose_skipped:
        out.print(f"compose config {name}: [yellow]skipped (fix the YAML errors above first)[/]")
    out.print(
        f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)"
        + (" — compose check skipped (--offline)" if result.offline else "")
    )


@app.command("plan")
def plan_command(names: Names = None, as_json: JsonOption = False) -> None:
    """Show the dependency waves and what `up` would create, touching nothing."""
    from ..plan import make_plan

    emit(make_plan(state.site(), names), as_json, _render_plan)


def _render_plan(result: PlanResult, out: Console) -> None:
    from rich.markup import escape

    lines = ["[bold]Stacks, in waves[/] (a wave starts when the one before is healthy)"]
    lines += [f"  {n}. " + ", ".join(w) for n, w in enumerate(result.stack_waves, start=1)]
    lines.append("[bold]Services, in waves[/]")
    lines += [f"  {n}. " + ", ".join(w) for n, w in enumerate(result.service_waves, start=1)]
    lines.append("[bold]Would create[/]")
    there: dict[str, int] = {}
    for item in result.creates:
        if item.exists and item.detail != "ensure":  # counted below, not listed one by one
            there[item.kind] = there.get(item.kind, 0) + 1
            continue
        state_word = "[cyan]ensure[/]" if item.detail == "ensure" else "[green]create[/]"
        lines.append(f"  {state_word} {item.kind:8} {escape(item.name)}")
    if len(lines) and lines[-1] == "[bold]Would create[/]":
        lines.append("  [dim]nothing: every folder and secret is in place[/]")
    if there:
        counted = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in there.items())
        lines.append(f"[bold]Already in place[/] {counted} (`plan --json` lists them)")
    if result.placement:
        lines.append("[bold]Placement[/] (swarm: nodes that may run it, and why)")
        for row in result.placement:
            why = f" ({', '.join(row['reasons'])})" if row["reasons"] else ""
            where = ", ".join(row["nodes"]) or "[red]no node[/]"
            lines.append(f"  {escape(row['service'])}: {where}{escape(why)}")
            if row["problem"]:
                lines.append(f"    [red]{escape(row['problem'])}[/]")
    out.print("\n".join(lines), soft_wrap=True)  # one print: hundreds of lines stay fast


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of the x-homestack block."""
    import json
    import sys

    from ..models import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
