"""The live view of `up`: one row per service, its state and elapsed time.

It renders the ServiceChanged events of an operation (cli.events.CliSink hands them here
while the view is shown). On a terminal it is a Rich Live table redrawn as states change;
elsewhere (pipes, CI logs) each change of state is one plain line, so logs stay readable.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from ..deploy.up import ServiceRun
    from ..events import Event

STYLE = {
    "waiting": "dim",
    "creating": "cyan",
    "starting": "yellow",
    "healthy": "green",
    "running": "green",
    "completed": "green",
    "unchanged": "dim green",
    "unhealthy": "bold red",
    "exited": "bold red",
    "timeout": "bold red",
    "failed": "bold red",
    "blocked": "red",
}


class UpProgress:
    """Renders `up`'s per-service events to a console; use as a context manager."""

    def __init__(self, out: Console) -> None:
        self.out = out
        self.rows: dict[str, ServiceRun] = {}
        self.last: dict[str, str] = {}
        self.live: Any = None
        self.lock = threading.Lock()

    def __enter__(self) -> UpProgress:
        if self.out.is_terminal:
            from rich.live import Live

            # Live redraws this object (its __rich__) 8 times a second: elapsed times tick
            self.live = Live(self, console=self.out, refresh_per_second=8)
            self.live.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.live is not None:
            self.live.refresh()
            self.live.__exit__(kind, value, trace)

    def handle(self, event: Event) -> bool:
        """Render `event` if it is a service's change of state (True), else leave it."""
        from ..events import ServiceChanged

        if not isinstance(event, ServiceChanged):
            return False
        self.show(event.run)
        return True

    def show(self, run: ServiceRun) -> None:
        with self.lock:
            self.rows[run.service] = run
            if self.live is None and self.last.get(run.service) != run.state:
                self.last[run.service] = run.state
                if run.state != "waiting":
                    self.out.print(
                        f"{run.stack}/{run.service}: {run.state}"
                        + (f" ({run.elapsed:.1f}s)" if run.elapsed else ""),
                        markup=False,
                    )

    def __rich__(self) -> Any:
        return self._table()

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("STACK", "SERVICE", "ACTION", "STATE", "ELAPSED"):
            table.add_column(column)
        with self.lock:
            rows = list(self.rows.values())
        for run in rows:
            style = STYLE.get(run.state, "")
            table.add_row(
                run.stack,
                run.service,
                run.action,
                f"[{style}]{run.state}[/]" if style else run.state,
                f"{_elapsed(run):.1f}s" if run.launched_at else "-",
            )
        return table


def _elapsed(run: ServiceRun) -> float:
    if run.finished or run.launched_at is None:
        return run.elapsed
    return time.monotonic() - run.launched_at
