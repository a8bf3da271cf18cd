"""`homestack logs` in swarm mode: every node's task lines through the manager, merged in
time order, or followed as they come (`--follow`), with the same filters (LogQuery) as on
one machine."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from ..catalog import Site
from ..errors import HomestackError, OperationFailed
from . import stack_name

SERVICE_LABEL = "org.homestack.service"


def _wanted(site: Site, query: Any) -> set[str]:
    stacks, chosen = site.select(query.names)
    return {
        s.id for s in (chosen if chosen is not None else [s for t in stacks for s in t.enabled])
    }


def _line(site: Site, info: Any, raw: str) -> Any:
    """A `TIMESTAMP text` line of the service's as a LogLine; None: not a log line."""
    from ..observe.logs import LogLine, parse_level

    stamp, _, text = raw.partition(" ")
    if not stamp[:4].isdigit():
        return None
    service = info.labels.get(SERVICE_LABEL, "")
    stack = info.stack.removeprefix(site.prefix)
    return LogLine(stamp, service, stack, info.name, "stdout", text, parse_level(text))


def logs(site: Site, query: Any) -> list[Any]:
    """Every task's lines of the chosen services (from every node), merged in time order."""
    from ..engine import swarm as engine

    engine.require_manager()
    wanted = _wanted(site, query)
    found: list[Any] = []
    for info in engine.services({stack_name(site, k) for k in site.stacks}):
        if info.labels.get(SERVICE_LABEL, "") not in wanted:
            continue
        for raw in engine.service_log_lines(info.id, since=query.since, tail=query.tail):
            line = _line(site, info, raw)
            if line is not None and query.keeps(line):
                found.append(line)
    return sorted(found)


def follow_logs(site: Site, query: Any, *, poll_s: float = 2.0) -> Iterator[Any]:
    """Each chosen service's `docker service logs -f` stream (every node's tasks, through
    the manager), lines yielded as they come, with the same filters; until the caller stops
    iterating.

    The manager's log stream reads the nodes the service's tasks run on when it begins: a
    service deployed after the follow began, or whose task moved to a node the stream does
    not read, is seen at the next look at the tasks (every `poll_s`) and read by a new
    stream from then on (a new service from its first line). A stream begun right after
    a task started on a worker sometimes carried none of its lines on the lab (about one
    run in three; the cause, in swarmkit's log broker, is not pinned down), so a new
    service gets a second stream one look later. A line several streams carry is shown once."""
    from ..engine import swarm as engine

    engine.require_manager()
    follower = _Follower(site, query)
    found = follower.deployed()
    if not found:
        raise OperationFailed(
            "none of the chosen services runs on the swarm: nothing to follow",
            "Start them with `homestack up`; `homestack status` shows what runs.",
        )
    where = follower.running_nodes(set(found))
    for info in found.values():
        follower.start(info, where.get(info.id, set()), query.since, query.tail)
    yield from follower.lines(poll_s)


class _Follower:
    def __init__(self, site: Site, query: Any) -> None:
        self.site = site
        self.query = query
        self.wanted = _wanted(site, query)
        self.stacks = {stack_name(site, k) for k in site.stacks}
        self.queue: queue.Queue[Any] = queue.Queue()
        self.covered: dict[str, set[str]] = {}  # service id → the nodes its streams read
        self.again: dict[str, Any] = {}  # new services: read once more at the next look

    def deployed(self) -> dict[str, Any]:
        from ..engine import swarm as engine

        return {
            info.id: info
            for info in engine.services(self.stacks)
            if info.labels.get(SERVICE_LABEL, "") in self.wanted
        }

    @staticmethod
    def running_nodes(ids: set[str]) -> dict[str, set[str]]:
        from ..engine import swarm as engine

        nodes: dict[str, set[str]] = {}
        for task in engine.tasks(ids):
            if task.state == "running" and task.node_id:
                nodes.setdefault(task.service_id, set()).add(task.node_id)
        return nodes

    def start(self, info: Any, nodes: set[str], since: float | None, tail: int | None) -> None:
        self.covered[info.id] = nodes
        args = (info, since, tail)
        threading.Thread(target=self._read, args=args, daemon=True).start()

    def _read(self, info: Any, since: float | None, tail: int | None) -> None:
        from ..engine import swarm as engine

        try:
            for raw in engine.follow_service_logs(info.id, since=since, tail=tail):
                line = _line(self.site, info, raw)
                if line is not None and self.query.keeps(line):
                    self.queue.put(line)
        except Exception as error:  # the stream ended (service removed, manager gone)
            self.queue.put(error)

    def look(self, poll_s: float) -> None:
        """Streams for services deployed since, and for tasks on nodes not read yet."""
        found = self.deployed()
        for sid, info in list(self.again.items()):
            self.start(info, self.covered[sid], None, None)
            del self.again[sid]
        for sid, nodes in self.running_nodes(set(found)).items():
            if sid not in self.covered:  # deployed since the follow began: all its lines
                self.start(found[sid], nodes, None, None)
                self.again[sid] = found[sid]
            elif not nodes <= self.covered[sid]:
                self.start(found[sid], self.covered[sid] | nodes, time.time() - poll_s - 1, None)

    def lines(self, poll_s: float) -> Iterator[Any]:
        recent: dict[tuple[str, str, str], None] = {}  # shown lately, oldest first
        next_look = time.monotonic() + poll_s
        while True:
            if time.monotonic() >= next_look:  # even while lines keep coming
                self.look(poll_s)
                next_look = time.monotonic() + poll_s
            try:
                item = self.queue.get(timeout=max(0.05, next_look - time.monotonic()))
            except queue.Empty:
                continue
            if isinstance(item, HomestackError):
                raise item
            if isinstance(item, Exception):
                continue
            key = (item.service, item.time, item.line)
            if key in recent:
                continue
            recent[key] = None
            if len(recent) > 2000:
                del recent[next(iter(recent))]
            yield item
