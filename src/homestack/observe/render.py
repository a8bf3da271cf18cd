"""Rich renderings of status rows, shared by `status` and `top`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .clock import human_duration, time_ago, uptime

__all__ = ["backup_age", "human_bytes", "human_duration", "status_table"]

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
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


def backup_age(text: str | None, now: datetime | None = None) -> str:
    """`never`, `5m ago`, or `3d in the future (clock?)` (observe/clock.py)."""
    return time_ago(text, now)


# left out in this order, least needed first, until the table fits the terminal; the last
# step shows memory used without the limit
# step shows memory used without the limit. The URL is never left out (it is how a service is
# reached): it wraps instead
NARROW_DROPS = ("BACKUP", "PORTS", "RESTARTS", "UP", "MEMORY", "STACK")
# columns that may wrap, and the width each needs to stay readable (the first given more
# when there is room); the others never wrap
WRAP_WIDTHS = {"URL": 30, "STATE": 20, "HEALTH": 12, "PORTS": 26}
WRAP_FLOORS = {"URL": 14, "STATE": 12, "HEALTH": 9, "PORTS": 12}  # the least, when narrow


def status_table(
    rows: list[StatusRow], *, backups_known: bool = True, wide: bool = False
) -> FittedTable:
    """The status table; at render time it leaves out the columns a narrow terminal cannot
    hold (NARROW_DROPS) instead of wrapping names and memory over several lines; `wide`:
    every column whole, whatever the width."""
    columns = ["SERVICE", "STACK", "STATE", "HEALTH", "UP", "RESTARTS", "CPU", "MEMORY", "URL"]
    columns += ["PORTS"] + (["BACKUP"] if backups_known else [])
    table = FittedTable([_cells(row, backups_known) for row in rows], columns)
    table.wide = wide
    return table


class FittedTable:
    """Status rows as a Rich renderable that fits its columns to the width it is given."""

    def __init__(self, cells: list[dict[str, str]], columns: list[str]) -> None:
        from rich.text import Text

        self.cells = cells
        self.columns = columns
        self.wide = False
        # each column's widest cell (or header) in terminal cells
        self.natural = {
            column: max(
                [len(column.partition("_")[0])]
                + [Text.from_markup(row[column]).cell_len for row in cells]
            )
            for column in (*columns, "MEMORY_USED")
        }

    def widths(self, columns: list[str], room: int, *, shrink: bool) -> dict[str, int] | None:
        """Each column's width within room: whole cells where a column does not wrap; where
        it does, WRAP_WIDTHS, grown into the room left or (shrink) down to WRAP_FLOORS.
        None when the columns do not fit, unless shrink (then Rich cuts every column)."""
        widths = {c: min(self.natural[c], WRAP_WIDTHS.get(c, self.natural[c])) for c in columns}
        spare = room - sum(widths.values()) - 2 * (len(columns) - 1)
        wrapping = [c for c in WRAP_WIDTHS if c in widths]
        for column in wrapping if spare > 0 else reversed(wrapping) if shrink else []:
            floor = min(widths[column], WRAP_FLOORS[column])
            change = max(min(spare, self.natural[column] - widths[column]), floor - widths[column])
            widths[column] += change
            spare -= change
        return widths if spare >= 0 or shrink else None

    def table(self, columns: list[str], widths: dict[str, int] | None) -> Table:
        from rich.table import Table

        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in columns:
            table.add_column(
                column.partition("_")[0],  # MEMORY_USED is headed MEMORY
                justify="right" if column in ("CPU", "RESTARTS") else "left",
                no_wrap=column not in WRAP_WIDTHS,
                overflow="fold" if column in WRAP_WIDTHS else "ellipsis",
                width=widths[column] if widths and column in WRAP_WIDTHS else None,
            )
        for row in self.cells:
            table.add_row(*(row[column] for column in columns))
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        columns = list(self.columns)
        if self.wide:  # every column, every cell whole (`status --wide`)
            yield self.table(columns, dict(self.natural))
            return
        widths = self.widths(columns, options.max_width, shrink=False)
        for column in NARROW_DROPS:
            if widths is not None:
                break
            if column == "MEMORY":
                columns[columns.index("MEMORY")] = "MEMORY_USED"
            elif column in columns:
                columns.remove(column)
            widths = self.widths(columns, options.max_width, shrink=False)
        if widths is None:
            widths = self.widths(columns, options.max_width, shrink=True)
        yield self.table(columns, widths)


def _cells(row: StatusRow, backups_known: bool) -> dict[str, str]:
    from rich.markup import escape

    colour = STATE_COLOURS.get(row.state, "white")
    state = f"[{colour}]{row.state}[/]"
    if row.exit_code is not None:
        state += f" ({row.exit_code})"
    if row.flag:
        state += f" [bold red]{row.flag}[/]"
    if row.broken_file:
        state += " [bold red]broken file[/]"
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
        if row.standin:  # its limit is dropped: the number is the host's, not the service's
            memory = human_bytes(row.mem_used) + " / [magenta]no limit[/]"
    cells = {
        "SERVICE": escape(row.service)
        + ("" if row.enabled else " [dim](off)[/]")
        + (" [magenta](stand-in)[/]" if row.standin else ""),
        "STACK": row.stack,
        "STATE": state,
        "HEALTH": health,
        "UP": uptime(row.uptime_s),
        "RESTARTS": "-" if row.restarts is None else str(row.restarts),
        "CPU": "-" if row.cpu_percent is None else f"{row.cpu_percent:.1f}%",
        "MEMORY": memory,
        "MEMORY_USED": human_bytes(row.mem_used),
        "URL": escape(row.url or "-"),
        "PORTS": escape(", ".join(row.ports) or "-"),
    }
    if backups_known:
        age = backup_age(row.last_backup)
        if not row.backup_failed:
            cells["BACKUP"] = age
        elif row.last_backup:
            cells["BACKUP"] = f"[red]failed[/], ok {age}"
        else:
            cells["BACKUP"] = "[red]failed[/] (never ok)"
    return cells
