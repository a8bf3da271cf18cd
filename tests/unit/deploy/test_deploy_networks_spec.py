"""What install networks asks for, drift and overlap rules: pure, from recorded engine JSON."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.deploy.networks import (
    NetworkSpec,
    _overlaps,
    drift,
    iot_spec,
    subnet_setting,
    wanted_specs,
)
from homestack.engine.docker import NetworkInfo
from homestack.errors import BadInput
from testkit.sites import service_file, tiny_site

# `docker network inspect` of a macvlan network, recorded from Docker 20.10
RECORDED_MACVLAN = {
    "Name": "iot_macvlan",
    "Id": "376137d4eaac",
    "Scope": "local",
    "Driver": "macvlan",
    "IPAM": {
        "Driver": "default",
        "Options": {},
        "Config": [{"Subnet": "198.51.100.0/24", "Gateway": "198.51.100.1"}],
    },
    "Internal": False,
    "Containers": {},
    "Options": {"parent": "eth9"},
    "Labels": {"org.homestack.managed": "1"},
}


def _site(tmp_path: Path, env: str = "", networks: str = "[ai-services]") -> Site:
    body = f"networks: {networks}"
    tiny_site(tmp_path / "s", {"app": service_file("app", body=body)}, env=env)
    return Site.load(tmp_path / "s")


def test_all_four_seed_networks_when_no_services_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", "hstunit_")
    specs = wanted_specs(_site(tmp_path), None)
    assert [s.name for s in specs] == [
        "hstunit_ai-services",
        "hstunit_media-services",
        "hstunit_management-services",
        "hstunit_essential-services",
        "hstunit_signon-proxy",
    ]
    assert {s.driver for s in specs} == {"bridge"}
    # signon-proxy: a known subnet, Caddy's fixed address outside the dynamic range
    signon = specs[-1]
    assert signon.subnet is not None and signon.ip_range is not None
    assert ipaddress.ip_network(signon.ip_range).subnet_of(ipaddress.ip_network(signon.subnet))
    caddy = ipaddress.ip_address(Site.load(tmp_path / "s").root_env["HOMESTACK_SIGNON_PROXY"])
    assert caddy in ipaddress.ip_network(signon.subnet)
    assert caddy not in ipaddress.ip_network(signon.ip_range)


def test_only_the_networks_the_services_join(tmp_path: Path) -> None:
    site = _site(tmp_path, networks="[ai-services, media-services]")
    specs = wanted_specs(site, site.services(enabled_only=True))
    assert [s.key for s in specs] == ["ai-services", "media-services"]


def test_bridge_subnet_setting(tmp_path: Path) -> None:
    assert subnet_setting("essential-services") == "ESSENTIAL_SERVICES_SUBNET"
    site = _site(tmp_path, env="AI_SERVICES_SUBNET=192.0.2.0/28\n")
    spec = wanted_specs(site, None)[0]
    assert spec.subnet == "192.0.2.0/28"
    bad = _site(tmp_path / "b", env="AI_SERVICES_SUBNET=192.0.2.1/28\n")
    with pytest.raises(BadInput, match="AI_SERVICES_SUBNET"):
        wanted_specs(bad, None)


def test_iot_network_only_when_configured(tmp_path: Path) -> None:
    assert iot_spec(_site(tmp_path)) is None
    env = "IOT_PARENT=lo\nIOT_SUBNET=198.51.100.0/24\nIOT_GATEWAY=198.51.100.1\n"
    env += "IOT_IP_RANGE=198.51.100.224/27\n"
    spec = iot_spec(_site(tmp_path / "x", env=env))
    assert spec is not None
    assert (spec.driver, spec.parent, spec.subnet, spec.gateway, spec.ip_range) == (
        "macvlan",
        "lo",
        "198.51.100.0/24",
        "198.51.100.1",
        "198.51.100.224/27",
    )
    assert spec.options() == {"parent": "lo"}


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ("IOT_PARENT=lo\n", "IOT_SUBNET, IOT_GATEWAY not set"),
        ("IOT_PARENT=lo\nIOT_SUBNET=198.51.100.0/24\nIOT_GATEWAY=192.0.2.1\n", "outside"),
        (
            "IOT_PARENT=lo\nIOT_SUBNET=198.51.100.0/24\nIOT_GATEWAY=198.51.100.1\n"
            "IOT_IP_RANGE=192.0.2.0/27\n",
            "not inside",
        ),
        (
            "IOT_PARENT=hstnosuch0\nIOT_SUBNET=198.51.100.0/24\nIOT_GATEWAY=198.51.100.1\n",
            "no such network interface",
        ),
        ("IOT_PARENT=lo\nIOT_SUBNET=198.51.100.0\nIOT_GATEWAY=198.51.100.1\n", ""),
        ("IOT_PARENT=lo\nIOT_SUBNET=nonsense\nIOT_GATEWAY=198.51.100.1\n", "CIDR"),
    ],
)
def test_bad_iot_settings_are_bad_input(tmp_path: Path, env: str, words: str) -> None:
    site = _site(tmp_path, env=env)
    if not words:  # a bare address is a /32: the gateway cannot be inside it
        words = "outside"
    with pytest.raises(BadInput, match=words) as caught:
        iot_spec(site)
    assert caught.value.hint


def test_a_service_on_iot_macvlan_needs_the_settings(tmp_path: Path) -> None:
    site = _site(tmp_path, networks="[ai-services, iot_macvlan]")
    with pytest.raises(BadInput, match="iot_macvlan"):
        wanted_specs(site, site.services(enabled_only=True))


def test_recorded_macvlan_parses_and_drift_names_what_differs() -> None:
    found = NetworkInfo.parse(RECORDED_MACVLAN)
    assert found.subnets == ["198.51.100.0/24"]
    assert found.parent == "eth9"
    same = NetworkSpec(
        "iot_macvlan", "iot_macvlan", "macvlan", "198.51.100.0/24", "198.51.100.1", None, "eth9"
    )
    assert drift(same, found) == []
    other = NetworkSpec(
        "iot_macvlan", "iot_macvlan", "macvlan", "203.0.113.0/24", "203.0.113.1", None, "eth0"
    )
    differs = drift(other, found)
    assert any("subnet is 198.51.100.0/24, expected 203.0.113.0/24" in d for d in differs)
    assert any("parent is eth9, expected eth0" in d for d in differs)
    bridge = NetworkSpec("ai-services", "iot_macvlan")
    assert drift(bridge, found) == ["driver is macvlan, expected bridge"]


def test_overlap_with_an_existing_network_or_between_requests_is_refused() -> None:
    existing = [NetworkInfo.parse(RECORDED_MACVLAN)]
    inside = NetworkSpec("ai-services", "x_ai", subnet="198.51.100.128/25", setting="AI")
    with pytest.raises(BadInput, match=r"overlaps 198\.51\.100\.0/24 of the existing"):
        _overlaps([inside], existing)
    one = NetworkSpec("ai-services", "x_ai", subnet="192.0.2.0/24", setting="A")
    two = NetworkSpec("media-services", "x_media", subnet="192.0.2.64/26", setting="B")
    with pytest.raises(BadInput, match="overlaps"):
        _overlaps([one, two], [])
    apart = NetworkSpec("media-services", "x_media", subnet="203.0.113.0/24", setting="B")
    _overlaps([one, apart], existing)  # no error
    v6 = NetworkSpec("media-services", "x_media", subnet="2001:db8::/64", setting="B")
    _overlaps([one, v6], existing)


def test_a_stale_iot_parent_does_not_block_networks_no_service_needs(tmp_path: Path) -> None:
    env = "IOT_PARENT=hstnosuch0\nIOT_SUBNET=198.51.100.0/24\nIOT_GATEWAY=198.51.100.1\n"
    site = _site(tmp_path, env=env)
    specs = wanted_specs(site, site.services(enabled_only=True))
    assert [s.key for s in specs] == ["ai-services"]
    with pytest.raises(BadInput, match="IOT_PARENT=hstnosuch0"):
        wanted_specs(site, None)
