"""Update commands: outdated, update, lock, history, rollback."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .. import serial
from ..errors import ExitStatus
from ..serial import Serialised
from .app import JsonOption, Names, app, emit, fail, state
from .consoles import console

if TYPE_CHECKING:
    from rich.console import Console

    from ..update.apply import UpdateReport
    from ..update.history import Deploy
    from ..update.outdated import LockResult, OutdatedResult

Timeout = Annotated[
    float,
    typer.Option("--timeout", help="Seconds the service has to become healthy.", min=1.0),
]


@app.command("outdated")
def outdated_command(
    names: Names = None,
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="The daily check (the backup timer runs it): save the result for `status`, "
            "send an 'update available' notification where a channel is set up; exit 0.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Newer image tags for each enabled service: newest patch, minor and major.

    Asks every registry (Registry HTTP API v2, anonymous) at once; answers are cached for
    HOMESTACK_REGISTRY_TTL seconds (600). A tag pushed again since it was locked or pulled is
    reported as re-pushed. A registry that does not answer is a warning for its services.
    Exit 1 when something can be updated.
    """
    from ..update.outdated import outdated

    site = state.site()
    result = outdated(site, names)
    if record:
        from ..update.schedule import record as save

        for line in save(site, result):
            console(stderr=True).print(line, markup=False, soft_wrap=True)
    emit(result, as_json, _render_outdated)
    if result.outdated and not record:
        raise fail(ExitStatus.FAILED)


def _render_outdated(result: OutdatedResult, out: Console) -> None:
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("service", "image", "patch", "minor", "major", "note"):
        table.add_column(column)
    for row in result.services:
        notes = []
        if row.repushed:
            notes.append("tag re-pushed (new digest)")
        if row.major and row.manual_major:
            notes.append("major by hand (--major)")
        if row.warning:
            notes.append(row.warning)
        table.add_row(
            row.service,
            row.image,
            row.patch or "",
            row.minor or "",
            row.major or "",
            "; ".join(notes),
        )
    out.print(table)
    out.print(result.summary() + f" (in {result.elapsed:.1f}s)", markup=False)


@app.command("update")
def update_command(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Services (default: every enabled one with a newer tag)."),
    ] = None,
    to: Annotated[str | None, typer.Option("--to", metavar="TAG", help="Move to TAG.")] = None,
    minor: Annotated[bool, typer.Option("--minor", help="Allow a newer minor.")] = False,
    major: Annotated[
        bool, typer.Option("--major", help="Allow a newer major (needed for update.major: manual).")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would change.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (for scripts).")] = False,
    timeout: Timeout = 300.0,
    as_json: JsonOption = False,
) -> None:
    """Update services to a newer tag: snapshot, pull, recreate, health gate, rollback.

    Default: the newest patch release; --minor, --major or --to TAG go further. The service
    file keeps its comments and layout; homestack.lock gets the digest. A restic snapshot
    tagged pre-update is taken first; if the service (or a dependent) is not healthy in
    time, the previous tag, digest and, when it changed, data are put back (exit 1).
    """
    from ..update.apply import update

    site = state.site()
    from ..update.tags import Level

    level: Level = "major" if major else "minor" if minor else "patch"
    from ..errors import BadInput

    if to is not None and len(names or []) != 1:
        raise BadInput("--to names one tag: give one service with it", "E.g. update app --to 1.2.3")
    every = not names
    asking = not dry_run and not yes
    if asking:
        import sys

        if not sys.stdin.isatty():
            raise BadInput(
                "update recreates services and needs a confirmation, but there is no terminal",
                "Add --yes to confirm non-interactively (or --dry-run to see what would change).",
            )
    unchecked: list[str] = []
    if every:
        names, unchecked = _with_newer(site, level)
        for warning in unchecked:  # a registry that did not answer: those were not checked
            console(stderr=True).print(f"warning: {warning}", markup=False, soft_wrap=True)
        if not names:
            emit(_Reports([]), as_json, _render_reports)
            if unchecked:
                raise fail(ExitStatus.FAILED)
            return
    if asking and not typer.confirm(
        f"Update {', '.join(names or [])} (snapshot first, rollback on failure)?"
    ):
        raise fail(ExitStatus.USAGE)
    from ..errors import HomestackError
    from ..update.apply import UpdateReport

    reports = []
    for name in names or []:
        try:
            reports.append(
                update(
                    site,
                    name,
                    to=to,
                    level=level,
                    allow_major=major,
                    dry_run=dry_run,
                    timeout=timeout,
                    ctx=state.context(as_json=as_json),
                )
            )
        except HomestackError as error:
            if not every:  # services named one by one: the first refusal ends it
                raise
            failed = UpdateReport(name, "", "", ok=False, reason=error.message)
            reports.append(failed)  # the others are still updated
    emit(_Reports(reports), as_json, _render_reports)
    if unchecked or any(not r.ok for r in reports):
        raise fail(ExitStatus.FAILED)


def _with_newer(site: Any, level: Any) -> tuple[list[str], list[str]]:
    """The enabled services with a newer tag at `level` (one `outdated` over all), and the
    warnings of those that could not be checked."""
    from ..update.outdated import outdated
    from ..update.tags import Newer

    result = outdated(site)
    rows = result.services
    return [r.service for r in rows if Newer(r.patch, r.minor, r.major).best(level)], [
        w for w in result.warnings if "is not a version" not in w
    ]


@dataclass(frozen=True)
class _Reports(Serialised):
    """The updates (or rollback) of one command, one report per service."""

    DATA_EXTRA = ("ok",)
    DATA_ORDER = ("ok", "services")

    reports: list[UpdateReport] = field(metadata=serial.entry(key="services"))

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.reports)


def _render_reports(result: _Reports, out: Console) -> None:
    from rich.markup import escape

    if not result.reports:
        out.print("every enabled service is on its newest tag at that level", markup=False)
    for report in result.reports:
        head = f"{report.service}: {report.from_image} → {report.to_image}"
        if not report.ok and not report.rolled_back and not report.from_image:
            out.print(f"[bold red]{escape(report.service)}:[/] {escape(report.reason or '')}")
            continue
        if report.rolled_back:
            out.print(f"[bold red]{escape(head)}: ROLLED BACK[/] ({escape(report.reason or '')})")
            for line in report.health_log:
                out.print("  health check: " + escape(line))
        elif report.dry_run:
            out.print(f"{escape(head)} (dry run: nothing changed)")
        elif report.changed:
            out.print(f"[green]{escape(head)}[/]")
        else:
            out.print(escape(f"{report.service}: nothing to update"))
        for step in report.steps:
            out.print("  " + escape(step))


@app.command("lock")
def lock_command(names: Names = None, as_json: JsonOption = False) -> None:
    """Write homestack.lock: the digest each service's pinned tag points at now.

    `up` and `pull` then deploy those exact bytes on any machine; commit the file.
    """
    from ..update.outdated import refresh_lock

    result = refresh_lock(state.site(), names)

    def render(res: LockResult, out: Console) -> None:
        for name, pinned in sorted(res.locked.items()):
            out.print(f"locked {name}: {pinned}", markup=False)
        out.print(f"{len(res.locked)} locked, {len(res.unchanged)} unchanged", markup=False)
        for warning in res.warnings:
            out.print(f"warning: {warning}", markup=False)

    emit(result, as_json, render)
    if result.warnings:
        raise fail(ExitStatus.FAILED)


@dataclass(frozen=True)
class _History:
    """A service's deploys, oldest first, numbered from 1 as `rollback --to N` takes them."""

    service: str
    entries: list[Deploy]

    def to_data(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "entries": [{"n": i, **e.to_data()} for i, e in enumerate(self.entries, start=1)],
        }


@app.command("history")
def history_command(
    service: Annotated[str, typer.Argument(help="The service.")], as_json: JsonOption = False
) -> None:
    """Every deploy of a service: time, image, digest, config hash, pre-update snapshot."""
    from ..update import history

    site = state.site()
    site.service(service)  # a typo is refused with the names
    entries = history.read(site, service)

    def render(listing: _History, out: Console) -> None:
        service, entries = listing.service, listing.entries
        if not entries:
            out.print(f"no deploys of {service} recorded yet", markup=False)
        for index, entry in enumerate(entries, start=1):
            digest = (entry.digest or "-")[:19]
            snap = (entry.snapshot or "-")[:8]
            out.print(
                f"{index:>3}  {entry.time}  {entry.image}  {digest}  snapshot {snap}  ({entry.by})",
                markup=False,
            )

    emit(_History(service, entries), as_json, render)


@app.command("rollback")
def rollback_command(
    service: Annotated[str, typer.Argument(help="The service.")],
    to: Annotated[
        int | None, typer.Option("--to", metavar="N", help="History entry (see `history`).")
    ] = None,
    data: Annotated[
        bool, typer.Option("--data", help="Also put back the data that version ran on.")
    ] = False,
    timeout: Timeout = 300.0,
    as_json: JsonOption = False,
) -> None:
    """Return a service to an earlier deploy from its history (default: the last other image).

    A pre-update snapshot is taken first; with --data the data comes back from the snapshot
    taken when that version was left.
    """
    from ..update.apply import rollback

    report = rollback(
        state.site(), service, to=to, data=data, timeout=timeout, ctx=state.context(as_json=as_json)
    )
    emit(_Reports([report]), as_json, _render_reports)
    if not report.ok:
        raise fail(ExitStatus.FAILED)
