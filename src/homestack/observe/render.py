"""Rich renderings of status rows, shared by `status` and `top`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.table import Table

    from .status import StatusRow

STATE_COLOURS = {
    "running": "green",
    "exited": "red",
    "dead": "red",
    "restarting": "yellow",
    "paused": "yellow",
    "created": "yellow",
    "missing": "red",
    "disabled": "dim",
}


def human_bytes(value: int | None) -> str:
    """A byte count in binary units, as every command prints sizes: `512 B`, `1.5 MiB`, `-`.

    The one formatter for memory (status, top) and backup sizes; cheap to import (no engine).
    """
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = int(seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if whole >= size:
            rest = whole % size
            small = {"d": 3600, "h": 60, "m": 1}[unit]
            sub = {"d": "h", "h": "m", "m": "s"}[unit]
            return (
                f"{whole // size}{unit}{rest // small}{sub}"
                if rest >= small
                else f"{whole // size}{unit}"
            )
    return f"{whole}s"


def backup_age(text: str | None) -> str:
    if not text:
        return "never"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return text
    return human_duration((datetime.now(UTC) - when).total_seconds()) + " ago"


def status_table(rows: list[StatusRow], *, backups_known: bool = True) -> Table:
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    columns = ["SERVICE", "STACK", "STATE", "HEALTH", "UP", "RESTARTS", "CPU", "MEMORY", "URL"]
    columns += ["PORTS"] + (["BACKUP"] if backups_known else [])
    for column in columns:
        table.add_column(column, justify="right" if column in ("CPU", "RESTARTS") else "left")
    for row in rows:
        colour = STATE_COLOURS.get(row.state, "white")
        state = f"[{colour}]{row.state}[/]"
        if row.exit_code is not None:
            state += f" ({row.exit_code})"
        if row.flag:
            state += f" [bold red]{row.flag}[/]"
        health = row.health or "-"
        if row.health == "healthy":
            health = "[green]healthy[/]"
        elif row.health == "unhealthy":
            health = "[red]unhealthy[/]" + (
                f" [dim]{escape(row.health_output)}[/]" if row.health_output else ""
            )
        elif row.health == "starting":
            health = "[yellow]starting[/]"
        memory = "-"
        if row.mem_used is not None:
            memory = human_bytes(row.mem_used) + " / " + human_bytes(row.mem_limit)
        cells = [
            escape(row.service) + ("" if row.enabled else " [dim](off)[/]"),
            row.stack,
            state,
            health,
            human_duration(row.uptime_s),
            "-" if row.restarts is None else str(row.restarts),
            "-" if row.cpu_percent is None else f"{row.cpu_percent:.1f}%",
            memory,
            escape(row.url or "-"),
            escape(", ".join(row.ports) or "-"),
        ]
        if backups_known:
            age = backup_age(row.last_backup)
            cells.append(f"[red]failed[/], ok {age}" if row.backup_failed else age)
        table.add_row(*cells)
    return table
