"""Backup commands: backup, backups, verify, restore, prune."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import ExitStatus
from ..serial import Serialised
from .app import JsonOption, app, emit, fail, render_error, state
from .consoles import console

if TYPE_CHECKING:
    from rich.console import Console

    from ..backup.restic import Snapshot
    from ..backup.results import (
        BackupRun,
        CheckResult,
        Listing,
        ManyResults,
        PruneResult,
        RestoreResult,
    )
    from ..backup.timer import TimerResult

Service = Annotated[
    list[str] | None, typer.Argument(help="Services, one or several (default: see --stack/--all).")
]
AnyService = Annotated[
    list[str] | None,
    typer.Argument(help="Services, one or several (default: every enabled service)."),
]
StackOpt = Annotated[str | None, typer.Option("--stack", help="Every enabled service of a stack.")]
AllOpt = Annotated[bool, typer.Option("--all", help="Every enabled service.")]


def _services(service: list[str] | None, stack: str | None, every: bool, default_all: bool) -> Any:
    from ..backup import select

    site = state.site()
    if not service and stack is None and not every and default_all:
        every = True
    return select(site, service, stack, every)


def _loud(notices: list[str]) -> None:
    from rich.markup import escape

    err = console(stderr=True)
    for notice in notices:
        err.print(f"[bold yellow]!!! IMPORTANT:[/] [bold]{escape(notice)}[/]")


@app.command("backup")
def backup_command(
    service: Service = None,
    stack: StackOpt = None,
    every: AllOpt = False,
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="Services backed up at once.")] = 1,
    install_timer: Annotated[
        bool, typer.Option("--install-timer", help="Schedule `backup --all` + `prune` nightly.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --install-timer: print, write nothing.")
    ] = False,
    target: Annotated[
        Path | None,
        typer.Option("--target", help="With --install-timer: folder for the unit/cron files."),
    ] = None,
    scheduler: Annotated[
        str, typer.Option("--scheduler", help="With --install-timer: auto, systemd or cron.")
    ] = "auto",
    as_json: JsonOption = False,
) -> None:
    """Back up services: consistent (stop, pause or dump), encrypted, with restic."""
    from ..errors import BadInput

    if install_timer:
        if service or stack is not None or every or jobs != 1:
            raise BadInput(
                "--install-timer schedules `backup --all`; it takes no service, --stack, "
                "--all or --jobs",
                "Run `homestack backup --install-timer` on its own.",
            )
        _install_timer(dry_run, target, scheduler, as_json)
        return
    timer_only = [
        flag
        for flag, given in (
            ("--dry-run", dry_run),
            ("--target", target is not None),
            ("--scheduler", scheduler != "auto"),
        )
        if given
    ]
    if timer_only:  # never back up for real when the user asked for a dry run
        raise BadInput(
            f"{', '.join(timer_only)} only works with --install-timer; nothing was backed up",
            "Add --install-timer to schedule backups, or drop "
            f"{', '.join(timer_only)} to back up now.",
        )
    from ..backup import backup
    from ..backup.run import listed_without_file, require_readable

    services = _services(service, stack, every, default_all=False)
    for named in services if service else []:  # a named service's unreadable file: exit 2
        require_readable(state.site(), named)
    run = backup(state.site(), services, jobs=jobs, ctx=state.context(as_json=as_json))
    if not service:  # --all or --stack: a listed name without its file is not skipped
        run.results.extend(listed_without_file(state.site(), stack))
    _loud(run.notices)
    emit(run, as_json, _render_backup)
    if not run.ok:
        raise fail(ExitStatus.FAILED)


def _render_backup(run: BackupRun, out: Console) -> None:
    from rich.markup import escape

    from ..observe.render import human_bytes

    for r in run.results:
        for line in r.recovered:
            out.print(f"[yellow]{r.service}: recovered: {escape(line)}[/]")
        if r.skipped:
            out.print(f"[dim]{r.service}: skipped ({r.skipped})[/]")
        elif r.ok:
            out.print(
                f"{r.service}: snapshot {r.snapshot} ({r.consistency}); "
                f"{r.files_new} new, {r.files_changed} changed files, "
                f"{human_bytes(r.bytes_added)} added of {human_bytes(r.bytes_processed)}, "
                f"{r.duration_s:.1f}s"
            )
            for line in r.warnings:
                out.print(f"[bold yellow]{r.service}: warning:[/] {escape(line)}")
        else:
            out.print(f"[bold red]{r.service}: backup FAILED:[/] {escape(r.error or '')}")
            if r.hint:
                out.print(f"  [bold]fix:[/] {escape(r.hint)}")


def _install_timer(dry_run: bool, target: Path | None, scheduler: str, as_json: bool) -> None:
    from ..backup import install_timer
    from ..errors import BadInput

    if scheduler not in ("auto", "systemd", "cron"):
        raise BadInput(f"unknown scheduler {scheduler!r}", "Use auto, systemd or cron.")
    result = install_timer(
        state.site(),
        target=target,
        dry_run=dry_run,
        scheduler=scheduler,  # type: ignore[arg-type]
    )

    def render(res: TimerResult, out: Console) -> None:
        for path, text in res.files.items():
            out.print(f"[bold]# {path}[/]" + ("" if res.written else " (dry run)"))
            out.print(text, markup=False)
        for command in res.activated:
            out.print(f"ran: {command}")

    emit(result, as_json, render)


@app.command("backups")
def backups_command(
    service: AnyService = None,
    stack: StackOpt = None,
    as_json: JsonOption = False,
) -> None:
    """List snapshots: time, size, tags."""
    from ..backup import list_backups

    listing = list_backups(state.site(), _services(service, stack, False, default_all=True))

    def render(res: Listing, out: Console) -> None:
        from rich.table import Table

        from ..observe.render import human_bytes

        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("SERVICE", "SNAPSHOT", "TIME", "SIZE", "TAGS"):
            table.add_column(column)
        for svc in res.services:
            if svc.error:
                table.add_row(svc.service, "[red]error[/]", svc.error, "", "")
            elif not svc.snapshots:
                table.add_row(svc.service, "[dim]none[/]", "", "", "")
            for snap in svc.snapshots:
                table.add_row(
                    svc.service,
                    snap.id[:8],
                    snap.time[:19],
                    human_bytes(snap.size),
                    ",".join(snap.tags),
                )
        out.print(table)

    emit(listing, as_json, render)
    if not listing.ok:
        raise fail(ExitStatus.FAILED)


@app.command("verify")
def verify_command(
    service: AnyService = None,
    stack: StackOpt = None,
    read_data: Annotated[
        bool, typer.Option("--read-data", help="Read and check every byte.")
    ] = False,
    subset: Annotated[
        str | None,
        typer.Option("--read-data-subset", help="Read a part: 10%, 1/5 or 500M."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check repositories with `restic check`."""
    from ..backup import verify

    result = verify(
        state.site(),
        _services(service, stack, False, default_all=True),
        read_data=read_data,
        subset=subset,
    )

    def render(res: ManyResults[CheckResult], out: Console) -> None:
        from rich.markup import escape

        for r in res.results:
            if not r.checked:
                out.print(f"[dim]{r.service}: no backups yet (nothing to check)[/]")
            elif r.ok:
                out.print(f"{r.service}: [green]ok[/] ({r.mode})")
            else:
                out.print(f"[bold red]{r.service}: FAILED[/] ({r.mode}): {escape(r.error or '')}")

    emit(result, as_json, render)
    if not result.ok:
        raise fail(ExitStatus.FAILED)


@app.command("restore")
def restore_command(
    service: Annotated[str, typer.Argument(help="The service to restore.")],
    snapshot: Annotated[
        str | None, typer.Argument(help="Snapshot id (default: the latest).")
    ] = None,
    keep_previous: Annotated[
        bool,
        typer.Option("--keep-previous", help="Keep the replaced data as *.before-restore-*."),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask (scripts); a terminal is asked.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Restore a service from a snapshot: all or nothing, previous data put back on failure.

    The live data is first kept as a snapshot tagged before-restore (the undo)."""
    import sys

    from ..backup import restore
    from ..errors import BadInput, HomestackError

    site = state.site()
    if snapshot is not None and snapshot in {s.id for s in site.services()}:
        raise BadInput(
            f"restore takes one service and a snapshot id; {snapshot!r} is a service",
            f"Restore them one at a time: `homestack restore {service}`, then "
            f"`homestack restore {snapshot}` (each keeps its live data as a before-restore "
            "snapshot first).",
            service=snapshot,
        )
    ask = not yes and not as_json and sys.stdin.isatty()
    try:
        result = restore(
            site,
            site.service(service),
            snapshot,
            keep_previous=keep_previous,
            confirm=_ask_restore(service) if ask else None,
            ctx=state.context(as_json=as_json),
        )
    except HomestackError as error:
        if not as_json:
            raise
        # a script asked for JSON: it gets JSON (the error on stderr as well, as always)
        emit(_RestoreRefused(service, error.message, error.hint), True, _render_none)
        render_error(error)
        raise fail(error.exit_status) from None

    def render(res: RestoreResult, out: Console) -> None:
        out.print(
            f"restored {res.service} from {res.snapshot[:8]} in {res.duration_s:.1f}s"
            + (" (healthy)" if res.healthy else " (not running before; left stopped)")
        )
        _render_changes(res, out)
        for path in res.previous_kept:
            out.print(f"previous data kept in {path}")

    emit(result, as_json, render)


@dataclass(frozen=True)
class _RestoreRefused(Serialised):
    """`restore --json` that failed: the script gets JSON (the error is on stderr too)."""

    DATA_EXTRA = (("ok", lambda _: False),)
    DATA_ORDER = ("ok", "service", "error", "hint")

    service: str
    error: str
    hint: str | None


def _render_none(_result: object, _out: Console) -> None:
    return None


def _ask_restore(service: str) -> Callable[[Snapshot], bool]:
    def confirm(chosen: Snapshot) -> bool:
        err = console(stderr=True)
        err.print(
            f"Restore {service} from snapshot {chosen.short_id or chosen.id[:8]} "
            f"({chosen.time[:19].replace('T', ' ')})? Its current data is replaced; it is "
            "first saved as a snapshot tagged before-restore, so the restore can be undone."
        )
        return typer.confirm("Restore now?", default=False, err=True)

    return confirm


def _render_changes(res: RestoreResult, out: Console, shown: int = 5) -> None:
    """What the restore changed, and how to undo it."""
    from rich.markup import escape

    if res.safety_snapshot is None:
        out.print("there was no data before the restore: nothing was replaced")
        return
    counts = (
        (len(res.removed), "removed (newer than the snapshot)", res.removed),
        (len(res.added), "added back", res.added),
        (len(res.changed), "changed back", res.changed),
    )
    if not any(count for count, _what, _paths in counts):
        out.print("no file changed: the data was already as in the snapshot")
    for count, what, paths in counts:
        if count:
            listed = ", ".join(escape(p) for p in paths[:shown])
            more = f" and {count - shown} more" if count > shown else ""
            out.print(f"{count} file{'s' if count != 1 else ''} {what}: {listed}{more}")
    out.print(
        f"the data before the restore is snapshot {res.safety_snapshot[:8]} (tag "
        f"before-restore); to undo: homestack restore {res.service} {res.safety_snapshot[:8]}"
    )


@app.command("prune")
def prune_command(
    service: Service = None,
    stack: StackOpt = None,
    every: AllOpt = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show, delete nothing.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Forget old snapshots as BACKUP_KEEP_* say; never when the listing fails."""
    from ..backup import prune

    result = prune(
        state.site(), _services(service, stack, every, default_all=True), dry_run=dry_run
    )

    def render(res: ManyResults[PruneResult], out: Console) -> None:
        from rich.markup import escape

        for r in res.results:
            if r.ok:
                out.print(
                    f"{r.service}: kept {len(r.kept)}, removed {len(r.removed)}"
                    + (f" ({r.note})" if r.note else "")
                )
            else:
                out.print(f"[bold red]{r.service}: {escape(r.error or '')}[/]")

    emit(result, as_json, render)
    if not result.ok:
        raise fail(ExitStatus.FAILED)
