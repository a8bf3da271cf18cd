"""Live status for the pages: one sampler thread, a short history, and the SSE subscribers.

While at least one page listens, a thread keeps the site's status: it refreshes states at
once when the engine reports an event of one of the site's containers (debounced), and
takes a full sample (CPU, memory, last backup) every FULL_EVERY_S. The last HISTORY_POINTS
CPU and memory readings of each service are kept in memory for the sparklines. Changes are
handed to the subscribers as (event, data) pairs; with no subscriber the thread sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..catalog import Site

FULL_EVERY_S = 10.0
HISTORY_POINTS = 30  # five minutes at FULL_EVERY_S
DEBOUNCE_S = 0.15
EVENTS = ["create", "start", "stop", "die", "destroy", "pause", "unpause", "health_status"]


@dataclass(frozen=True)
class Point:
    time: float
    cpu: float | None
    mem: int | None


Message = tuple[str, Any]


class Hub:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.history: dict[str, deque[Point]] = {}
        self.result: Any = None  # the last StatusResult
        self.taken: float = 0.0
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Message]]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._events_thread: threading.Thread | None = None
        self._projects: set[str] = set()
        self.on_rows: Callable[[Any], None] | None = None
        self.on_subscribe: Callable[[], None] | None = None
        self._sampling = threading.Lock()  # the loop and page requests both sample
        self.samples = 0  # full and quick samples taken (the benchmark reads it)

    # ---- subscribers -----------------------------------------------------------------
    def subscribe(self) -> asyncio.Queue[Message]:
        queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=1000)
        with self._lock:
            self._subscribers.append((asyncio.get_running_loop(), queue))
        if self.on_subscribe is not None:
            self.on_subscribe()
        self._ensure_running()
        self._wake.set()
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Message]) -> None:
        with self._lock:
            self._subscribers = [(lp, q) for lp, q in self._subscribers if q is not queue]

    def publish(self, event: str, data: Any) -> None:
        with self._lock:
            targets = list(self._subscribers)
        for loop, queue in targets:
            with contextlib.suppress(RuntimeError):  # that page's loop has closed
                loop.call_soon_threadsafe(_offer, queue, (event, data))

    @property
    def listening(self) -> bool:
        with self._lock:
            return bool(self._subscribers)

    # ---- sampling ----------------------------------------------------------------------
    def _ensure_running(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, daemon=True, name="hub")
                self._thread.start()
            if self._events_thread is None or not self._events_thread.is_alive():
                self._events_thread = threading.Thread(
                    target=self._watch_events, daemon=True, name="hub-events"
                )
                self._events_thread.start()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()

    def sample(self, *, full: bool) -> Any:
        """Take the site's status now (full: with CPU, memory and backups) and remember it."""
        with self._sampling:
            return self._sample(full=full)

    def _sample(self, *, full: bool) -> Any:
        from ..api import Context, status

        site = Site.load(self.root)
        self._projects = {site.project_name(stack) for stack in site.stacks.values()}
        # the operation the CLI's status calls (on a swarm site: the services' tasks)
        result = status(Context.for_site(site), usage=full, backups=full)
        now = time.time()
        self.samples += 1
        if full:
            for row in result.rows:
                points = self.history.setdefault(row.service, deque(maxlen=HISTORY_POINTS))
                points.append(Point(now, row.cpu_percent, row.mem_used))
        elif self.result is not None:  # keep the last full sample's load and backup columns
            before = {r.container or r.service: r for r in self.result.rows}
            rows = []
            for fresh in result.rows:
                row, old = fresh, before.get(fresh.container or fresh.service)
                if old is not None and row.state == "running":
                    row = replace(
                        row,
                        cpu_percent=old.cpu_percent,
                        mem_used=old.mem_used,
                        mem_limit=old.mem_limit,
                    )
                if old is not None:
                    row = replace(row, last_backup=old.last_backup, backup_failed=old.backup_failed)
                rows.append(row)
            result.rows = rows
            result.backups_known = self.result.backups_known
        self.result, self.taken = result, now
        return result

    def _loop(self) -> None:
        next_full = 0.0
        while not self._stop.is_set():
            if not self.listening:
                self._wake.wait(timeout=5.0)
                self._wake.clear()
                continue
            full = time.monotonic() >= next_full
            try:
                result = self.sample(full=full)
            except Exception as error:  # the engine went away: say so, keep trying
                self.publish("problem", str(getattr(error, "message", error)))
                self._wake.wait(timeout=FULL_EVERY_S)
                self._wake.clear()
                continue
            if full:
                next_full = time.monotonic() + FULL_EVERY_S
            if self.on_rows is not None:
                self.on_rows(result)
            self._wake.wait(timeout=max(0.0, next_full - time.monotonic()))
            self._wake.clear()
            time.sleep(DEBOUNCE_S)  # events come in bursts (stop = kill, die, stop)

    def _watch_events(self) -> None:
        from ..engine.backend import default_backend

        while not self._stop.is_set():
            events = default_backend().events_of(EVENTS).start()
            try:
                while not (self._stop.is_set() or events.ended):
                    events.wait(1.0)
                    if any(event.project in self._projects for event in events.take()):
                        self._wake.set()
            finally:
                events.close()
            if not self._stop.is_set():
                time.sleep(2.0)  # the stream ended (no engine now: the sampler reports it)


def _offer(queue: asyncio.Queue[Message], message: Message) -> None:
    with contextlib.suppress(asyncio.QueueFull):  # a page that stopped reading misses some
        queue.put_nowait(message)


def sparkline(points: list[float | None], width: int = 80, height: int = 18) -> str:
    """An inline SVG polyline of the readings (None gaps skipped); empty without two."""
    values = [p for p in points if p is not None]
    if len(values) < 2:
        return ""
    top = max(values) or 1.0
    step = width / (len(points) - 1)
    coords = [
        f"{index * step:.1f},{height - 1 - (value / top) * (height - 2):.1f}"
        for index, value in enumerate(points)
        if value is not None
    ]
    return (
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-hidden="true"><polyline points="{" ".join(coords)}"/></svg>'
    )
