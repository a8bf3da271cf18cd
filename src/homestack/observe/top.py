"""`homestack top`: the status table, live, refreshing in place until Ctrl-C."""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..catalog import Site
from ..engine import observe_api as engine
from .render import human_bytes, status_table
from .status import StatusResult, collect_status, sort_rows

if TYPE_CHECKING:
    from rich.console import Console, RenderableType


def _frame(result: StatusResult, sort: str, interval: float) -> RenderableType:
    from rich.console import Group
    from rich.text import Text

    rows = sort_rows(result.rows, sort)
    running = [r for r in rows if r.state == "running"]
    cpu = sum(r.cpu_percent or 0.0 for r in running)
    memory = sum(r.mem_used or 0 for r in running)
    clock = datetime.now().strftime("%H:%M:%S")
    header = Text.from_markup(
        f"[bold]homestack top[/]  {clock}  {len(running)}/{len(rows)} running  "
        f"CPU {cpu:.1f}%  memory {human_bytes(memory)}  "
        f"[dim]sorted by {sort}, every {interval:g}s — Ctrl-C quits[/]"
    )
    return Group(header, status_table(rows, backups_known=False))


def run_top(
    site: Site,
    names: list[str] | None,
    *,
    sort: str,
    interval: float,
    out: Console,
    frames: int | None = None,
) -> None:
    """Refresh until Ctrl-C (or `frames` refreshes); the terminal is restored either way."""
    from rich.live import Live

    api = engine.api_client()
    stop = threading.Event()
    # SIGTERM quits as cleanly as Ctrl-C
    previous: Any = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        result = collect_status(site, names, api=api, with_backups=False)
        with Live(
            _frame(result, sort, interval),
            console=out,
            auto_refresh=False,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
        ) as live:
            shown = 1
            while not stop.is_set() and (frames is None or shown < frames):
                if stop.wait(max(0.0, interval - engine.SAMPLE_INTERVAL_S)):
                    break
                result = collect_status(site, names, api=api, with_backups=False)
                live.update(_frame(result, sort, interval), refresh=True)
                shown += 1
    except KeyboardInterrupt:
        pass  # Ctrl-C is how top is meant to end; Live has restored the cursor
    finally:
        signal.signal(signal.SIGTERM, previous)
