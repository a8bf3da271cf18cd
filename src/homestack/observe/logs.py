"""`homestack logs`: every chosen service's logs merged in time order.

History is read per container and stream (stdout, stderr), parsed on Docker's timestamps and
merged. Following keeps one reader thread per container stream and a watcher that re-attaches
when a container restarts or is recreated, from the last timestamp seen, so nothing repeats.
"""

from __future__ import annotations

import contextlib
import heapq
import queue
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..catalog import Site
from ..context import Context, context_for
from ..engine.model import SERVICE_LABEL
from ..engine.params import LogParams
from ..errors import BadInput
from ..events import LogLineRead, LogsFollowing, NoLogLines

if TYPE_CHECKING:
    from ..engine.backend import Backend

LEVELS = ("error", "warn", "info", "debug")
_LEVEL_WORDS = {
    "fatal": "error",
    "panic": "error",
    "emerg": "error",
    "emergency": "error",
    "alert": "error",
    "crit": "error",
    "critical": "error",
    "err": "error",
    "error": "error",
    "severe": "error",
    "warn": "warn",
    "warning": "warn",
    "notice": "info",
    "info": "info",
    "information": "info",
    "log": "info",
    "debug": "debug",
    "trace": "debug",
    "verbose": "debug",
    # short forms: logrus/zerolog/zap consoles (ERRO, WARN, INF, DBG, DBUG)
    "erro": "error",
    "eror": "error",
    "wrn": "warn",
    "inf": "info",
    "dbg": "debug",
    "dbug": "debug",
    "trc": "debug",
}
_WORDS = "|".join(sorted(_LEVEL_WORDS, key=len, reverse=True))
_LEVEL_PATTERNS = (
    # JSON logs: {"level":"error"} {"severity":"WARNING"} {"lvl":"info"}
    re.compile(r'"(?:level|severity|lvl|loglevel|log_level)"\s*:\s*"(?P<word>\w+)"', re.I),
    # logfmt: level=error lvl=warn
    re.compile(r"\b(?:level|lvl|severity)=\"?(?P<word>\w+)", re.I),
    # [ERROR] [warn] <error>
    re.compile(rf"[\[<](?P<word>{_WORDS})[\]>]", re.I),
    # a level word near the start: "ERROR: x", "2024-01-01 12:00:00 WARN x", "INFO  main ..."
    re.compile(rf"^(?:\S+\s+){{0,3}}?(?P<word>{_WORDS.upper()}|{_WORDS.title()})\b[\s:|-]"),
    # PostgreSQL and friends: "LOG:  database system is ready"
    re.compile(rf"\b(?P<word>{_WORDS.upper()}):\s"),
)
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
REORDER_S = 0.2
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_level(text: str) -> str | None:
    """error, warn, info or debug when the line says so in a common format; else None."""
    for pattern in _LEVEL_PATTERNS:
        for match in pattern.finditer(text):
            level = _LEVEL_WORDS.get(match.group("word").lower())
            if level:
                return level
    return None


def parse_since(text: str, now: datetime | None = None) -> float:
    """`10m`, `2h`, `1d`, a unix time or an ISO time → unix seconds."""
    now = now or datetime.now(UTC)
    value = text.strip()
    bad = BadInput(
        f"--since {text!r} is not a duration or a time",
        "Use a duration like 10m, 2h, 1d, or an ISO time like 2024-05-01T12:00.",
    )
    match = _DURATION.match(value)
    if match:
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
        # longer ago than 1970 (99999d) means everything there is, not an overflow
        return max(0.0, now.timestamp() - seconds)
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if not 0 <= number < _LAST_SECOND:  # nan, inf, negative: not a unix time
            raise bad
        return number
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.astimezone()  # a local time, as the user typed it
        return max(0.0, when.timestamp())
    except (ValueError, OverflowError, OSError):  # not a time, or one the platform cannot hold
        raise bad from None


_LAST_SECOND = datetime(9999, 12, 31, tzinfo=UTC).timestamp()  # what fromtimestamp can show


def timestamp_seconds(stamp: str) -> float:
    """Docker's RFC 3339 nano timestamp → unix seconds (sub-microsecond digits dropped)."""
    head, _, rest = stamp.rstrip("Z").partition(".")
    whole = datetime.fromisoformat(head).replace(tzinfo=UTC).timestamp()
    digits = "".join(ch for ch in rest if ch.isdigit())
    return whole + (int(digits[:9].ljust(9, "0")) / 1e9 if digits else 0.0)


@dataclass(frozen=True, order=True)
class LogLine:
    time: str  # Docker's RFC 3339 timestamp, fixed width, so it sorts as text
    service: str
    stack: str
    container: str
    stream: str
    line: str
    level: str | None = field(default=None, compare=False)

    def to_data(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LogQuery:
    names: list[str] | None
    since: float | None = None
    grep: re.Pattern[str] | None = None
    level: str | None = None
    tail: int | None = None

    @classmethod
    def build(
        cls,
        names: list[str] | None,
        *,
        since: str | None = None,
        grep: str | None = None,
        level: str | None = None,
        tail: int | None = None,
    ) -> LogQuery:
        pattern = None
        if grep:
            try:
                pattern = re.compile(grep)
            except re.error as exc:
                raise BadInput(
                    f"--grep {grep!r} is not a valid regex: {exc}",
                    "Use a Python regular expression; put a backslash before a literal "
                    "( [ { . * + ? | or \\, or quote the pattern for the shell.",
                ) from None
        chosen = None
        if level:
            chosen = _LEVEL_WORDS.get(level.lower())
            if chosen is None:
                raise BadInput(f"--level {level!r} is unknown", "Use error, warn, info or debug.")
        if tail is not None and tail < 0:
            raise BadInput(f"--tail must be 0 or more, not {tail}", "Use --tail N, e.g. --tail 50.")
        return cls(names, parse_since(since) if since else None, pattern, chosen, tail)

    def describe(self) -> str:
        """The filters in words, for the line that says nothing matched."""
        words = []
        if self.since is not None:
            when = datetime.fromtimestamp(self.since, UTC)
            words.append(f"since {when:%Y-%m-%d %H:%M:%S} UTC")
        if self.grep is not None:
            words.append(f"matching {self.grep.pattern!r}")
        if self.level is not None:
            words.append(f"at level {self.level} or worse")
        if self.tail is not None:
            words.append(f"in the last {self.tail} of each container")
        return " ".join(words)

    def keeps(self, line: LogLine) -> bool:
        if self.grep is not None and not self.grep.search(line.line):
            return False
        if self.level is not None:
            if line.level is None:
                return False
            return LEVELS.index(line.level) <= LEVELS.index(self.level)
        return True


@dataclass(frozen=True)
class Target:
    """One container of a chosen service."""

    id: str
    name: str
    service: str
    stack: str
    running: bool


def _default_backend() -> Backend:
    from ..engine.backend import default_backend

    return default_backend()


def targets(site: Site, names: list[str] | None, backend: Backend) -> list[Target]:
    stacks, only = site.select(names)
    only_ids = {s.id for s in only} if only is not None else None
    by_project = {site.project_name(stack): stack.id for stack in stacks}
    found = []
    for box in backend.containers(set(by_project)):
        service = box.labels.get(SERVICE_LABEL, "?")
        if only_ids is not None and service not in only_ids:
            continue
        found.append(
            Target(
                box.id,
                box.name or "?",
                service,
                by_project[box.project or ""],
                box.state == "running",
            )
        )
    return sorted(found, key=lambda t: (t.stack, t.service, t.name))


def _lines(
    backend: Backend,
    target: Target,
    stream: str,
    *,
    follow: bool,
    since: float | None,
    tail: int | None = None,
) -> Iterator[LogLine]:
    for raw in backend.log_stream(target.id, LogParams(stream, follow, since, tail)):
        stamp, _, text = raw.partition(" ")
        if not stamp[:4].isdigit():
            continue
        yield LogLine(
            stamp, target.service, target.stack, target.name, stream, text, parse_level(text)
        )


def _read_all(backend: Backend, chosen: list[Target], query: LogQuery) -> list[LogLine]:
    """Every line so far of these containers (filters not applied), in time order."""
    from concurrent.futures import ThreadPoolExecutor

    def read(pair: tuple[Target, str]) -> list[LogLine]:
        target, stream = pair
        return list(
            _lines(backend, target, stream, follow=False, since=query.since, tail=query.tail)
        )

    jobs = [(t, s) for t in chosen for s in ("stdout", "stderr")]
    if not jobs:
        return []
    with ThreadPoolExecutor(max_workers=min(32, len(jobs))) as pool:
        parts = list(pool.map(read, jobs))
    return list(heapq.merge(*parts))


def history(site: Site, query: LogQuery, *, backend: Backend | None = None) -> list[LogLine]:
    """Every matching line so far, merged in time order."""
    backend = backend or _default_backend()
    chosen = targets(site, query.names, backend)
    return [line for line in _read_all(backend, chosen, query) if query.keeps(line)]


class _Follower:
    """Reader threads per container stream, fed into one queue; re-attached by a watcher."""

    def __init__(self, backend: Backend, query: LogQuery, stop: threading.Event) -> None:
        self.backend = backend
        self.query = query
        self.stop = stop
        self.started = time.time() - 1.0  # overlaps the history; repeats are dropped
        #: container id/stream -> newest timestamp seen, filtered out or not
        self.last: dict[str, str] = {}
        self.at_start: set[str] = set()
        self.inbox: queue.Queue[LogLine] = queue.Queue()
        self.readers: dict[str, threading.Thread] = {}
        self.lock = threading.Lock()

    def saw(self, cid: str, line: LogLine) -> None:
        key = f"{cid}/{line.stream}"
        self.last[key] = max(self.last.get(key, ""), line.time)

    def _read(self, target: Target, stream: str, since: float) -> None:
        key = f"{target.id}/{stream}"
        try:
            for line in _lines(self.backend, target, stream, follow=True, since=since):
                if self.stop.is_set():
                    return
                with self.lock:
                    if line.time <= self.last.get(key, ""):
                        continue  # seen before this (re-)attach
                    self.last[key] = line.time
                self.inbox.put(line)
        except Exception:  # noqa: S110 - the container went away; the watcher re-attaches
            pass

    def attach(self, target: Target) -> None:
        for stream in ("stdout", "stderr"):
            key = f"{target.id}/{stream}"
            thread = self.readers.get(key)
            if thread is not None and thread.is_alive():
                continue
            with self.lock:
                seen = self.last.get(key, "")
            if seen:
                since = timestamp_seconds(seen)
            elif target.id in self.at_start:
                since = self.started  # the history covered what came before
            else:
                since = self.query.since or 0.0  # a container created since: all of it
            thread = threading.Thread(target=self._read, args=(target, stream, since), daemon=True)
            self.readers[key] = thread
            thread.start()


def follow_logs(
    site: Site,
    query: LogQuery,
    *,
    stop: threading.Event | None = None,
    poll: float = 0.5,
    backend: Backend | None = None,
) -> Iterator[LogLine]:
    """History, then new lines as they come; re-attaches across restarts and recreations."""
    follower = _Follower(backend or _default_backend(), query, stop or threading.Event())
    chosen = targets(site, query.names, follower.backend)
    by_name = {t.name: t.id for t in chosen}
    follower.at_start = set(by_name.values())
    for line in _read_all(follower.backend, chosen, query):
        follower.saw(by_name[line.container], line)
        if query.keeps(line):
            yield line
    attached_once: set[str] = set()
    next_poll = 0.0
    # lines wait REORDER_S after arriving, so lines of several containers that arrive close
    # together still come out in time order
    pending: list[tuple[float, LogLine]] = []
    while not follower.stop.is_set():
        now = time.monotonic()
        if now >= next_poll:
            next_poll = now + poll
            try:
                current = targets(site, query.names, follower.backend)
            except Exception:  # the engine is restarting: keep trying
                current = []
            for target in current:
                if target.running or target.id not in attached_once:
                    follower.attach(target)
                    attached_once.add(target.id)
        with contextlib.suppress(queue.Empty):
            pending.append((time.monotonic(), follower.inbox.get(timeout=REORDER_S / 2)))
            while True:  # and whatever else has come
                pending.append((time.monotonic(), follower.inbox.get_nowait()))
        ripe = time.monotonic() - REORDER_S
        ready = sorted((item for item in pending if item[0] <= ripe), key=lambda i: i[1])
        if ready:
            pending = [item for item in pending if item[0] > ripe]
            for _, line in ready:
                if query.keeps(line):
                    yield line


def read_logs(
    site: Site,
    query: LogQuery,
    *,
    follow: bool,
    ctx: Context | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Hand the merged logs to `ctx.sink`: with `follow`, LogsFollowing first (then new
    lines until `stop` is set or Ctrl-C); a LogLineRead per line, in time order; NoLogLines
    (what was asked, what was found) when there was none. Returns the count."""
    ctx = context_for(site, ctx)
    backend = ctx.engine()
    source = (
        follow_logs(site, query, stop=stop, backend=backend)
        if follow
        else history(site, query, backend=backend)
    )
    stacks, only = site.select(query.names)
    shown = 0
    if follow:
        ctx.sink(LogsFollowing(tuple(s.id for s in only or []), query.describe()))
    for line in source:
        shown += 1
        ctx.sink(LogLineRead(line))
    if not shown:
        # silence would look like a hang or a broken pipe: say what was asked and found
        wanted = query.describe()
        have = sorted({t.service for t in targets(site, query.names, backend)})
        chosen = only or [s for stack in stacks for s in stack.services.values()]
        absent = sorted(s.id for s in chosen if s.enabled and s.id not in have)
        found = ", ".join(have) or "any container"
        message = f"no log lines{' ' + wanted if wanted else ''} from {found}"
        if absent:
            one = len(absent) == 1
            message += (
                f"; {', '.join(absent)} {'has' if one else 'have'} no container "
                f"(`homestack up {' '.join(absent)}` starts {'it' if one else 'them'})"
            )
        ctx.sink(NoLogLines(message))
    return shown
