"""Alerts that reach a person: `notify test|flush|check`, `alerts`, `alerts silence`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import ExitStatus
from .app import JsonOption, command_group, emit, fail, state

if TYPE_CHECKING:
    from rich.console import Console

    from ..notify.alerts import AlertsReport, Silence
    from ..notify.channel import Delivery, Sent
    from ..serial import Listed, Single

notify_app = command_group(
    "notify", "homestack's own events (backup failed, doctor failing …) on the site's channel."
)
alerts_app = command_group(
    "alerts", "Firing alerts and silences (Alertmanager).", invoke_without_command=True
)


@notify_app.command("test")
def notify_test_command(as_json: JsonOption = False) -> None:
    """Send one test notification to every channel and say where it went."""
    from ..notify.channel import send_test
    from ..serial import Listed

    sent = send_test(state.site())
    emit(Listed(sent), as_json, _render_sent)
    if not all(s.ok for s in sent):
        raise fail(ExitStatus.FAILED)


def _render_sent(result: Listed[Sent], out: Console) -> None:
    from rich.markup import escape

    for row in result.items:
        mark = "[green]sent[/]" if row.ok else f"[red]failed[/] ({escape(row.error or '')})"
        out.print(f"{mark} → {escape(row.channel)}", soft_wrap=True)


@notify_app.command("flush")
def notify_flush_command(as_json: JsonOption = False) -> None:
    """Send what quiet hours held back or a down channel missed."""
    from ..notify.channel import flush
    from ..serial import Listed

    emit(Listed(flush(state.site())), as_json, _render_deliveries)


@notify_app.command("check")
def notify_check_command(as_json: JsonOption = False) -> None:
    """For the timer: doctor, disk and backup age; each failure (and recovery) notified once."""
    from ..notify import events
    from ..notify.channel import flush
    from ..observe.doctor import run_doctor

    site = state.site()
    flush(site)
    result = run_doctor(site)
    done = [events.doctor_outcome(site, result.checks), events.disk_outcome(site)]
    enabled = site.services(enabled_only=True)
    if not {"prometheus", "alertmanager"} <= {s.id for s in enabled}:
        # without them, nobody else watches the backups' age (BackupTooOld does)
        backed = [s.id for s in enabled if s.meta and not s.meta.stateless]
        done += events.backup_age_outcome(site, backed)
    from ..serial import Listed

    emit(Listed([d for d in done if d is not None]), as_json, _render_deliveries)


def _render_deliveries(result: Listed[Delivery], out: Console) -> None:
    from rich.markup import escape

    shown = [d for d in result.items if d.outcome != "duplicate"]
    if not shown:
        out.print("[dim]nothing to send[/]")
    for row in shown:
        out.print(
            f"{row.outcome:10} {escape(row.event.title)} {escape(row.reason)}",
            soft_wrap=True,
        )


@alerts_app.callback()
def alerts_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Firing alerts and active silences, from Alertmanager's API."""
    if ctx.invoked_subcommand is not None:
        return
    from ..notify.alerts import list_alerts

    emit(list_alerts(state.site()), as_json, _render_alerts)


def _render_alerts(result: AlertsReport, out: Console) -> None:
    from rich.markup import escape

    if not result.alerts:
        out.print(f"[green]no alert is firing[/] [dim]({escape(result.url)})[/]")
    for alert in result.alerts:
        held = " [dim](silenced)[/]" if alert.silenced_by else ""
        held = held or (" [dim](held back)[/]" if alert.inhibited_by else "")
        where = "/".join(p for p in (alert.stack, alert.service) if p)
        out.print(
            f"[red]{escape(alert.name)}[/] {escape(where)} {escape(alert.summary)} "
            f"[dim]since {escape(alert.since[:16])}[/]{held}",
            soft_wrap=True,
        )
    for silence in result.silences:
        out.print(
            f"[yellow]silence[/] {escape(silence.matchers)} until {escape(silence.ends[:16])} "
            f"[dim]{escape(silence.id)}[/]",
            soft_wrap=True,
        )


@alerts_app.command("silence")
def alerts_silence_command(
    service: Annotated[str, typer.Argument(help="The service whose alerts to silence.")],
    duration: Annotated[str, typer.Option("--for", help="How long: 30m, 2h, 1d.")] = "2h",
    comment: Annotated[str, typer.Option("--comment", help="Why (shown in Alertmanager).")] = "",
    as_json: JsonOption = False,
) -> None:
    """Silence a service's alerts for a while (e.g. during maintenance)."""
    from ..notify.alerts import silence
    from ..serial import Single

    made = silence(state.site(), service, duration, comment=comment)
    emit(Single(made), as_json, _render_silence)


def _render_silence(result: Single[Silence], out: Console) -> None:
    from rich.markup import escape

    row = result.item
    out.print(f"silenced {escape(row.matchers)} until {escape(row.ends)} ({row.id})")
