"""The dashboard's actions: the CLI's operations, one at a time, under the site lock, audited.

One action runs at a time in this process (a second is refused, naming the one that runs:
the site lock is re-entrant within a process, so it alone would let two browser tabs act at
once). Across processes the site lock does the work: an action started while a CLI command
holds the site says whom it waits for, then waits as the CLI waits.

Each action runs the operation through `homestack.api` with its own Context, whose sink
keeps every typed event the operation sends (homestack.events: a service's change of
state, a wave done, a lock wait, a backup begun or finished) and renders each as a progress
line (the same per-service states `homestack up` renders). The page streams the lines; the
stream (`/actions/N/events`) carries the typed events too, by name, for a script.
On a swarm site the operations act on the swarm, as the CLI's do.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalog import Site
from ..context import Context
from ..errors import BadInput, HomestackError, OperationFailed
from ..events import (
    BackupStarted,
    Event,
    LockWaiting,
    Progress,
    ServiceBackedUp,
    ServiceChanged,
    WaveDone,
)
from ..serial import Serialised, entry
from . import audit

Emit = Callable[[str], None]
#: an action's work: the operation through homestack.api, with the action's Context
Operation = Callable[[Context, str, dict[str, str], Emit], str]

#: what needs a confirmation (the page asks; the API needs confirm=<target>)
DESTRUCTIVE = {"down-volumes", "restore"}


@dataclass
class Action(Serialised):
    DATA_EXTRA = ("lines", "events")
    DATA_ORDER = ("id", "kind", "target", "user", "lines", "done", "ok", "summary", "events")

    id: int
    kind: str
    target: str
    user: str
    started: float = field(metadata=entry(omit=True))
    done: bool = False
    ok: bool | None = None
    summary: str = ""
    #: the progress lines ("line", text) and the operation's typed events (its name,
    #: Event.to_data), in the order they came: what the stream sends
    feed: list[tuple[str, Any]] = field(default_factory=list, metadata=entry(omit=True))

    @property
    def lines(self) -> list[str]:
        """The progress lines the page shows."""
        return [data for name, data in list(self.feed) if name == "line"]

    @property
    def events(self) -> list[dict[str, Any]]:
        """The operation's typed events, in the order sent."""
        return [data for name, data in list(self.feed) if name != "line"]


class Busy(HomestackError):
    """Another dashboard action runs now."""


#: a wave done, as a progress line
_WAVES = {
    "restart": "restarted, healthy again",
    "start": "started, healthy",
    "stop": "stopped",
    "down": "stopped and removed",
}


def progress_line(event: Event, seen: dict[str, str]) -> str | None:
    """The progress line an event shows as (None: nothing to show). `seen` keeps each
    service's last shown state: a change of elapsed time alone is not a new line."""
    if isinstance(event, ServiceChanged):
        run = event.run
        shown = f"{run.state}" + (f": {run.detail}" if run.detail else "")
        if seen.get(run.service) == shown:
            return None
        seen[run.service] = shown
        return f"{run.service}: {shown}"
    if isinstance(event, WaveDone):
        done = _WAVES.get(event.command, event.command)
        return f"{done}: {', '.join(event.services)}" if event.services else None
    if isinstance(event, ServiceBackedUp):
        r = event.result
        if r.skipped:
            return f"{r.service}: skipped ({r.skipped})"
        if r.ok:
            return f"{r.service}: snapshot {r.snapshot or '?'} ({r.consistency})"
        return f"{r.service}: backup failed: {r.error or 'see the summary'}"
    if isinstance(event, LockWaiting | BackupStarted):
        return event.line()
    if isinstance(event, Progress):
        return event.text
    return None


def _up(ctx: Context, target: str, _: dict[str, str], emit: Emit) -> str:
    from ..api import up
    from ..deploy.up import raise_for

    result = up(ctx, [target])
    raise_for(result)
    return str(result.summary())


def _down(ctx: Context, target: str, params: dict[str, str], emit: Emit) -> str:
    from ..api import down

    volumes = params.get("volumes") == "1"
    emit(f"taking {target} down" + (" with its volumes" if volumes else ""))
    result = down(ctx, [target], volumes=volumes)
    for dependent in result.dependents:  # a swarm down words its reasons itself
        emit("also down: " + (dependent if isinstance(dependent, str) else dependent.reason()))
    return f"removed {', '.join(result.removed) or 'nothing'}" + (
        "; volumes removed" if volumes else "; volumes kept"
    )


def _stop(ctx: Context, target: str, _: dict[str, str], emit: Emit) -> str:
    from ..api import stop

    emit(f"stopping {target}")
    return f"stopped {', '.join(stop(ctx, [target]).services)}"


def _start(ctx: Context, target: str, _: dict[str, str], emit: Emit) -> str:
    from ..api import start

    emit(f"starting {target}, waiting until it is healthy")
    return f"started {', '.join(start(ctx, [target]).services)}"


def _restart(ctx: Context, target: str, _: dict[str, str], emit: Emit) -> str:
    from ..api import restart

    emit(f"restarting {target}, waiting until it is healthy")
    return f"restarted {', '.join(restart(ctx, [target]).restarted)}"


def _toggle(site: Site, target: str, enable: bool, emit: Emit) -> str:
    from ..stackfile import toggle

    result = toggle(site, [target], enable=enable)
    verb = "enabled" if enable else "disabled"
    for dependent in result.needed_by:
        emit("warning: " + dependent.reason())
    for need in result.needs_disabled:
        emit("warning: " + need.reason())
    return f"{verb} {target}" if result.changed else f"{target} was already {verb}"


def _enable(ctx: Context, target: str, _: dict[str, str], emit: Emit) -> str:
    return _toggle(ctx.site, target, True, emit)


def _disable(ctx: Context, target: str, _: dict[str, str], emit: Emit) -> str:
    return _toggle(ctx.site, target, False, emit)


def _enable_start(ctx: Context, target: str, params: dict[str, str], emit: Emit) -> str:
    emit(_toggle(ctx.site, target, True, emit))
    edited = dataclasses.replace(ctx, site=Site.load(ctx.site.root))  # the new stack.yaml
    return _up(edited, target, params, emit)


def _backup(ctx: Context, target: str, _: dict[str, str], emit: Emit) -> str:
    from ..api import backup

    run = backup(ctx, [ctx.site.service(target)])
    for notice in run.notices:
        emit("note: " + notice)
    result = run.results[0]
    if not result.ok:
        raise OperationFailed(result.error or f"backup of {target} failed", result.hint)
    return f"backed up {target}: snapshot {result.snapshot or '?'}" + (
        f" ({result.skipped})" if result.skipped else ""
    )


def _restore(ctx: Context, target: str, params: dict[str, str], emit: Emit) -> str:
    from ..api import restore

    snapshot = params.get("snapshot") or None
    emit(f"restoring {target} from snapshot {snapshot or 'latest'}")
    result = restore(ctx, ctx.site.service(target), snapshot)
    if not result.ok:
        raise OperationFailed(f"restore of {target} failed", "See `homestack restore --help`.")
    return f"restored {target} from snapshot {result.snapshot}"


def _verify(ctx: Context, target: str, _: dict[str, str], emit: Emit) -> str:
    from ..backup.manage import verify
    from ..backup.results import CheckResult

    emit(f"verifying the repository of {target}")
    check = verify(ctx.site, [ctx.site.service(target)]).results[0]
    assert isinstance(check, CheckResult)  # noqa: S101 - verify's results are checks
    if not check.ok:
        raise OperationFailed(check.error or f"verify of {target} failed", check.output[-300:])
    return f"{target}: " + ("no backups yet" if not check.checked else "repository verified")


OPERATIONS: dict[str, Operation] = {
    "start": _start,
    "stop": _stop,
    "restart": _restart,
    "up": _up,
    "down": _down,
    "down-volumes": lambda s, t, p, e: _down(s, t, {**p, "volumes": "1"}, e),
    "enable": _enable,
    "disable": _disable,
    "enable-start": _enable_start,
    "backup": _backup,
    "restore": _restore,
    "verify": _verify,
}


class Runner:
    """Runs one action at a time in a thread; keeps the recent ones for their pages."""

    def __init__(self, root: Path, on_change: Callable[[], None] | None = None) -> None:
        self.root = root
        self.on_change = on_change or (lambda: None)
        self.actions: dict[int, Action] = {}
        self.current: Action | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.changed = threading.Condition()

    def holders(self) -> list[str]:
        from ..sitelock import holders

        return holders(self.root)

    def submit(self, kind: str, target: str, user: str, params: dict[str, str]) -> Action:
        if kind not in OPERATIONS:
            raise BadInput(f"unknown action {kind!r}", "Use one of " + ", ".join(OPERATIONS))
        site = Site.load(self.root)
        site.service(target)  # an unknown name is refused before anything runs
        if kind == "disable" and _critical(site, target) and params.get("confirm") != target:
            raise BadInput(
                f"{target} is critical: disabling it needs a confirmation",
                f"Confirm by typing {target}.",
            )
        if kind in DESTRUCTIVE and params.get("confirm") != target:
            raise BadInput(f"{kind} of {target} needs a confirmation", f"Type {target}.")
        with self._lock:
            if self.current is not None:
                running = self.current
                audit.record(
                    site,
                    user=user,
                    action=kind,
                    target=target,
                    result="refused",
                    detail=f"busy: {running.kind} {running.target} by {running.user}",
                )
                raise Busy(
                    f"busy: {running.kind} {running.target} (by {running.user}) is running",
                    "Wait for it to finish, then try again.",
                )
            action = Action(next(self._ids), kind, target, user, time.time())
            self.actions[action.id] = action
            self.current = action
        thread = threading.Thread(target=self._run, args=(action, params), daemon=True)
        thread.start()
        return action

    def _emit(self, action: Action, line: str) -> None:
        with self.changed:
            action.feed.append(("line", line))
            self.changed.notify_all()

    def _sink(self, action: Action) -> Callable[[Event], None]:
        """The action's event sink: each event kept (typed, in the feed) and shown as its
        progress line."""
        seen: dict[str, str] = {}

        def sink(event: Event) -> None:
            data = event.to_data()
            with self.changed:
                action.feed.append((event.name, data))
            line = progress_line(event, seen)
            if line is not None:
                self._emit(action, line)

        return sink

    def _run(self, action: Action, params: dict[str, str]) -> None:
        from ..sitelock import site_lock
        from ..update import hooks

        site = Site.load(self.root)
        emit: Emit = lambda line: self._emit(action, line)  # noqa: E731
        # no command line: hints name CLI commands, which a browser action is not
        ctx = Context.for_site(site, sink=self._sink(action), up_hooks=hooks)
        try:
            busy = self.holders()
            if busy:
                emit("waiting for the site lock, held by " + "; ".join(busy))
            with site_lock(
                site.root, f"serve: {action.kind} {action.target} by {action.user}",
                prefix=site.prefix,
            ):  # fmt: skip
                if busy:
                    emit("got the site lock")
                action.summary = OPERATIONS[action.kind](ctx, action.target, params, emit)
            action.ok = True
        except HomestackError as error:
            action.ok = False
            action.summary = error.message + (f" (fix: {error.hint})" if error.hint else "")
        except Exception as error:  # a bug: the page says so rather than hang
            action.ok = False
            action.summary = f"internal error: {type(error).__name__}: {error}"
        finally:
            with self._lock:
                self.current = None
            audit.record(
                site,
                user=action.user,
                action=action.kind,
                target=action.target,
                result="ok" if action.ok else "failed",
                detail=action.summary,
            )
            with self.changed:
                last = ("done: " if action.ok else "failed: ") + action.summary
                action.feed.append(("line", last))
                action.done = True
                self.changed.notify_all()
            self.on_change()


def _critical(site: Site, target: str) -> bool:
    service = site.service(target)
    return bool(service.meta and service.meta.critical)
