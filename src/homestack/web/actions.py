"""The dashboard's actions: the CLI's operations, one at a time, under the site lock, audited.

One action runs at a time in this process (a second is refused, naming the one that runs:
the site lock is re-entrant within a process, so it alone would let two browser tabs act at
once). Across processes the site lock does the work: an action started while a CLI command
holds the site says whom it waits for, then waits as the CLI waits. Each action keeps a list
of progress lines (the same per-service states `homestack up` renders) that the page streams.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..catalog import Site
from ..errors import BadInput, HomestackError, OperationFailed
from ..events import Event, EventSink, LockWaiting, ServiceChanged
from ..serial import Serialised, entry
from . import audit

Emit = Callable[[str], None]
Operation = Callable[[Site, str, dict[str, str], Emit], str]

#: what needs a confirmation (the page asks; the API needs confirm=<target>)
DESTRUCTIVE = {"down-volumes", "restore"}


@dataclass
class Action(Serialised):
    id: int
    kind: str
    target: str
    user: str
    started: float = field(metadata=entry(omit=True))
    lines: list[str] = field(default_factory=list)
    done: bool = False
    ok: bool | None = None
    summary: str = ""


class Busy(HomestackError):
    """Another dashboard action runs now."""


def _lines(emit: Emit) -> EventSink:
    """The operation's events as the action's progress lines (what the page streams)."""
    seen: dict[str, str] = {}

    def sink(event: Event) -> None:
        if isinstance(event, ServiceChanged):
            run = event.run
            shown = f"{run.state}" + (f": {run.detail}" if run.detail else "")
            if seen.get(run.service) != shown:
                seen[run.service] = shown
                emit(f"{run.service}: {shown}")
        elif isinstance(event, LockWaiting):
            emit(event.line())

    return sink


def _up(site: Site, target: str, _: dict[str, str], emit: Emit) -> str:
    from ..context import Context
    from ..deploy.up import raise_for, up
    from ..update import hooks

    result = up(site, [target], ctx=Context.for_site(site, sink=_lines(emit), up_hooks=hooks))
    raise_for(result)
    return str(result.summary())


def _down(site: Site, target: str, params: dict[str, str], emit: Emit) -> str:
    from ..deploy.down import down

    volumes = params.get("volumes") == "1"
    emit(f"taking {target} down" + (" with its volumes" if volumes else ""))
    result = down(site, [target], volumes=volumes)
    for dependent in result.dependents:
        emit("also down: " + dependent.reason())
    return f"removed {', '.join(result.removed) or 'nothing'}" + (
        "; volumes removed" if volumes else "; volumes kept"
    )


def _stop(site: Site, target: str, _: dict[str, str], emit: Emit) -> str:
    from ..deploy.stopstart import stop

    emit(f"stopping {target}")
    return f"stopped {', '.join(stop(site, [target]).services)}"


def _start(site: Site, target: str, _: dict[str, str], emit: Emit) -> str:
    from ..deploy.stopstart import start

    emit(f"starting {target}, waiting until it is healthy")
    return f"started {', '.join(start(site, [target]).services)}"


def _restart(site: Site, target: str, _: dict[str, str], emit: Emit) -> str:
    from ..deploy.down import restart

    emit(f"restarting {target}, waiting until it is healthy")
    return f"restarted {', '.join(restart(site, [target]).restarted)}"


def _toggle(site: Site, target: str, enable: bool, emit: Emit) -> str:
    from ..stackfile import toggle

    result = toggle(site, [target], enable=enable)
    verb = "enabled" if enable else "disabled"
    for dependent in result.needed_by:
        emit("warning: " + dependent.reason())
    for need in result.needs_disabled:
        emit("warning: " + need.reason())
    return f"{verb} {target}" if result.changed else f"{target} was already {verb}"


def _enable(site: Site, target: str, _: dict[str, str], emit: Emit) -> str:
    return _toggle(site, target, True, emit)


def _disable(site: Site, target: str, _: dict[str, str], emit: Emit) -> str:
    return _toggle(site, target, False, emit)


def _enable_start(site: Site, target: str, params: dict[str, str], emit: Emit) -> str:
    emit(_toggle(site, target, True, emit))
    return _up(Site.load(site.root), target, params, emit)  # the edited stack.yaml


def _backup(site: Site, target: str, _: dict[str, str], emit: Emit) -> str:
    from ..backup.run import backup

    emit(f"backing up {target}")
    run = backup(site, [site.service(target)])
    for notice in run.notices:
        emit("note: " + notice)
    result = run.results[0]
    if not result.ok:
        raise OperationFailed(result.error or f"backup of {target} failed", result.hint)
    return f"backed up {target}: snapshot {result.snapshot or '?'}" + (
        f" ({result.skipped})" if result.skipped else ""
    )


def _restore(site: Site, target: str, params: dict[str, str], emit: Emit) -> str:
    from ..backup.restore import restore

    snapshot = params.get("snapshot") or None
    emit(f"restoring {target} from snapshot {snapshot or 'latest'}")
    result = restore(site, site.service(target), snapshot)
    if not result.ok:
        raise OperationFailed(f"restore of {target} failed", "See `homestack restore --help`.")
    return f"restored {target} from snapshot {result.snapshot}"


def _verify(site: Site, target: str, _: dict[str, str], emit: Emit) -> str:
    from ..backup.manage import verify
    from ..backup.results import CheckResult

    emit(f"verifying the repository of {target}")
    check = verify(site, [site.service(target)]).results[0]
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
            action.lines.append(line)
            self.changed.notify_all()

    def _run(self, action: Action, params: dict[str, str]) -> None:
        from ..sitelock import site_lock

        site = Site.load(self.root)
        emit: Emit = lambda line: self._emit(action, line)  # noqa: E731
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
                action.summary = OPERATIONS[action.kind](site, action.target, params, emit)
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
                action.done = True
                action.lines.append(("done: " if action.ok else "failed: ") + action.summary)
                self.changed.notify_all()
            self.on_change()


def _critical(site: Site, target: str) -> bool:
    service = site.service(target)
    return bool(service.meta and service.meta.critical)
