"""The Backend methods operations use for networks, volumes, log streams, events of a kind
and container listings, on a real engine through ComposeBackend: what each makes, finds and
removes, and that a second removal says there was nothing."""

from __future__ import annotations

import subprocess
import time

import pytest

from homestack.engine.backend import Backend, ComposeBackend
from homestack.engine.model import PROJECT_LABEL, SERVICE_LABEL, SITE_LABEL
from homestack.engine.params import LogParams, NetworkParams
from homestack.errors import OperationFailed
from testkit.engine import wait_for

pytestmark = pytest.mark.integration


def _run(name: str, image: str, project: str, *command: str) -> str:
    done = subprocess.run(
        [
            "docker", "run", "-d", "--name", name,
            "--label", f"{PROJECT_LABEL}={project}", "--label", f"{SERVICE_LABEL}=talker",
            "--label", "homestack.test=1", image, *command,
        ],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip()


def _exited(backend: Backend, cid: str) -> bool:
    found = backend.inspect(cid)
    return found is not None and found.state == "exited"


def test_networks_made_found_listed_and_removed(engine_cleanup: str) -> None:
    backend: Backend = ComposeBackend()
    name = engine_cleanup + "net"
    made = backend.create_network(
        name,
        NetworkParams(
            subnet="198.51.100.0/28", labels={SITE_LABEL: "/site", "homestack.test": "1"}
        ),
    )
    assert (made.name, made.driver, made.subnets) == (name, "bridge", ["198.51.100.0/28"])
    assert made.labels[SITE_LABEL] == "/site"
    assert backend.network(name) == made
    assert name in {n.name for n in backend.networks()}
    assert backend.network(name[:-1]) is None  # an exact name, never a prefix
    assert backend.remove_network(name) is True
    assert backend.network(name) is None
    assert backend.remove_network(name) is False


def test_volumes_made_found_listed_and_removed(engine_cleanup: str) -> None:
    backend: Backend = ComposeBackend()
    name = engine_cleanup + "vol"
    made = backend.create_volume(
        name,
        options={"type": "none", "o": "bind", "device": "/tmp"},
        labels={"homestack.test": "1"},
    )
    assert (made.name, made.driver, made.bind_device) == (name, "local", "/tmp")
    assert backend.volume(name) == made
    assert [v.name for v in backend.volumes(engine_cleanup)] == [name]
    assert backend.remove_volume(name) is True
    assert backend.volume(name) is None
    assert backend.remove_volume(name) is False


def test_a_network_in_use_is_refused(engine_cleanup: str, standin_image: str) -> None:
    backend = ComposeBackend()
    name = engine_cleanup + "busy"
    backend.create_network(name, NetworkParams(labels={"homestack.test": "1"}))
    subprocess.run(
        ["docker", "run", "-d", "--name", name + "-c", "--network", name, standin_image,
         "sleep", "60"],
        check=True, capture_output=True,
    )  # fmt: skip
    with pytest.raises(OperationFailed, match=f"remove network {name}"):
        backend.remove_network(name)
    assert backend.network(name) is not None


def test_log_stream_inspect_many_and_events_of_a_kind(
    engine_cleanup: str, standin_image: str
) -> None:
    backend = ComposeBackend()
    project = engine_cleanup + "logs"
    events = backend.events_of(["die"]).start()
    try:
        cid = _run(project + "-1", standin_image, project, "sh", "-c", "echo one; echo two >&2")
        assert wait_for(lambda: _exited(backend, cid), 20)
        out = list(backend.log_stream(cid, LogParams("stdout", follow=False)))
        err = list(backend.log_stream(cid, LogParams("stderr", follow=False)))
        assert [line.split(" ", 1)[1] for line in out] == ["one"]
        assert [line.split(" ", 1)[1] for line in err] == ["two"]
        assert out[0][:4].isdigit()  # each line starts with the engine's timestamp
        found = backend.inspect_many([cid, "no-such-container-" + engine_cleanup])
        assert list(found) == [cid] and found[cid].exit_code == 0
        deadline = time.monotonic() + 10
        seen = []
        while time.monotonic() < deadline and not seen:
            events.wait(0.5)
            seen = [e for e in events.take() if e.project == project]
        assert [(e.service, e.status, e.id) for e in seen] == [("talker", "die", cid)]
    finally:
        events.close()
    assert wait_for(lambda: events.ended, 5)


def test_port_holders_name_project_service_and_container(
    engine_cleanup: str, standin_image: str
) -> None:
    backend = ComposeBackend()
    project = engine_cleanup + "ports"
    name = project + "-1"
    subprocess.run(
        ["docker", "run", "-d", "--name", name, "-p", "127.0.0.1::8080",
         "--label", f"{PROJECT_LABEL}={project}", "--label", f"{SERVICE_LABEL}=web",
         "--label", "homestack.test=1", standin_image, "httpd", "-f", "-p", "8080"],
        check=True, capture_output=True,
    )  # fmt: skip
    ours = {
        key: owners
        for key, owners in backend.port_holders().items()
        if any(p == project for p, _, _ in owners)
    }
    assert list(ours.values()) == [[(project, "web", name)]]
    ((protocol, port),) = ours
    assert protocol == "tcp" and port > 0
