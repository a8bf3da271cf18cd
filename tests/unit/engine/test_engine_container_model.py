"""One container model for every shape the engine and Compose answer in, and one judge of
health for up, restart and backups (engine.model, engine.health)."""

from __future__ import annotations

from homestack.engine.health import judge
from homestack.engine.model import Container


def test_a_compose_ps_row_parses_with_its_labels_and_health() -> None:
    row = Container.parse(
        {
            "ID": "f00",
            "Name": "tst-db-1",
            "Image": "busybox:1",
            "Service": "db",
            "State": "running",
            "Health": "starting",
            "Labels": "com.docker.compose.project=tst,com.docker.compose.oneoff=False",
        }
    )
    assert (row.id, row.name, row.state, row.health, row.image) == (
        "f00",
        "tst-db-1",
        "running",
        "starting",
        "busybox:1",
    )
    assert row.project == "tst" and not row.oneoff and row.running and row.exists
    one_off = Container.parse(
        {"ID": "b", "State": "exited", "Labels": "com.docker.compose.oneoff=True"}
    )
    assert one_off.oneoff


def test_a_compose_ps_row_without_a_healthcheck_has_no_health() -> None:
    assert Container.parse({"ID": "f", "State": "running", "Health": ""}).health is None


def test_nothing_is_an_absent_container() -> None:
    empty = Container.parse({})
    assert not empty.exists and not empty.running and empty.restart_count is None
    assert not Container().exists


def test_an_inspect_document_carries_its_life_and_probes() -> None:
    box = Container.parse(
        {
            "Id": "abc",
            "Name": "/x",
            "RestartCount": 2,
            "State": {
                "Status": "running",
                "StartedAt": "2026-01-01T00:00:00Z",
                "Pid": 42,
                "ExitCode": 0,
                "Health": {"Status": "unhealthy", "Log": [{"Output": " no \n"}, "junk"]},
            },
        }
    )
    assert (box.restart_count, box.started_at, box.pid, box.exit_code) == (
        2,
        "2026-01-01T00:00:00Z",
        42,
        0,
    )
    assert box.health_log == ("no", "")
    later = Container(id="abc", name="x", state="running", started_at="later", restart_count=2)
    assert later.change_since(box) == "was started again (running now)"
    assert Container(id="new", state="running").change_since(box) is not None
    assert box.change_since(box) is None


def test_judge_settles_what_up_and_restart_wait_for() -> None:
    def verdict(**fields: object) -> str | None:
        found = judge(Container(id="c", **fields))  # type: ignore[arg-type]
        return found.state if found else None

    assert verdict(state="running", health="healthy") == "healthy"
    assert verdict(state="running") == "running"
    assert verdict(state="running", health="starting") is None
    assert verdict(state="created") is None
    assert verdict(state="running", health="unhealthy") == "unhealthy"
    assert verdict(state="exited", exit_code=1) == "exited"
    assert verdict(state="restarting", exit_code=3) == "exited"
    assert verdict(state="running", restart_count=1, exit_code=2) == "exited"
    assert judge(Container(state="exited", exit_code=0), oneshot=True) is not None
    done = judge(Container(state="exited", exit_code=0), oneshot=True)
    assert done is not None and done.state == "completed" and done.ok


def test_compose_backend_is_a_backend() -> None:
    from homestack.engine import Backend, ComposeBackend, default_backend

    assert isinstance(ComposeBackend(), Backend)
    assert isinstance(default_backend(), Backend)


def test_swarm_records_read_a_null_field_as_empty_not_none() -> None:
    """The Engine API sends null for some fields (a down node's Addr, a task's Err): they
    read as "", not the text "None" (shown as a node address or a task error before)."""
    from homestack.engine.swarm import _node, _service, _task

    node = _node({"ID": "n1", "Description": {"Hostname": "nas", "Engine": None},
                  "Spec": {"Role": "worker", "Labels": None},
                  "Status": {"State": "down", "Addr": None}})  # fmt: skip
    assert (node.hostname, node.state, node.address, node.engine) == ("nas", "down", "", "")
    assert node.labels == {} and node.engine_labels == {}
    task = _task({"ID": "t1", "NodeID": None, "Status": {"State": "pending", "Err": None}})
    assert (task.node_id, task.error) == ("", "")
    service = _service({"ID": "s1", "Spec": {"Name": None, "Labels": {"a": 1}}})
    assert (service.name, service.labels, service.image) == ("", {"a": "1"}, "")
