"""What an operation works with, handed to it rather than reached for: the Context.

An operation (`up`, `down`, `backup` …) gets the site it acts on, the engine backend, the
site lock, a clock and an event sink from its Context. The CLI builds one per command
(`cli.app.State.context()`): the real site, lock and clock, the Rich renderer as sink and
the command line as typed (holder notes and hints name it). A dashboard builds one per
action with its own sink; a script calls `Context.for_site(site)` and gets the real things
and no output; a test passes whichever fakes it needs.

stdlib only (and lazily the lock): `ls` and `plan` build a Context and stay instant.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from .events import EventSink, ignore

if TYPE_CHECKING:
    from .catalog import Site
    from .deploy.up import UpResult
    from .engine.backend import Backend


class Clock(Protocol):
    """Wall-clock and monotonic time, and waiting; a test passes a clock it controls."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class UpHooks(Protocol):
    """What `up` runs around a deploy for the update package (homestack.update.hooks): undo
    updates a killed process left first, record each deploy in the history after. Handed to
    `up` by its caller, as the update package itself runs `up`."""

    def before_up(self, site: Site) -> tuple[Site, list[str]]: ...

    def after_up(self, site: Site, result: UpResult) -> None: ...


class Lock(Protocol):
    """The site lock as operations take it: `with ctx.lock.hold("up"): …`."""

    def hold(
        self, action: str, *, shared: bool = False
    ) -> contextlib.AbstractContextManager[None]: ...


@dataclass(frozen=True)
class SiteLock:
    """The real site lock (sitelock.site_lock) of one site, for one command: its holder note
    names `command` as typed, and a wait is reported to `sink` (LockWaiting)."""

    root: Any  # Path
    prefix: str | None = None
    command: tuple[str, ...] | None = None
    sink: EventSink = ignore

    def hold(self, action: str, *, shared: bool = False) -> contextlib.AbstractContextManager[None]:
        from .sitelock import site_lock

        return site_lock(
            self.root,
            action,
            shared=shared,
            prefix=self.prefix,
            command=self.command,
            waiting=self.sink,
        )


@dataclass(frozen=True)
class Context:
    """What an operation receives: site, backend, lock, clock, event sink, command line."""

    site: Site
    lock: Lock
    sink: EventSink = ignore
    clock: Clock = field(default_factory=SystemClock)
    #: the engine backend operations talk to; None: the site's (engine.swarm_backend.
    #: backend_for: SwarmBackend when DEPLOY_MODE=swarm, else ComposeBackend)
    backend: Backend | None = None
    #: the CLI's words as typed, global options left out (`("restart", "media")`); None
    #: outside the CLI. Lock notes and hints say what the user ran.
    command: tuple[str, ...] | None = None
    #: what `up` runs before and after a deploy (update.hooks: the CLI, the dashboard and
    #: api.up hand it); None: neither (a library call of deploy.up.up without them)
    up_hooks: UpHooks | None = None

    @classmethod
    def for_site(
        cls,
        site: Site,
        *,
        sink: EventSink = ignore,
        clock: Clock | None = None,
        backend: Backend | None = None,
        command: Sequence[str] | None = None,
        up_hooks: UpHooks | None = None,
    ) -> Context:
        """The real lock and clock for `site`; events to `sink` (default: none)."""
        words = tuple(command) if command else None
        return cls(
            site,
            SiteLock(site.root, site.prefix, words, sink),
            sink,
            clock or SystemClock(),
            backend,
            words,
            up_hooks,
        )

    def engine(self) -> Backend:
        """The backend to use: this context's, else the site's (the swarm's on a
        DEPLOY_MODE=swarm site, else Compose v2 and the Engine API)."""
        if self.backend is not None:
            return self.backend
        from .engine.swarm_backend import backend_for

        return backend_for(self.site)

    def with_sink(self, sink: EventSink) -> Context:
        """This context with events going to `sink` (its lock reports waits there too)."""
        lock = replace(self.lock, sink=sink) if isinstance(self.lock, SiteLock) else self.lock
        return replace(self, sink=sink, lock=lock)

    def described(self, action: str) -> str:
        """`action` (`up`) as the user typed it when the command line starts with it (`up
        media --stand-in`); else `action` itself."""
        from .sitelock import described

        return described(action, self.command)


def context_for(site: Site, ctx: Context | None) -> Context:
    """The caller's context, or the default one for `site` (a library call without one)."""
    return ctx if ctx is not None else Context.for_site(site)
