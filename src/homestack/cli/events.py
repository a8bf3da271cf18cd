"""The CLI's event sink: what operations report (homestack.events), rendered with Rich.

One CliSink per command (State.context() builds it). Progress goes to stderr, so stdout
carries the result (and only JSON with --json); a view shown for a while (`up`'s live
table) takes the events it renders first.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from ..events import (
    BackupStarted,
    Event,
    LockWaiting,
    LogLineRead,
    LogsFollowing,
    NoLogLines,
    Progress,
)

if TYPE_CHECKING:
    from rich.console import Console


class View(Protocol):
    """A live rendering of some events (True: it rendered this one)."""

    def handle(self, event: Event) -> bool: ...


class CliSink:
    """Renders events as the CLI always has: a wait for the lock on stderr, host steps on
    stdout (stderr with --json), log lines on stdout, `up`'s states through its view."""

    def __init__(self, *, as_json: bool = False) -> None:
        self.as_json = as_json
        self.views: list[View] = []
        self._lock = threading.Lock()
        self._err: Console | None = None
        self._out: Console | None = None
        self._logs: _LogStyle | None = None

    @property
    def err(self) -> Console:
        if self._err is None:
            from .consoles import console

            self._err = console(stderr=True)
        return self._err

    @property
    def out(self) -> Console:
        if self._out is None:
            from .consoles import console

            self._out = console()
        return self._out

    @contextlib.contextmanager
    def showing(self, view: View) -> Iterator[None]:
        """Hand events to `view` first while the block runs."""
        self.views.append(view)
        try:
            yield
        finally:
            self.views.remove(view)

    @contextlib.contextmanager
    def up_view(self) -> Iterator[None]:
        """`up`'s live table of services (cli.progress) while the block runs."""
        from .progress import UpProgress

        with UpProgress(self.err) as progress, self.showing(progress):
            yield

    def __call__(self, event: Event, /) -> None:
        for view in reversed(self.views):
            if view.handle(event):
                return
        with self._lock:
            self._render(event)

    def _render(self, event: Event) -> None:
        from rich.markup import escape

        if isinstance(event, LockWaiting):
            # one line, however long (holder notes name site folders), as it always was
            self.err.print(event.line(), markup=False, highlight=False, soft_wrap=True)
        elif isinstance(event, BackupStarted):
            if not self.as_json:  # one line as each begins; each result is shown once
                self.err.print(event.line(), markup=False)
        elif isinstance(event, Progress):
            where = self.err if self.as_json else self.out
            where.print(escape(event.text), soft_wrap=True)  # one line, however long
        elif isinstance(event, LogLineRead):
            self._log_line(event)
        elif isinstance(event, LogsFollowing):
            following = ", ".join(event.services) or "all"
            wanted = f" {event.wanted}" if event.wanted else ""
            if not self.as_json:  # on stderr: what a pipe reads stays the log lines
                sys.stderr.write(f"following the logs of {following}{wanted} (Ctrl-C to stop) …\n")
                sys.stderr.flush()
        elif isinstance(event, NoLogLines) and not self.as_json:
            sys.stderr.write(event.message + "\n")
        # other events (a backup's one service done, a status sample …) are for other
        # listeners (the dashboard): the CLI renders their result at the end

    def log_services(self, names: list[str]) -> None:
        """The services whose logs follow: a colour for each, prefixes padded to line up."""
        self._logs = _LogStyle(names)

    def _log_line(self, event: LogLineRead) -> None:
        line = event.line
        if self.as_json:
            sys.stdout.write(json.dumps(line.to_data()) + "\n")
            sys.stdout.flush()
            return
        from rich.markup import escape

        style = self._logs or _LogStyle([])
        self._logs = style
        colour = style.colour(line.service)
        text = escape(line.line)
        level = LEVEL_STYLE.get(line.level or "")
        if level:
            text = f"[{level}]{text}[/]"
        stamp = line.time[:23].replace("T", " ")
        self.out.print(f"[{colour}]{line.service:<{style.width}}[/] [dim]{stamp}[/] {text}")


PALETTE = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan")
LEVEL_STYLE = {"error": "red", "warn": "yellow", "debug": "dim"}


class _LogStyle:
    """A colour per service, the same in every run; the width of the longest name."""

    def __init__(self, names: list[str]) -> None:
        ordered = sorted(names)
        self.colours = {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(ordered)}
        self.width = max((len(name) for name in ordered), default=0)

    def colour(self, service: str) -> str:
        return self.colours.setdefault(service, PALETTE[len(self.colours) % len(PALETTE)])
