"""api.status reads through the Context it is handed (its backend, its clock) and sends one
StatusSampled per call to the context's sink: what a live view listens to. A fake backend
(standing for an engine) answers here; test_top.py does the same against the real one."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path

from homestack.api import status
from homestack.catalog import Site
from homestack.context import Context, SystemClock
from homestack.engine.model import PROJECT_LABEL, SERVICE_LABEL, Container
from homestack.engine.usage import Usage
from homestack.events import Collected, StatusSampled
from testkit.sites import service_file, tiny_site

NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)


class _FixedClock(SystemClock):
    def now(self) -> datetime:
        return NOW


class _FakeBackend:
    """app running since 11:00 (pid 42, 1.234 % CPU); nothing else."""

    def __init__(self, project: str) -> None:
        self.project = project
        self.asked: list[str] = []

    def _app(self) -> Container:
        labels = {PROJECT_LABEL: self.project, SERVICE_LABEL: "app"}
        return Container(
            id="c1",
            name="x_ai-app-1",
            state="running",
            labels=labels,
            started_at="2026-12-07T11:00:00Z",
            restart_count=0,
            pid=42,
        )

    def containers(self, projects: Collection[str] | None = None, **_: object) -> list[Container]:
        self.asked.append("containers")
        return [self._app()] if projects is None or self.project in projects else []

    def inspect_many(self, container_ids: Collection[str]) -> dict[str, Container]:
        self.asked.append("inspect_many")
        return {"c1": self._app()} if "c1" in container_ids else {}

    def stats(self, pids: Mapping[str, int], *, interval: float | None = None) -> dict[str, Usage]:
        self.asked.append(f"stats {dict(pids)}")
        return {cid: Usage(cpu_percent=1.234, mem_used=1024, mem_limit=4096) for cid in pids}


def test_status_reads_the_context_and_sends_one_sample(tmp_path: Path) -> None:
    tiny_site(tmp_path, {"app": service_file("app")})
    site = Site.load(tmp_path)
    fake = _FakeBackend(site.project_name(site.stacks["ai"]))
    sink = Collected()
    ctx = Context.for_site(site, sink=sink, clock=_FixedClock(), backend=fake)  # type: ignore[arg-type]

    result = status(ctx, backups=False)

    assert fake.asked == ["containers", "inspect_many", "stats {'c1': 42}"]
    (row,) = result.rows
    assert (row.service, row.state, row.container) == ("app", "running", "x_ai-app-1")
    assert row.uptime_s == 3600.0  # counted to the context's clock, not this machine's
    assert (row.cpu_percent, row.mem_used, row.mem_limit) == (1.23, 1024, 4096)
    sampled = sink.of(StatusSampled)
    assert len(sampled) == 1 and sampled[0].result is result
    assert len(sink) == 1  # nothing else: status takes no lock


def test_status_without_usage_asks_no_figures(tmp_path: Path) -> None:
    tiny_site(tmp_path, {"app": service_file("app")})
    site = Site.load(tmp_path)
    fake = _FakeBackend(site.project_name(site.stacks["ai"]))
    ctx = Context.for_site(site, clock=_FixedClock(), backend=fake)  # type: ignore[arg-type]

    (row,) = status(ctx, ["app"], usage=False, backups=False).rows

    assert fake.asked[-1] == "stats {}"  # no running container's figures asked for
    assert row.cpu_percent is None and row.mem_used is None
