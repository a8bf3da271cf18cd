"""SwarmBackend: the swarm as a second implementation of engine.backend.Backend.

What it does on a real swarm is covered by the swarm lab (tests/integration/test_swarm_*.py:
up, restart, down, backup's stop/start, top go through it). Here: that it is a Backend, that
the site's DEPLOY_MODE picks it, the refusals (no engine is reached before them), and, with
the engine/swarm.py layer faked (`_fake_` tests), how tasks map to the one Container model,
which states a wait can only meet on a failing node, and what `up` hands `stack deploy`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from homestack.catalog import Site
from homestack.engine import swarm as engine
from homestack.engine.backend import Backend, ComposeBackend
from homestack.engine.compose import ComposeProject
from homestack.engine.health import Watched
from homestack.engine.model import PROJECT_LABEL, SERVICE_LABEL
from homestack.engine.params import LogParams, NetworkParams
from homestack.engine.swarm import NodeInfo, ServiceInfo, TaskInfo
from homestack.engine.swarm_backend import NODE_LABEL, SwarmBackend, backend_for
from homestack.errors import HomestackError, OperationFailed
from testkit.sites import service_yaml, stack_yaml, write_tree


def _site(tmp_path: Path, mode: str = "swarm") -> Site:
    write_tree(
        tmp_path,
        {
            "base.docker-compose.yaml": "networks: {}\n",
            ".env": f"DEPLOY_MODE={mode}\n",
            "ai-stack/stack.yaml": stack_yaml(["app", "web"]),
            "ai-stack/services/app.docker-compose.yaml": service_yaml("app"),
            "ai-stack/services/web.docker-compose.yaml": service_yaml("web"),
        },
    )
    return Site.load(tmp_path)


def _project(site: Site) -> ComposeProject:
    return ComposeProject(site, site.stacks["ai"])


def test_swarm_backend_is_a_backend() -> None:
    backend: Backend = SwarmBackend()  # mypy checks backend_for's `return SwarmBackend()` too
    assert isinstance(backend, Backend)


#: Backend's methods that run Compose or read the local engine's containers: a swarm must
#: answer each itself (inheriting one would act on the manager's own containers)
SWARM_OWN = {
    "config_hashes", "pull", "create", "up", "act", "kill", "remove", "down", "exec",
    "service_container", "containers", "by_service", "inspect", "start_container", "signal",
    "events",
    "wait_healthy", "stays_healthy", "logs", "stats", "create_network", "create_volume",
    "inspect_many", "log_stream", "events_of",
}  # fmt: skip


def test_swarm_backend_overrides_what_a_swarm_does_otherwise() -> None:
    inherited = {
        name for name in SWARM_OWN if getattr(SwarmBackend, name) is getattr(Backend, name)
    }
    assert inherited == set()


def test_backend_for_picks_by_deploy_mode(tmp_path: Path) -> None:
    assert isinstance(backend_for(_site(tmp_path / "s", "swarm")), SwarmBackend)
    assert isinstance(backend_for(_site(tmp_path / "c", "compose")), ComposeBackend)


def _refused(call: Any, *words: str) -> None:
    with pytest.raises(OperationFailed) as caught:
        call()
    assert isinstance(caught.value, HomestackError)
    assert "swarm" in caught.value.message
    for word in words:
        assert word in (caught.value.hint or ""), caught.value.hint


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any call into engine/swarm.py fails the test: a refusal must come first."""

    def reached(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the engine was reached before the refusal")

    for name in ("services", "tasks", "nodes", "scale", "force_update", "stack_rm"):
        monkeypatch.setattr(engine, name, reached)


@pytest.mark.usefixtures("no_engine")
def test_pause_and_unpause_are_refused_naming_stop(tmp_path: Path) -> None:
    project = _project(_site(tmp_path))
    backend = SwarmBackend()
    _refused(lambda: backend.act(project, "pause", ["app"]), "scale it to 0", "`stop`")
    _refused(lambda: backend.act(project, "unpause", ["app"]), "scale to 1")


@pytest.mark.usefixtures("no_engine")
def test_create_without_start_is_refused_naming_up(tmp_path: Path) -> None:
    _refused(lambda: SwarmBackend().create(_project(_site(tmp_path)), ["app"]), "homestack up")


@pytest.mark.usefixtures("no_engine")
def test_config_hashes_are_refused_naming_the_spec_label(tmp_path: Path) -> None:
    _refused(lambda: SwarmBackend().config_hashes(_project(_site(tmp_path))), "org.homestack.spec")


@pytest.mark.usefixtures("no_engine")
def test_exec_kill_pull_start_container_and_volumes_are_refused_with_the_swarm_way(
    tmp_path: Path,
) -> None:
    project = _project(_site(tmp_path))
    backend = SwarmBackend()
    sink = (tmp_path / "out").open("wb")
    _refused(lambda: backend.exec(project, "app", ["true"], sink, timeout=5), "docker exec")
    _refused(lambda: backend.kill(project, ["app"], "SIGHUP"), "homestack restart")
    _refused(lambda: backend.pull(project, ["app"], timeout=5), "homestack up")
    _refused(lambda: backend.start_container("abc"), "docker service scale")
    _refused(lambda: backend.signal("abc", "SIGHUP"), "homestack restart")
    _refused(lambda: backend.down(project, volumes=True), "docker volume rm")
    _refused(lambda: backend.remove(project, ["app"], volumes=True), "docker volume rm")
    sink.close()


# ---- with the engine/swarm.py layer faked --------------------------------------------------
def _service(name: str, sid: str, stack: str = "hs_ai", replicas: int = 1) -> ServiceInfo:
    labels = {engine.STACK_LABEL: stack, "org.homestack.service": name}
    return ServiceInfo(sid, f"{stack}_{name}", stack, labels, "busybox:1", replicas, (), ())


def _task(
    sid: str, state: str, *, desired: str = "running", version: int = 1, **kw: Any
) -> TaskInfo:
    return TaskInfo(
        id=f"t{sid}{version}",
        service_id=sid,
        node_id=kw.get("node", "n1"),
        slot=1,
        state=state,
        desired=desired,
        error=kw.get("error", ""),
        message="",
        container=kw.get("container", f"c{sid}{version}"),
        exit_code=kw.get("code"),
        version=version,
        timestamp="",
        created="",
    )


class FakeSwarm:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.services: list[ServiceInfo] = []
        self.tasks: list[TaskInfo] = []
        self.deployed: list[tuple[dict[str, Any], str]] = []
        monkeypatch.setattr(engine, "services", self._services)
        monkeypatch.setattr(engine, "tasks", lambda ids=None: list(self._tasks(ids)))
        monkeypatch.setattr(
            engine, "nodes", lambda: [NodeInfo("n1", "n1", "manager", "active", "ready", "")]
        )
        monkeypatch.setattr(engine, "stack_deploy", self._deploy)

    def _services(self, stacks: set[str] | None = None) -> list[ServiceInfo]:
        return [s for s in self.services if stacks is None or s.stack in stacks]

    def _tasks(self, ids: set[str] | None) -> list[TaskInfo]:
        return [t for t in self.tasks if ids is None or t.service_id in ids]

    def _deploy(self, file: Path, stack: str, timeout: float = 300) -> None:
        self.deployed.append((json.loads(file.read_text()), stack))


def test_fake_tasks_are_containers_with_the_compose_label_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeSwarm(monkeypatch)
    fake.services = [_service("app", "s1"), _service("web", "s2"), _service("db", "s3", "other")]
    fake.tasks = [
        _task("s1", "failed", desired="shutdown", version=1, code=3),
        _task("s1", "running", version=2, node="n2"),
        _task("s2", "starting"),
        _task("s3", "running"),
    ]
    boxes = {b.service: b for b in SwarmBackend().containers({"hs_ai"})}
    assert set(boxes) == {"app", "web"}  # the other stack's not; app's old task not
    app = boxes["app"]
    assert (app.id, app.state, app.health, app.project) == ("cs12", "running", "healthy", "hs_ai")
    assert app.labels[NODE_LABEL] == "n2" and app.labels[SERVICE_LABEL] == "app"
    assert (boxes["web"].state, boxes["web"].health) == ("running", "starting")
    running = SwarmBackend().containers({"hs_ai"}, include_stopped=False)
    assert {b.service for b in running} == {"app", "web"}  # a starting task runs already
    fake.tasks = [_task("s1", "failed", desired="shutdown", code=3)]
    (ended,) = SwarmBackend().containers({"hs_ai"})
    assert (ended.state, ended.exit_code) == ("exited", 3)
    assert SwarmBackend().containers({"hs_ai"}, include_stopped=False) == []
    assert SwarmBackend().inspect("cs11") == ended
    assert ended.labels[PROJECT_LABEL] == "hs_ai"


def test_fake_wait_healthy_judges_tasks_as_the_one_wait_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeSwarm(monkeypatch)
    fake.services = [_service("app", "s1"), _service("web", "s2"), _service("job", "s3")]
    fake.tasks = [
        _task("s1", "running"),
        _task("s2", "failed", desired="shutdown", error="task: non-zero exit (1)", code=1),
        _task("s3", "complete", desired="shutdown", code=0),
    ]
    verdicts = SwarmBackend().wait_healthy(
        [Watched("hs_ai", "app"), Watched("hs_ai", "web"), Watched("hs_ai", "job", True)], 5
    )
    assert verdicts[("hs_ai", "app")].state == "healthy"
    assert verdicts[("hs_ai", "web")].state == "exited"
    assert verdicts[("hs_ai", "job")].state == "completed"
    fake.tasks = [_task("s1", "starting")]
    assert (
        SwarmBackend().wait_healthy([Watched("hs_ai", "app")], 0.6)[("hs_ai", "app")].state
        == "timeout"
    )


def test_fake_up_deploys_the_translated_named_services_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _site(tmp_path)
    fake = FakeSwarm(monkeypatch)
    project = _project(site)
    merged = {"name": project.name, "services": {
        n: {"image": "busybox:1", "command": ["sleep", "1"]} for n in ("app", "web")
    }}  # fmt: skip
    monkeypatch.setattr(ComposeProject, "config", lambda self: merged)  # Compose's merge
    SwarmBackend().up(project, ["web"])
    ((file, stack),) = fake.deployed
    assert stack == project.name
    assert list(file["services"]) == ["web"]
    assert "org.homestack.spec" in file["services"]["web"]["deploy"]["labels"]


def test_fake_restart_of_a_service_not_on_the_swarm_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeSwarm(monkeypatch)
    with pytest.raises(OperationFailed, match="not running on the swarm: app"):
        SwarmBackend().act(_project(_site(tmp_path)), "restart", ["app"])


@pytest.mark.usefixtures("no_engine")
def test_macvlan_networks_volumes_log_streams_and_events_are_refused_with_the_swarm_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine, "ensure_overlay", lambda *a, **k: pytest.fail("reached"))
    backend = SwarmBackend()
    _refused(lambda: backend.create_network("iot", NetworkParams("macvlan")), "--config-only")
    _refused(lambda: backend.create_network("x", NetworkParams(internal=True)), "overlays")
    _refused(lambda: backend.create_volume("v"), "homestack up")
    _refused(lambda: backend.log_stream("c", LogParams("stdout", follow=False)), "homestack logs")
    _refused(lambda: backend.events_of(["start"]), "containers()")
