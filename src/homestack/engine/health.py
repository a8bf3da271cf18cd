"""The one wait for "healthy": engine events wake it, one container listing per look.

`up` starts services the moment what they need is healthy; `restart`, `start`, backups
and updates wait for a service to be healthy again. All of them judge a container the
same way (`judge`) and are woken by the same event stream (`EngineEvents`): a
`health_status: healthy` event settles a service at once, a `die` or other health event
prompts a look, and a slow poll (POLL_S) covers an engine whose events do not arrive.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import OperationFailed
from .model import PROJECT_LABEL, SERVICE_LABEL, Container

POLL_S = 0.5  # the loop also wakes on every engine event
HEALTHY_EVENT = "health_status: healthy"
GOOD = ("healthy", "running", "completed")


@dataclass(frozen=True)
class Watched:
    """A service to wait for: its Compose project, its name, whether it is a oneshot job
    (which a wait counts done only once it has exited 0, not while it runs)."""

    project: str
    service: str
    oneshot: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.project, self.service)


@dataclass(frozen=True)
class Verdict:
    """How a wait ended for one service: healthy, running (no health check), completed (a
    oneshot job exited 0); exited, unhealthy, timeout (failed)."""

    state: str
    detail: str = ""
    container: Container | None = None

    @property
    def ok(self) -> bool:
        return self.state in GOOD

    def error(self, service: str) -> OperationFailed:
        """The error a wait that ended this way raises (restart, start, backups)."""
        current = self.container or Container()
        return OperationFailed(
            f"{service} did not become healthy (state {current.state or 'missing'}, "
            f"health {current.health or 'none'})",
            f"Look at `docker compose logs {service}` (or `homestack logs {service}`).",
            service=service,
        )


@dataclass(frozen=True)
class Event:
    """One container event: which (project, service), what happened, the container's id."""

    project: str
    service: str
    status: str  # start, die, "health_status: healthy", …
    id: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.project, self.service)

    @property
    def healthy(self) -> bool:
        return self.status == HEALTHY_EVENT


def judge(box: Container, *, oneshot: bool = False) -> Verdict | None:
    """The verdict on an inspected container; None while it is still on its way (created,
    starting, restarting without an error)."""
    status, health, code = box.state, box.health, box.exit_code
    if status in ("exited", "dead") and oneshot and code == 0:
        return Verdict("completed", "", box)
    if status in ("exited", "dead") or (status == "restarting" and code):
        return Verdict("exited", f"exited with code {code}", box)
    if (box.restart_count or 0) > 0 and code:
        return Verdict("exited", f"exited with code {code} and was restarted", box)
    if health == "unhealthy":
        return Verdict("unhealthy", "health check failed", box)
    if status == "running" and health in (None, "healthy"):
        return Verdict("healthy" if health else "running", "", box)
    return None


class EngineEvents:
    """Container start, die and health events, followed in a thread from start() to close();
    each one wakes `wait()`. Without events (an engine that refuses them) waits just poll."""

    def __init__(
        self,
        follow: Callable[[list[str]], Any],
        kinds: Iterable[str] = ("start", "die", "health_status"),
    ) -> None:
        self._follow = follow  # kinds → a closable iterator of Docker's event dicts
        self._kinds = list(kinds)
        self._ended = threading.Event()
        self._queue: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stream: Any = None
        self._stopped = False

    def start(self) -> EngineEvents:
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def _run(self) -> None:
        try:
            self._stream = self._follow(self._kinds)
            if self._stopped:
                self._stream.close()
                return
            for raw in self._stream:
                labels = (raw.get("Actor") or {}).get("Attributes") or {}
                self._queue.put(
                    Event(
                        str(labels.get(PROJECT_LABEL)),
                        str(labels.get(SERVICE_LABEL)),
                        str(raw.get("status") or raw.get("Action") or ""),
                        str(raw.get("id") or ""),
                    )
                )
                self._wake.set()
        except Exception:  # noqa: S110 - without events the loop still polls
            pass
        finally:
            self._ended.set()
            self._wake.set()

    @property
    def ended(self) -> bool:
        """The stream stopped (closed, or the engine went away): no more events come."""
        return self._ended.is_set()

    def take(self) -> list[Event]:
        """The events that arrived since the last take."""
        out: list[Event] = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out

    def wait(self, seconds: float = POLL_S) -> None:
        """Until the next event, at most `seconds`."""
        self._wake.wait(seconds)
        self._wake.clear()

    def wake(self) -> None:
        self._wake.set()

    def close(self) -> None:
        self._stopped = True
        if self._stream is not None:
            with contextlib.suppress(Exception):
                self._stream.close()


def stays_healthy(
    projects: set[str],
    services: Collection[str],
    seconds: float,
    *,
    events: EngineEvents,
    listing: Callable[[set[str]], Iterable[Container]],
) -> Container | None:
    """Watch these services' containers for `seconds` (an update's dependents on the new
    version): the first that turns unhealthy or stops, else None. Looks once at the start,
    then on every event and POLL_S tick, as the wait does."""
    deadline = time.monotonic() + seconds
    while True:
        events.take()  # any event only prompts the look below
        for box in listing(projects):
            if box.service in services and (box.health == "unhealthy" or not box.running):
                return box
        if time.monotonic() >= deadline:
            return None
        events.wait(min(POLL_S, max(0.0, deadline - time.monotonic())))


def wait_healthy(
    watched: Iterable[Watched],
    timeout: float,
    *,
    events: EngineEvents,
    listing: Callable[[set[str]], Mapping[tuple[str, str], Container]],
    inspect: Callable[[str], Container | None],
) -> dict[tuple[str, str], Verdict]:
    """Wait until each watched service is healthy (or running without a health check, or,
    a oneshot job, exited 0) or has failed; those still on their way at the deadline time
    out. A service without a container yet is waited for (it may be on its way).

    `up` judges each container the same way (judge) but settles a service as soon as it runs
    or is healthy, oneshot jobs included: it waits for what its dependents need."""
    pending = {w.key: w for w in watched}
    verdicts: dict[tuple[str, str], Verdict] = {}
    deadline = time.monotonic() + timeout
    projects = {project for project, _ in pending}
    seen: dict[tuple[str, str], Container] = {}  # the last listing's row of each
    look = True
    while pending:
        for event in events.take():
            if event.key in pending and event.healthy and not pending[event.key].oneshot:
                verdicts[event.key] = Verdict("healthy")
                del pending[event.key]
            elif event.key in pending:
                look = True
        over = time.monotonic() > deadline
        if pending and (look or over):
            rows = listing(projects)
            for key, wanted in list(pending.items()):
                row = rows.get(key)
                if row is None:
                    continue
                seen[key] = row
                if row.state == "running" and row.health == "healthy" and not wanted.oneshot:
                    verdict: Verdict | None = Verdict("healthy", "", row)
                elif (row.state == "running" and row.health == "starting") and not over:
                    verdict = None
                else:
                    inspected = inspect(row.id)
                    verdict = judge(inspected, oneshot=wanted.oneshot) if inspected else None
                if (
                    wanted.oneshot
                    and verdict is not None
                    and verdict.state in ("healthy", "running")
                ):
                    verdict = None  # a job still running: done once it exits 0
                if verdict is not None:
                    verdicts[key] = verdict
                    del pending[key]
        if over:
            for key in pending:
                verdicts[key] = Verdict("timeout", f"not healthy after {timeout:g}s", seen.get(key))
            break
        look = False
        if pending:
            events.wait(POLL_S)
            look = True  # a poll tick (or an event) asks for a fresh listing
    return verdicts
