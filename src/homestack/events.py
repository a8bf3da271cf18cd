"""What a long operation reports while it runs: typed events, handed to an event sink.

Operations never print. They hand events to `Context.sink` (any callable taking an Event);
the CLI renders them with Rich (cli/events.py), the dashboard turns them into the progress
lines its pages stream (web/actions.py), a script may collect or print them. A sink may be
called from worker threads (`up` reports from its scheduler, `backup --jobs N` from each
job): it must be quick and thread-safe.

Each event is a frozen dataclass; `to_data()` gives it as JSON-ready data with its `event`
name, for a server that streams them (SSE, websockets).

stdlib only: `ls` and `plan` import this module through the context.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from .backup.results import BackupResult
    from .deploy.up import ServiceRun
    from .observe.logs import LogLine
    from .observe.status import StatusResult


@dataclass(frozen=True)
class Event:
    """The base of every event; `name` is what a stream calls it."""

    name: ClassVar[str] = "event"

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"event": self.name}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            data[item.name] = value.to_data() if hasattr(value, "to_data") else value
        return data


class EventSink(Protocol):
    """Where events go: the CLI's renderer, a dashboard's stream, a list in a test."""

    def __call__(self, event: Event, /) -> None: ...


def ignore(_event: Event, /) -> None:
    """The sink of a caller that wants no progress, only the result."""


class ProgressLines(list[str]):
    """A sink that keeps the text of each Progress event (what the CLI shows of a host
    operation), for a script or a test."""

    def __call__(self, event: Event, /) -> None:
        if isinstance(event, Progress):
            self.append(event.text)


class Collected(list[Event]):
    """A sink that keeps every event (thread-safe enough: list.append is atomic)."""

    def __call__(self, event: Event, /) -> None:
        self.append(event)

    def of(self, kind: type[Event]) -> list[Any]:
        return [event for event in self if isinstance(event, kind)]


@dataclass(frozen=True)
class LockWaiting(Event):
    """Another command holds the site (or its prefix): this one waits for it."""

    name: ClassVar[str] = "lock-waiting"
    what: str  # "the site", "HOMESTACK_PREFIX=x (…)"
    holders: str  # "pid 42, homestack up, since …" (or "another homestack command")

    def line(self) -> str:
        return f"waiting for {self.what}: {self.holders} …"


@dataclass(frozen=True)
class ServiceChanged(Event):
    """One service's state changed during up, restart, start or stop (a copy of its run:
    stack, service, action, state, elapsed, detail …)."""

    name: ClassVar[str] = "service"
    run: ServiceRun


@dataclass(frozen=True)
class WaveDone(Event):
    """A wave of services is done: restarted and healthy again, started, stopped, or (down)
    stopped and removed. Waves follow dependency order (stop and down: dependents first)."""

    name: ClassVar[str] = "wave"
    command: str  # restart, start, stop, down
    services: tuple[str, ...]


@dataclass(frozen=True)
class Progress(Event):
    """One line of progress of a host operation (`install all`, `install docker` …):
    `topic` is the part (`docker`, `drivers`, `tools`, `install all`), `text` the whole
    line as shown."""

    name: ClassVar[str] = "progress"
    text: str
    topic: str = ""


@dataclass(frozen=True)
class BackupStarted(Event):
    """One service's backup begins: `consistency` says what it does to the service first
    (stop, pause, dump, or none: its files are copied while it runs)."""

    name: ClassVar[str] = "backup-started"
    service: str
    consistency: str

    def line(self) -> str:
        how = {
            "stop": f"stopping {self.service}, then backing it up",
            "pause": f"pausing {self.service}, then backing it up",
            "dump": f"dumping {self.service}'s database, then backing it up",
        }
        return how.get(self.consistency, f"backing up {self.service}") + " …"


@dataclass(frozen=True)
class ServiceBackedUp(Event):
    """One service's backup finished (ok or not) while the others may still run."""

    name: ClassVar[str] = "backed-up"
    result: BackupResult


@dataclass(frozen=True)
class LogsFollowing(Event):
    """`logs --follow` has read the history and now waits for new lines (until stopped)."""

    name: ClassVar[str] = "logs-following"
    services: tuple[str, ...]  # empty: all
    wanted: str  # the query as words (`level ≥ warn, since 10m`), or ""


@dataclass(frozen=True)
class LogLineRead(Event):
    """One log line, in time order across the chosen services."""

    name: ClassVar[str] = "log"
    line: LogLine


@dataclass(frozen=True)
class NoLogLines(Event):
    """The logs asked for had no line at all: what was asked, what was found."""

    name: ClassVar[str] = "no-logs"
    message: str


@dataclass(frozen=True)
class StatusSampled(Event):
    """`top` (or the dashboard) took a fresh sample of the site's status."""

    name: ClassVar[str] = "status"
    result: StatusResult


@dataclass(frozen=True)
class UpdateStep(Event):
    """One step of an update or rollback done (the snapshot taken, the image pulled, the
    file written, healthy on it, or put back): the line its report keeps in `steps`."""

    name: ClassVar[str] = "update-step"
    service: str
    text: str
