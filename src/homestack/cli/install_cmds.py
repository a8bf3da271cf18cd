"""`homestack install networks|secrets|data` and `homestack secrets ls`.

Other command modules add their own steps to `install_app` (e.g. `install docker`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import ExitStatus
from .app import JsonOption, command_group, emit, fail, state

if TYPE_CHECKING:
    from rich.console import Console

    from ..deploy.data import DataReport
    from ..deploy.networks import NetworksReport
    from ..deploy.secrets import SecretsListing, SecretsReport


install_app = command_group(
    "install", "Prepare the host: Docker, drivers, networks, secrets, DATA folders."
)
secrets_app = command_group("secrets", "Generated secrets (names and metadata only, never values).")

Names = Annotated[
    list[str] | None,
    typer.Argument(
        help="Stacks or services (default: every enabled service).",
        show_default=False,
        metavar="NAME",
    ),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would change; change nothing.")]


def _install_step(name: str, help: str, render: Callable[[Any, Console], None]) -> None:
    """`homestack install NAME [NAMES] [--dry-run] [--json]`: api.install_NAME, rendered."""

    def command(names: Names = None, dry_run: DryRun = False, as_json: JsonOption = False) -> None:
        from .. import api

        operation = getattr(api, f"install_{name}")
        emit(operation(state.context(as_json=as_json), names, dry_run=dry_run), as_json, render)

    install_app.command(name, help=help)(command)


def _verb(dry_run: bool, verb: str) -> str:
    return f"would {verb}" if dry_run else verb + ("d" if verb.endswith("e") else "ed")


def _render_networks(report: NetworksReport, out: Console) -> None:
    for change in report.changes:
        subnet = f" {change.subnet}" if change.subnet else ""
        extra = f" ({change.detail})" if change.detail else ""
        if change.action == "create":
            verb = _verb(report.dry_run, "create")
            out.print(f"{verb} network {change.name} ({change.driver}{subnet}){extra}")
        else:
            out.print(f"[dim]network {change.name} exists ({change.driver}{subnet})[/]")
    _notes_and_outcome(report, out, "networks")


def _notes_and_outcome(report: Any, out: Console, what: str, *, outcome: str | None = None) -> None:
    """The report's notes, then `outcome` (else "nothing to change" when nothing did)."""
    for note in report.notes:
        out.print(f"[yellow]note:[/] {note}")
    if outcome is not None:
        out.print(outcome)
    elif not report.changed:
        out.print(f"{what}: nothing to change")


def _render_secrets(report: SecretsReport, out: Console) -> None:
    for note in report.notes:
        out.print(f"{'would ' if report.dry_run else ''}{note}")
    for change in report.changes:
        if change.action == "create":
            verb = _verb(report.dry_run, "generate")
            out.print(f"{verb} {change.path} ({change.mode} {change.owner}, {change.detail})")
        elif change.action == "fix":
            out.print(f"{_verb(report.dry_run, 'fix')} {change.path}: {change.detail}")
        else:
            out.print(f"[dim]{change.path} exists ({change.mode} {change.owner})[/]")
    if not report.changed:
        out.print("secrets: nothing to change")


def _render_data(report: DataReport, out: Console) -> None:
    for folder in report.folders:
        if folder.action == "create":
            mode = f" {folder.detail}" if folder.detail else ""
            out.print(f"{_verb(report.dry_run, 'create')} {folder.path} ({folder.owner}{mode})")
        elif folder.action == "foreign-owner":
            out.print(f"[yellow]{folder.path} is owned by {folder.owner}:[/] {folder.detail}")
    if report.unchanged:
        out.print(f"[dim]{len(report.unchanged)} folders exist with the right owner[/]")
    bound = [v.name for v in report.volumes if v.state == "ok"]
    if bound:
        out.print(f"[dim]{len(bound)} volumes bound to their DATA folders[/]")
    left = None
    if report.foreign:  # left as they are: "nothing to change" would hide them
        count = len(report.foreign)
        left = (
            f"[yellow]data: {count} folder{'s' if count != 1 else ''} left with another "
            "owner (above)[/]: chown them as each line says, unless their service runs as "
            "that owner"
        )
    _notes_and_outcome(report, out, "data", outcome=left)


_install_step(
    "networks",
    "Create the seed's bridge networks (and iot_macvlan when IOT_* is set). Idempotent.",
    _render_networks,
)
_install_step(
    "secrets",
    "Generate the secrets the enabled services declare (never overwrites, never prints).",
    _render_secrets,
)
_install_step(
    "data",
    "Create DATA/{service}, DATA/config/{service}, DATA/backups/{service} owned by PUID:PGID.",
    _render_data,
)


@secrets_app.command("ls")
def secrets_ls_command(as_json: JsonOption = False) -> None:
    """List secret files: name, service, owner, mode, age, size. Never the values."""
    from ..deploy.secrets import list_secrets

    listing = list_secrets(state.site())
    emit(listing, as_json, _render_listing)
    if listing.problems:
        raise fail(ExitStatus.FAILED)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _render_listing(listing: SecretsListing, out: Console) -> None:
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("SECRET", "SERVICE", "OWNER", "MODE", "AGE", "SIZE", "PROBLEM"):
        table.add_column(column)
    for row in listing.rows:
        table.add_row(
            row.name,
            row.service or "[dim]-[/]",
            row.owner,
            row.mode,
            _age(row.age_s),
            "-" if row.size is None else str(row.size),
            f"[red]{row.problem}[/]" if row.problem else "",
        )
    out.print(table)
    for name in listing.missing:
        out.print(f"[yellow]missing:[/] {name} (run `homestack install secrets`)")
    out.print(f"[dim]{len(listing.rows)} files in {listing.folder}[/]")
