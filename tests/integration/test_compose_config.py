"""`docker compose config` accepts every shipped stack, with every overlay, as homestack
runs it (ComposeProject: base file, service files, env layers, prefix)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homestack.catalog import Site, Stack
from homestack.engine.compose import ComposeProject
from homestack.errors import CommandFailed

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
STACKS = sorted(p.name.removesuffix("-stack") for p in REPO.glob("*-stack") if p.is_dir())


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch, test_prefix: str) -> Site:
    monkeypatch.setenv("HOMESTACK_PREFIX", test_prefix)
    monkeypatch.delenv("HOMESTACK_SITE", raising=False)
    loaded = Site.load(REPO)
    assert loaded.all_problems() == []
    return loaded


def every_overlay(stack: Stack) -> dict[str, list[str]]:
    return {s.id: sorted(s.overlays) for s in stack.services.values()}


def check(project: ComposeProject) -> dict[str, object]:
    try:
        return project.config()
    except CommandFailed as failed:  # show Compose's own words
        pytest.fail(f"docker compose config rejected {project.name}:\n{failed.stderr}")


def test_every_stack_is_shipped() -> None:
    assert {"ai", "essentials", "management", "media"} <= set(STACKS)


@pytest.mark.parametrize("stack_id", STACKS)
def test_compose_accepts_the_enabled_services(
    compose_cli: None, site: Site, stack_id: str, test_prefix: str
) -> None:
    stack = site.stack(stack_id)
    if not stack.enabled:
        pytest.skip(f"{stack_id} has no enabled service")
    model = check(ComposeProject(site, stack))
    services = model["services"]
    assert isinstance(services, dict)
    assert set(services) == {s.id for s in stack.enabled}
    assert model["name"] == f"{test_prefix}{stack_id}"


@pytest.mark.parametrize("stack_id", STACKS)
def test_compose_accepts_every_service_with_every_overlay(
    compose_cli: None, site: Site, stack_id: str, test_prefix: str
) -> None:
    stack = site.stack(stack_id)
    everything = list(stack.services.values())
    if not everything:
        pytest.skip(f"{stack_id} ships no service")
    project = ComposeProject(site, stack, services=everything, overlays=every_overlay(stack))
    overlay_files = [p for s in everything for p in s.overlays.values()]
    assert set(overlay_files) <= set(project.files)
    model = check(project)
    services = model["services"]
    assert isinstance(services, dict)
    assert set(services) == {s.id for s in everything}
    for service in everything:
        entry = services[service.id]
        assert entry["image"], service.id
        for volume in entry.get("volumes", []):
            if volume.get("type") == "volume" and volume["source"].endswith("_data"):
                named = model["volumes"][volume["source"]]["name"]  # type: ignore[index]
                assert named == f"{test_prefix}{volume['source']}"
    for name, network in (model.get("networks") or {}).items():  # type: ignore[attr-defined]
        if network.get("external"):
            assert network["name"] == f"{test_prefix}{name}", name


def test_gpu_overlays_add_a_device_reservation(compose_cli: None, site: Site) -> None:
    gpu_services = [
        s for s in site.services() if any(kind in s.overlays for kind in ("nvidia", "amd", "intel"))
    ]
    if not gpu_services:
        pytest.skip("no GPU overlay is shipped")
    service = gpu_services[0]
    stack = site.stack(service.stack)
    for kind in ("nvidia", "amd", "intel"):
        if kind not in service.overlays:
            continue
        project = ComposeProject(site, stack, services=[service], overlays={service.id: [kind]})
        entry = check(project)["services"][service.id]  # type: ignore[index]
        gpu_bits = (
            entry.get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices"),
            entry.get("devices"),
        )
        assert any(gpu_bits), (service.id, kind)
