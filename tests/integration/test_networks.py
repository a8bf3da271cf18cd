"""install networks on a real engine: create, no-op, drift, overlap, macvlan on a dummy parent.

Subnets come from the documentation ranges (RFC 5737) and no traffic is sent on them.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.deploy import ensure_networks
from homestack.engine import docker as engine
from homestack.errors import BadInput
from testkit.engine import docker
from testkit.sites import service_file, tiny_site

pytestmark = pytest.mark.integration
SEED = (
    "ai-services",
    "media-services",
    "management-services",
    "essential-services",
    "signon-proxy",
)


def _site(root: Path, env: str = "") -> Site:
    tiny_site(root, {"app": service_file("app", body="networks: [ai-services]")}, env=env)
    return Site.load(root)


def _block(prefix: str, base: str) -> str:
    """A /28 of a /24 documentation range, picked by the test prefix (runs do not collide)."""
    return f"{base}.{int(prefix[3:9], 16) % 16 * 16}/28"


@pytest.fixture
def prefix(engine_cleanup: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    return engine_cleanup


def _ours(prefix: str) -> set[str]:
    return {n.name for n in engine.list_networks() if n.name.startswith(prefix)}


def test_networks_created_labelled_then_second_run_is_a_noop(
    prefix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = _site(tmp_path / "site")
    dry = ensure_networks(site, dry_run=True)
    assert sorted(dry.created) == sorted(prefix + n for n in SEED)
    assert _ours(prefix) == set()

    first = ensure_networks(site)
    assert first.changed and sorted(first.created) == sorted(prefix + n for n in SEED)
    for name in SEED:
        found = engine.get_network(prefix + name)
        assert found is not None and found.driver == "bridge"
        assert found.labels[engine.MANAGED_LABEL] == "1"
        assert found.labels[engine.SITE_LABEL] == str(site.root)
    ids = {n.name: n.id for n in engine.list_networks() if n.name.startswith(prefix)}
    # signon-proxy: the subnet homestack chose, dynamic addresses from its upper half only
    signon = engine.get_network(prefix + "signon-proxy")
    assert signon is not None and signon.pools and signon.pools[0].ip_range

    assert run(["--site", str(site.root), "install", "networks", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["changed"] is False and again["created"] == []
    assert sorted(again["unchanged"]) == sorted(prefix + n for n in SEED)
    assert {n.name: n.id for n in engine.list_networks() if n.name.startswith(prefix)} == ids
    assert run(["--site", str(site.root), "install", "networks"]) == 0
    assert "nothing to change" in capsys.readouterr().out


def test_only_the_networks_the_named_services_join(prefix: str, tmp_path: Path) -> None:
    site = _site(tmp_path / "site")
    report = ensure_networks(site, site.services(enabled_only=True))
    assert report.created == [prefix + "ai-services"]
    assert _ours(prefix) == {prefix + "ai-services"}


def test_wrong_driver_is_drift_and_nothing_is_created(
    prefix: str, dummy_parent: str, tmp_path: Path
) -> None:
    subnet = _block(prefix, "198.51.100")
    parent = f"parent={dummy_parent}"
    docker(
        "network",
        "create",
        "-d",
        "macvlan",
        "--subnet",
        subnet,
        "-o",
        parent,
        prefix + "media-services",
    )
    site = _site(tmp_path / "site")
    with pytest.raises(BadInput) as caught:
        ensure_networks(site)
    message = caught.value.message
    assert prefix + "media-services" in message
    assert "driver is macvlan, expected bridge" in message
    assert f"docker network rm {prefix}media-services" in (caught.value.hint or "")
    assert _ours(prefix) == {prefix + "media-services"}  # not replaced, nothing added


def test_wrong_subnet_is_drift(prefix: str, tmp_path: Path) -> None:
    have, want = _block(prefix, "192.0.2"), _block(prefix, "203.0.113")
    docker("network", "create", "--subnet", have, prefix + "ai-services")
    site = _site(tmp_path / "site", env=f"AI_SERVICES_SUBNET={want}\n")
    assert run(["--site", str(site.root), "install", "networks"]) == 2
    with pytest.raises(BadInput) as caught:
        ensure_networks(site)
    assert f"subnet is {have}, expected {want}" in caught.value.message
    assert "AI_SERVICES_SUBNET" in (caught.value.hint or "")
    assert _ours(prefix) == {prefix + "ai-services"}


def test_overlapping_subnet_is_refused_before_anything_is_created(
    prefix: str, tmp_path: Path
) -> None:
    taken = _block(prefix, "192.0.2")
    docker("network", "create", "--subnet", taken, prefix + "other")
    inside = taken.replace("/28", "/29")
    site = _site(tmp_path / "site", env=f"MANAGEMENT_SERVICES_SUBNET={inside}\n")
    with pytest.raises(BadInput) as caught:
        ensure_networks(site)
    assert f"overlaps {taken} of the existing Docker network {prefix}other" in (
        caught.value.message
    )
    assert _ours(prefix) == {prefix + "other"}


@pytest.fixture
def dummy_parent(prefix: str) -> Iterator[str]:
    """A parent interface that reaches nothing: `dummy`, or an unplugged veth pair when the
    kernel has no dummy driver. Removed afterwards (after the test's networks)."""
    name = f"{prefix[:9]}d"
    made = subprocess.run(
        ["ip", "link", "add", name, "type", "dummy"], capture_output=True, text=True, check=False
    )
    if made.returncode != 0:
        made = subprocess.run(
            ["ip", "link", "add", name, "type", "veth", "peer", "name", f"{prefix[:9]}p"],
            capture_output=True,
            text=True,
            check=False,
        )
    if made.returncode != 0:
        pytest.skip(f"cannot create a test interface: {made.stderr.strip()}")
    yield name
    for net in _ours(prefix):
        docker("network", "rm", net, check=False)
    subprocess.run(["ip", "link", "del", name], capture_output=True, check=False)


def test_macvlan_on_a_dummy_parent_then_parent_drift(
    prefix: str, dummy_parent: str, tmp_path: Path
) -> None:
    subnet = "198.51.100.0/24"
    env = (
        f"IOT_PARENT={dummy_parent}\nIOT_SUBNET={subnet}\nIOT_GATEWAY=198.51.100.1\n"
        "IOT_IP_RANGE=198.51.100.224/27\n"
    )
    site = _site(tmp_path / "site", env=env)
    report = ensure_networks(site)
    assert prefix + "iot_macvlan" in report.created
    found = engine.get_network(prefix + "iot_macvlan")
    assert found is not None
    assert (found.driver, found.parent, found.subnets) == ("macvlan", dummy_parent, [subnet])
    assert found.pools[0].ip_range == "198.51.100.224/27"
    assert not ensure_networks(site).changed

    moved = _site(tmp_path / "moved", env=env.replace(f"={dummy_parent}", "=lo"))
    with pytest.raises(BadInput) as caught:
        ensure_networks(moved)
    assert f"parent is {dummy_parent}, expected lo" in caught.value.message
