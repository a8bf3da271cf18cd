"""update's engine reads (running services, config hashes, the dependents' watch) go to the
backend of the Context it is handed, not to a module global: a fake backend (standing for an
engine) answers them here."""

from __future__ import annotations

from pathlib import Path

from homestack.catalog import Site
from homestack.context import Context
from homestack.engine.model import HASH_LABEL, PROJECT_LABEL, SERVICE_LABEL, Container
from homestack.update import apply
from testkit.sites import service_file, tiny_site


class _FakeBackend:
    """Two containers of the `ai` stack: app running (hash h1), old exited."""

    def __init__(self, project: str) -> None:
        self.project = project
        self.asked: list[object] = []

    def containers(self, projects: object = None, **options: object) -> list[Container]:
        self.asked.append(("containers", projects, options))
        labels = {PROJECT_LABEL: self.project}
        return [
            Container(
                id="a", state="running", labels={**labels, SERVICE_LABEL: "app", HASH_LABEL: "h1"}
            ),
            Container(id="b", state="exited", labels={**labels, SERVICE_LABEL: "old"}),
        ]

    def stays_healthy(self, projects: set[str], services: list[str], seconds: float) -> Container:
        self.asked.append(("stays_healthy", projects, services, seconds))
        return Container(state="exited", labels={SERVICE_LABEL: services[0]})


def test_update_asks_the_context_backend(tmp_path: Path) -> None:
    tiny_site(tmp_path, {"app": service_file("app"), "old": service_file("old")})
    site = Site.load(tmp_path)
    project = site.project_name(site.stacks["ai"])
    fake = _FakeBackend(project)
    ctx = Context.for_site(site, backend=fake)  # type: ignore[arg-type]
    assert apply._running(site, ctx) == {"app"}
    assert apply._config_hash(site, "app", ctx) == "h1"
    assert apply._config_hash(site, "old", ctx) is None
    why = apply._dependents_stay_healthy(site, ["old"], 0.5, ctx)
    assert why == "old (a dependent) exited on the new version"
    assert [a[0] for a in fake.asked] == ["containers"] * 3 + ["stays_healthy"]
    assert fake.asked[1][1] == {project}
