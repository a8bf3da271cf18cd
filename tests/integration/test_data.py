"""install data on a real engine: the named volume is a bind of DATA/{service}."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.deploy import ensure_data, ensure_networks
from homestack.engine import docker as engine
from homestack.engine.compose import ComposeProject
from homestack.errors import OperationFailed
from testkit.engine import docker
from testkit.sites import service_file, tiny_site

pytestmark = pytest.mark.integration
BODY = """
command: ["sh", "-c", "echo kept > /data/hello && exec sleep 3600"]
networks: [ai-services]
volumes:
  - ai_app_data:/data
"""


def _site(root: Path, image: str) -> Site:
    env = f"PUID={os.geteuid()}\nPGID={os.getegid()}\n"
    return Site.load(tiny_site(root, {"app": service_file("app", body=BODY, image=image)}, env=env))


def test_volume_binds_the_data_folder(
    engine_cleanup: str, standin_image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    site = _site(tmp_path / "site", standin_image)
    services = site.services(enabled_only=True)
    ensure_networks(site, services)
    first = ensure_data(site, services)
    assert first.changed
    assert [v.state for v in first.volumes] == ["absent"]

    project = ComposeProject(site, site.stack("ai"))
    project.run("up", "-d", "--wait", timeout=180)
    name = f"{engine_cleanup}ai_app_data"
    volume = engine.get_volume(name)
    assert volume is not None and volume.bind_device == str(site.data_root / "app")
    for _ in range(50):  # the container writes the file right after it starts
        if (site.data_root / "app" / "hello").exists():
            break
        docker("exec", f"{project.name}-app-1", "true")
    assert (site.data_root / "app" / "hello").read_text() == "kept\n"

    again = ensure_data(site, services)
    assert not again.changed
    assert [(v.name, v.state) for v in again.volumes] == [(name, "ok")]
    project.run("down", "--timeout", "1", timeout=120)


def test_a_volume_bound_elsewhere_is_drift_and_nothing_is_created(
    engine_cleanup: str, standin_image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    name = f"{engine_cleanup}ai_app_data"
    docker(
        "volume", "create", "--label", "homestack.test=1", "-o", "type=none", "-o", "o=bind",
        "-o", f"device={elsewhere}", name,
    )  # fmt: skip
    site = _site(tmp_path / "site", standin_image)
    with pytest.raises(OperationFailed) as caught:
        ensure_data(site, site.services(enabled_only=True))
    assert name in caught.value.message
    assert f"bound to {elsewhere}" in caught.value.message
    assert str(site.data_root / "app") in caught.value.message
    assert f"docker volume rm {name}" in (caught.value.hint or "")
    assert not site.data_root.exists()
