"""Which running services `up` signals after their generated config changed, and which it
names for a restart; a fake backend (standing for the engine) records the signals. The real
engine's path: tests/integration/test_up_reload_config.py."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from homestack.catalog import Site
from homestack.deploy.up import ServiceRun, _apply_config
from homestack.engine.model import PROJECT_LABEL, SERVICE_LABEL, Container
from homestack.errors import OperationFailed
from testkit.sites import service_file, tiny_site


class _FakeBackend:
    def __init__(self, project: str, running: Collection[str], refuse: bool = False) -> None:
        self.project = project
        self.running = running
        self.refuse = refuse
        self.signals: list[tuple[str, str]] = []

    def containers(self, projects: Collection[str] | None = None, **_: object) -> list[Container]:
        assert projects == {self.project}
        return [
            Container(
                id=f"c-{name}",
                state="running",
                labels={PROJECT_LABEL: self.project, SERVICE_LABEL: name},
            )
            for name in self.running
        ]

    def signal(self, container_id: str, signal: str) -> None:
        if self.refuse:  # it stopped between the listing and the signal
            raise OperationFailed(f"container {container_id} is not running")
        self.signals.append((container_id, signal))


def _site(tmp_path: Path) -> Site:
    tiny_site(
        tmp_path,
        {
            "prom": service_file("prom", meta="reload: SIGHUP"),
            "proxy": service_file("proxy", meta="reload: watch"),
            "signon": service_file("signon"),
            "idle": service_file("idle", meta="reload: SIGHUP"),
        },
    )
    return Site.load(tmp_path)


def test_signals_what_declares_a_reload_and_names_the_rest(tmp_path: Path) -> None:
    site = _site(tmp_path)
    project = site.project_name(site.stacks["ai"])
    fake = _FakeBackend(project, running=["prom", "proxy", "signon"])  # idle is not running
    runs = {name: ServiceRun(name, "ai") for name in ("prom", "proxy", "signon", "idle")}

    done = _apply_config(site, ["idle", "prom", "proxy", "signon"], runs, fake)  # type: ignore[arg-type]

    assert done == (["prom"], ["signon"])
    assert fake.signals == [("c-prom", "SIGHUP")]


def test_what_this_run_made_or_started_reads_the_new_files_anyway(tmp_path: Path) -> None:
    site = _site(tmp_path)
    fake = _FakeBackend(site.project_name(site.stacks["ai"]), running=["prom", "signon"])
    runs = {
        "prom": ServiceRun("prom", "ai", action="recreate"),
        "signon": ServiceRun("signon", "ai", action="start"),
    }

    assert _apply_config(site, ["prom", "signon"], runs, fake) == ([], [])  # type: ignore[arg-type]
    assert fake.signals == []


def test_a_signal_that_cannot_be_sent_names_it_instead_of_failing_up(tmp_path: Path) -> None:
    site = _site(tmp_path)
    fake = _FakeBackend(site.project_name(site.stacks["ai"]), running=["prom"], refuse=True)

    assert _apply_config(site, ["prom"], {}, fake) == ([], ["prom"])  # type: ignore[arg-type]
