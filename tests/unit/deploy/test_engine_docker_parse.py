"""The Engine API wrapper: tolerant parsing, and a clear error when no engine answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from homestack.engine import docker as engine
from homestack.errors import EngineUnavailable


def test_empty_documents_parse_to_empty_fields() -> None:
    net = engine.NetworkInfo.parse({})
    assert (net.name, net.driver, net.subnets, net.parent) == ("", "", [], None)
    vol = engine.VolumeInfo.parse({"Name": "v", "Driver": "local", "Options": None})
    assert vol.bind_device is None
    box = engine.Container.parse({})
    assert (box.name, box.state, box.health, box.networks) == ("", "", None, {})


def test_network_with_odd_ipam_parses() -> None:
    net = engine.NetworkInfo.parse(
        {"Name": "n", "Driver": "bridge", "IPAM": {"Config": None}, "Labels": None}
    )
    assert net.pools == () and net.labels == {}
    net = engine.NetworkInfo.parse({"IPAM": {"Config": [{"Subnet": "10.1.0.0/16"}, "junk"]}})
    assert net.subnets == ["10.1.0.0/16"]


def test_recorded_bind_volume_and_container() -> None:
    vol = engine.VolumeInfo.parse(
        {
            "Name": "ai_app_data",
            "Driver": "local",
            "Options": {"device": "/srv/DATA/app", "o": "bind", "type": "none"},
        }
    )
    assert vol.bind_device == "/srv/DATA/app"
    box = engine.Container.parse(
        {
            "Id": "abc",
            "Name": "/ai-app-1",
            "State": {"Status": "running", "Health": {"Status": "healthy"}, "ExitCode": 0},
            "Config": {
                "Image": "x:1",
                "Env": ["A=secret-looking", "PATH=/bin"],
                "Labels": {"com.docker.compose.project": "ai"},
            },
            "NetworkSettings": {"Networks": {"ai-services": {"IPAddress": "10.0.0.2"}}},
        }
    )
    assert (box.name, box.state, box.health, box.project) == (
        "ai-app-1",
        "running",
        "healthy",
        "ai",
    )
    assert box.env_names == ("A", "PATH")  # names only, never values
    assert box.networks == {"ai-services": "10.0.0.2"}
    row = engine.Container.parse(
        {"Id": "abc", "Names": ["/x"], "State": "running", "Status": "Up 3 s (healthy)"}
    )
    assert (row.name, row.state, row.health) == ("x", "running", "healthy")


@pytest.fixture
def no_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    where = f"unix://{tmp_path}/no-such-docker.sock"
    monkeypatch.setenv("DOCKER_HOST", where)
    engine.reset_client()
    yield where
    engine.reset_client()


def test_no_engine_is_engine_unavailable_with_a_hint(no_engine: str) -> None:
    with pytest.raises(EngineUnavailable) as caught:
        engine.list_networks()
    assert no_engine in caught.value.message
    assert caught.value.hint is not None and "dockerd" in caught.value.hint


def test_cli_without_an_engine_exits_1_with_the_fix(
    no_engine: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from homestack.cli.app import run
    from testkit.sites import service_file, tiny_site

    site = tiny_site(tmp_path / "site", {"app": service_file("app")})
    assert run(["--site", str(site), "install", "networks"]) == 1
    err = capsys.readouterr().err
    assert "no Docker engine answers" in err
    assert "fix:" in err
