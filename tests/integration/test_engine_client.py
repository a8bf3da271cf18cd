"""engine.docker on a real engine: exact network names; observe's raw reads and the typed views
of the same containers agree (one client layer, two shapes of the same answers)."""

from __future__ import annotations

import subprocess

import pytest

from homestack.engine import docker as engine
from homestack.engine.params import NetworkParams

pytestmark = pytest.mark.integration


def test_get_network_takes_the_exact_name_never_an_id_prefix(engine_cleanup: str) -> None:
    made = engine.create_network(
        engine_cleanup + "exact", NetworkParams(labels={"homestack.test": "1"})
    )
    found = engine.get_network(made.name)
    assert found is not None and found.id == made.id and found.driver == "bridge"
    # the engine itself answers an inspect of an id prefix; get_network does not
    assert engine.get_network(made.id[:12]) is None
    assert engine.get_network(engine_cleanup + "absent") is None


def test_observe_reads_agree_with_the_typed_views(engine_cleanup: str, standin_image: str) -> None:
    project = engine_cleanup + "proj"
    name = f"{project}-web-1"
    subprocess.run(
        [
            "docker", "run", "-d", "--name", name,
            "--label", f"{engine.PROJECT_LABEL}={project}",
            "--label", f"{engine.SERVICE_LABEL}=web",
            "--label", "homestack.test=1",
            "-p", "127.0.0.1::8080",
            standin_image, "httpd", "-f", "-p", "8080",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    api = engine.api_client()
    rows = engine.project_containers(api, {project})
    typed = engine.list_containers(labels={engine.PROJECT_LABEL: project})
    assert [row["Id"] for row in rows] == [box.id for box in typed]
    assert typed[0].name == name and typed[0].service == "web"

    cid = rows[0]["Id"]
    infos = engine.inspect_many(api, [cid, engine_cleanup + "no-such-container"])
    assert list(infos) == [cid]  # one that does not exist is left out, not an error
    assert infos[cid]["Name"] == "/" + name
    host_port = int(infos[cid]["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"])
    assert engine.port_holders(api)[("tcp", host_port)] == [(project, "web", name)]

    usage = engine.usage_many(api, {cid: int(infos[cid]["State"]["Pid"])}, interval=0.05)
    assert usage[cid].mem_used and usage[cid].mem_limit
