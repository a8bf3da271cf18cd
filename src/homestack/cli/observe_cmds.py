"""Operate commands: status, top, logs, doctor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import BadInput, ExitStatus
from .app import JsonOption, Names, WideOption, app, emit, fail, state
from .consoles import console

if TYPE_CHECKING:
    from rich.console import Console

    from ..observe.checks import DoctorResult
    from ..observe.status import StatusResult


@app.command("status")
def status_command(
    names: Names = None, wide: WideOption = False, as_json: JsonOption = False
) -> None:
    """Every service: state, health, uptime, restarts, CPU, memory, URL, ports, last backup."""
    from ..api import status
    from . import swarm_cmds

    if swarm_cmds.active():
        swarm_cmds.status(names, as_json)  # tasks per node instead of containers
        return
    emit(
        status(state.context(as_json=as_json), names),
        as_json,
        lambda result, out: _render_status(result, out, wide=wide),
    )


def _render_status(result: StatusResult, out: Console, *, wide: bool = False) -> None:
    from ..observe.render import status_table

    if not result.rows:
        out.print("[dim]no services selected[/]")
        _render_file_problems(result.problems)
        return
    if wide:
        out.width = max(out.width, 1000)  # the table's own width, not the terminal's
    out.print(status_table(result.rows, backups_known=result.backups_known, wide=wide))
    standins = [row.service for row in result.rows if row.standin]
    if standins:
        out.print(
            f"[magenta]rehearsal:[/] {len(standins)} of {len(result.rows)} containers are "
            "stand-ins (`homestack up --stand-in`): not the real images, their memory limits "
            "dropped, their health only the stand-in's; `homestack up` deploys the real ones.",
            soft_wrap=True,
        )
    flagged = [row for row in result.rows if row.flag or row.broken_file]
    if flagged:
        out.print(
            f"[bold red]{len(flagged)} flagged:[/] "
            + ", ".join(f"{row.service} ({_flags(row)})" for row in flagged),
            soft_wrap=True,  # one line in a pipe, not cut at its 200 columns
        )
    _render_file_problems(result.problems)
    if result.updates:  # the daily `outdated --record` (issue 19)
        ups = ", ".join(f"{name} {change}" for name, change in sorted(result.updates.items()))
        out.print(f"[yellow]updates available:[/] {ups} (`homestack update`)", soft_wrap=True)


def _flags(row: Any) -> str:
    return ", ".join(f for f in ("broken file" if row.broken_file else None, row.flag) if f)


def _render_file_problems(problems: list[Any]) -> None:
    """What cannot be read in the files, on stderr: the table still shows what runs."""
    if not problems:
        return
    from rich.markup import escape

    err = console(stderr=True)
    count, files = len(problems), len({p.file for p in problems})
    err.print(
        f"[bold red]{count} problem{'s' if count != 1 else ''} in {files} "
        f"file{'s' if files != 1 else ''}[/] (status shows everything else):"
    )
    for problem in problems:
        where = f"{problem.file}:{problem.line}" if problem.line else problem.file
        err.print(f"  {escape(where)}: {escape(problem.message)}", soft_wrap=True)
        if problem.hint:
            err.print(f"    [dim]{escape(problem.hint)}[/]", soft_wrap=True)
    err.print(
        "  [bold]fix:[/] run `homestack validate` for every problem and its fix; "
        "`homestack up` refuses a stack until its files are fixed.",
        soft_wrap=True,
    )


@app.command("top")
def top_command(
    names: Names = None,
    sort: Annotated[
        str, typer.Option("--sort", "-s", help="Order rows by cpu, mem or name.")
    ] = "cpu",
    interval: Annotated[
        float, typer.Option("--interval", "-n", help="Seconds between refreshes.", min=0.2)
    ] = 2.0,
) -> None:
    """Live status, refreshing in place; keys c/m/n sort by CPU, memory, name; q or Ctrl-C quits."""
    if sort not in ("cpu", "mem", "memory", "name"):
        raise BadInput(f"--sort {sort!r} is not one of cpu, mem, name", "Use --sort cpu|mem|name.")
    from . import swarm_cmds
    from .top import run_top

    source = None
    if swarm_cmds.active():  # tasks per node; figures for those on the manager's node
        from ..swarm.top import collect

        site = state.site()
        source = lambda: collect(site, names)  # noqa: E731
    run_top(state.context(), names, sort=sort, interval=interval, out=console(), source=source)


@app.command("logs")
def logs_command(
    names: Names = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep following; survives restarts.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only lines since: 10m, 2h, 1d, or an ISO time."),
    ] = None,
    grep: Annotated[
        str | None, typer.Option("--grep", "-g", help="Only lines matching this regex.")
    ] = None,
    level: Annotated[
        str | None,
        typer.Option(
            "--level", "-l", help="Only lines at this level or worse: error|warn|info|debug."
        ),
    ] = None,
    tail: Annotated[
        int | None, typer.Option("--tail", "-t", help="Last N lines of each container.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Logs of the chosen services merged in time order, with a coloured service prefix."""
    from ..observe.logs import LogQuery, read_logs
    from . import swarm_cmds

    query = LogQuery.build(names, since=since, grep=grep, level=level, tail=tail)
    if swarm_cmds.active():
        swarm_cmds.logs(query, follow=follow, as_json=as_json)  # every node's tasks
        return
    ctx = state.context(as_json=as_json)
    stacks, only = ctx.site.select(query.names)
    # a colour per service, the same in every run; prefixes padded to line up
    state.sink().log_services(
        [s.id for s in only or [s for st in stacks for s in st.services.values()]]
    )
    try:
        read_logs(ctx.site, query, follow=follow, ctx=ctx)
    except KeyboardInterrupt:
        return


@app.command("doctor")
def doctor_command(as_json: JsonOption = False) -> None:
    """Check the host and the site; every check a line ok/warn/fail with its fix."""
    from ..observe.doctor import run_doctor
    from . import swarm_cmds

    if swarm_cmds.active():
        from ..swarm.doctor import swarm_doctor

        result = swarm_doctor(state.site())  # the swarm's checks, the same report
        emit(result, as_json, _render_doctor)
        if result.failed:
            raise fail(ExitStatus.FAILED)
        return
    result = run_doctor(state.site())
    emit(result, as_json, _render_doctor)
    if result.failed:
        raise fail(ExitStatus.FAILED)


#: doctor prints the same warning or failure of this many services or more as one line
GROUP_AT = 3


def _grouped_checks(checks: list[Any]) -> list[tuple[str, str, str, str | None]]:
    """(name, status, detail, fix) lines: the same non-ok finding of several services
    ("never backed up" x 18) is one line naming them, with one fix."""
    groups: dict[tuple[str, str, str], list[Any]] = {}
    for check in checks:
        groups.setdefault((check.status, _area(check), check.detail), []).append(check)
    lines: list[tuple[str, str, str, str | None]] = []
    said: set[tuple[str, str, str]] = set()
    for check in checks:
        key = (check.status, _area(check), check.detail)
        group = groups[key]
        if check.status == "ok" or len(group) < GROUP_AT:
            lines.append((check.name, check.status, check.detail, check.fix))
            continue
        if key in said:
            continue
        said.add(key)
        area = _area(check)
        names = [c.name.removeprefix(f"{area} ") for c in group]
        fix = group[0].fix
        if area == "backup" and check.detail == "never backed up":
            fix = (
                "`homestack backup --all`, and `homestack backup --install-timer` to keep "
                "them backed up."
            )
        elif len({c.fix for c in group}) > 1:
            fix = f"{fix} (and the same for each of the others)"
        lines.append(
            (
                f"{area}: {len(group)} services",
                check.status,
                f"{check.detail}: {', '.join(names)}",
                fix,
            )
        )
    return lines


def _area(check: Any) -> str:
    return str(getattr(check, "area", "") or "")


def _render_doctor(result: DoctorResult, out: Console) -> None:
    from rich.markup import escape

    colours = {"ok": "green", "warn": "yellow", "fail": "red"}
    for name, status, detail, fix in _grouped_checks(result.checks):
        colour = colours[status]
        out.print(
            f"[{colour}]{status:4}[/] [bold]{escape(name)}[/]: {escape(detail)}",
            soft_wrap=True,  # whole lines in a pipe, not cut at its 200 columns
        )
        if fix and status != "ok":
            out.print(f"     [dim]fix: {escape(fix)}[/]", soft_wrap=True)
    counts = {s: sum(1 for c in result.checks if c.status == s) for s in ("ok", "warn", "fail")}
    out.print(f"{counts['ok']} ok, {counts['warn']} warning(s), {counts['fail']} failure(s)")
