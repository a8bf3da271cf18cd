"""Swarm translation and placement on real site files (no engine: nodes are plain data)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.engine.swarm import NodeInfo, kernel_has_ipvs
from homestack.errors import BadInput
from homestack.findings import Severity
from homestack.swarm import deploy_mode
from homestack.swarm.placement import label_args, place
from homestack.swarm.translate import (
    SPEC_LABEL,
    check_service,
    endpoint_mode,
    require_endpoint_mode,
    translate_service,
    translate_stack,
)
from testkit.sites import copy_catalog, service_yaml, stack_yaml, write_tree


def _node(name: str, **labels: str) -> NodeInfo:
    return NodeInfo(name, name, "worker", "active", "ready", "10.0.0.1", dict(labels))


def _site(tmp_path: Path, body: str = "", meta: str = "", overlay: str | None = None) -> Site:
    files = {
        "base.docker-compose.yaml": "networks: {}\n",
        ".env": "DEPLOY_MODE=swarm\n",
        "ai-stack/stack.yaml": stack_yaml(["app"]),
        "ai-stack/services/app.docker-compose.yaml": service_yaml("app", body=body, meta=meta),
    }
    if overlay is not None:
        files["ai-stack/services/app.nvidia.docker-compose.yaml"] = overlay
    write_tree(tmp_path, files)
    return Site.load(tmp_path)


def test_privileged_is_an_error_naming_file_key_and_the_swarm_alternative(tmp_path: Path) -> None:
    site = _site(tmp_path, body="privileged: true\nnetwork_mode: host")
    found = {f.rule: f for f in check_service(site, site.service("app"))}
    assert found["swarm.privileged"].severity is Severity.ERROR
    assert found["swarm.privileged"].file == site.service("app").file
    assert found["swarm.privileged"].line is not None
    assert "cap_add" in (found["swarm.privileged"].hint or "")
    assert found["swarm.network_mode"].severity is Severity.ERROR
    assert "overlay" in (found["swarm.network_mode"].hint or "")


def test_gpu_overlay_devices_are_a_named_loss_devices_elsewhere_an_error(tmp_path: Path) -> None:
    overlay = "services:\n  app:\n    devices: ['/dev/dri:/dev/dri']\n"
    site = _site(tmp_path, body="devices: ['/dev/ttyUSB0:/dev/ttyUSB0']", overlay=overlay)
    found = check_service(site, site.service("app"))
    by_file = {(f.file.name, f.rule): f.severity for f in found}
    assert by_file[("app.docker-compose.yaml", "swarm.devices")] is Severity.ERROR
    assert by_file[("app.nvidia.docker-compose.yaml", "swarm.devices")] is Severity.WARNING


def test_the_shipped_catalog_has_no_swarm_error_only_named_losses(tmp_path: Path) -> None:
    site = Site.load(copy_catalog(tmp_path))
    found = [f for s in site.services(enabled_only=True) for f in check_service(site, s)]
    assert [f for f in found if f.severity is Severity.ERROR] == []
    rules = {f.rule for f in found}
    assert {"swarm.security_opt", "swarm.ports"} <= rules  # named, not silently dropped


def test_restart_becomes_restart_policy_and_loopback_ports_are_not_published(
    tmp_path: Path,
) -> None:
    site = _site(tmp_path)
    service = site.service("app")
    merged = {
        "image": "x:1",
        "restart": "unless-stopped",
        "depends_on": {"db": {"condition": "service_healthy"}},
        "security_opt": ["no-new-privileges:true"],
        "ports": [
            {"host_ip": "127.0.0.1", "target": 80, "published": "8080", "protocol": "tcp"},
            {"target": 53, "published": "53", "protocol": "udp"},
        ],
        "healthcheck": {"test": ["CMD", "true"], "interval": "5s"},
        "networks": {"ai-services": None},
        "deploy": {"resources": {"limits": {"cpus": 0.5, "memory": "268435456"}}},
    }
    out = translate_service(site, service, merged, ["node.labels.homestack.data == true"])
    assert out["deploy"]["restart_policy"]["condition"] == "any"
    assert "restart" not in out and "depends_on" not in out and "security_opt" not in out
    assert out["ports"] == [{"target": 53, "protocol": "udp", "mode": "ingress", "published": 53}]
    assert out["deploy"]["endpoint_mode"] == "vip"  # docker stack deploy's default
    assert out["healthcheck"] == merged["healthcheck"]
    # the stack file schema wants strings (docker stack deploy refused 0.5)
    assert out["deploy"]["resources"]["limits"] == {"cpus": "0.5", "memory": "268435456"}
    assert out["deploy"]["placement"]["constraints"] == ["node.labels.homestack.data == true"]
    merged["restart"] = "no"
    assert translate_service(site, service, merged, [])["deploy"]["restart_policy"] == {
        "condition": "none",
        "delay": "2s",
    }


def test_a_changed_secret_value_gets_a_new_name_and_rolls_the_service(tmp_path: Path) -> None:
    site = _site(tmp_path)
    secret = tmp_path / "secrets" / "app_key"
    secret.parent.mkdir()
    secret.write_text("one")
    config = {
        "services": {"app": {"image": "x:1", "secrets": [{"source": "app_key"}]}},
        "secrets": {"app_key": {"name": "ai_app_key", "file": str(secret)}},
        "networks": {"ai-services": {"name": "ai-services", "external": True}},
    }
    members = {"app": site.service("app")}
    first = translate_stack(site, "ai", config, members, {})
    secret.write_text("two")
    second = translate_stack(site, "ai", config, members, {})
    assert first["secrets"]["app_key"]["name"] != second["secrets"]["app_key"]["name"]
    assert first["secrets"]["app_key"]["name"].startswith("ai_app_key_")
    spec = [f["services"]["app"]["deploy"]["labels"][SPEC_LABEL] for f in (first, second)]
    assert spec[0] != spec[1]


def test_gpu_required_is_placed_on_the_labelled_node_or_refused(tmp_path: Path) -> None:
    site = _site(tmp_path, meta="gpu: required", overlay="services:\n  app: {}\n")
    services = [site.service("app")]
    none = place(site, services, [_node("a", **{"homestack.data": "true"}), _node("b")])
    assert none["app"].problem and "requires a GPU" in none["app"].problem
    assert "gpu=nvidia" in (none["app"].hint or "")
    nodes = [
        _node("a", **{"homestack.data": "true"}),
        _node("b", **{"homestack.gpu": "nvidia", "homestack.data.app": "true"}),
    ]
    chosen = place(site, services, nodes)["app"]
    assert chosen.problem is None
    assert chosen.nodes == ("b",)
    # optional GPU on another node than its data: stays with its data, on the CPU
    optional = _site(tmp_path / "opt", meta="gpu: optional", overlay="services:\n  app: {}\n")
    split = [_node("a", **{"homestack.data": "true"}), _node("b", **{"homestack.gpu": "nvidia"})]
    kept = place(optional, [optional.service("app")], split)["app"]
    assert (kept.problem, kept.nodes) == (None, ("a",))
    assert "runs on the CPU" in kept.notes[0]
    assert "node.labels.homestack.gpu == nvidia" in chosen.constraints
    assert "node.labels.homestack.data.app == true" in chosen.constraints


def test_data_bound_service_needs_a_data_node_on_a_multi_node_swarm(tmp_path: Path) -> None:
    site = _site(tmp_path)
    services = [site.service("app")]
    assert place(site, services, [_node("only")])["app"].problem is None  # one node: here
    refused = place(site, services, [_node("a"), _node("b")])["app"]
    assert refused.problem and "homestack.data=true" in refused.problem
    placed = place(site, services, [_node("a"), _node("b", **{"homestack.data": "true"})])
    assert placed["app"].nodes == ("b",)


def test_label_arguments(tmp_path: Path) -> None:
    assert label_args(["gpu=nvidia", "data=true", "zone=attic", "data.app-"]) == (
        {"homestack.gpu": "nvidia", "homestack.data": "true", "zone": "attic"},
        ["homestack.data.app"],
    )
    with pytest.raises(BadInput, match="gpu='tpu'"):
        label_args(["gpu=tpu"])
    with pytest.raises(BadInput, match="KEY=VALUE"):
        label_args(["gpu"])


def test_deploy_mode_is_read_from_env_and_checked(tmp_path: Path) -> None:
    site = _site(tmp_path)
    assert deploy_mode(site) == "swarm"
    (tmp_path / ".env").write_text("DEPLOY_MODE=kubernetes\n")
    with pytest.raises(BadInput, match="neither compose nor swarm"):
        deploy_mode(Site.load(tmp_path))


def test_endpoint_mode_is_vip_by_default_and_dnsrr_when_the_env_says_so(tmp_path: Path) -> None:
    site = _site(tmp_path)
    service = site.service("app")
    merged = {"image": "x:1", "ports": [{"target": 53, "published": "53", "protocol": "udp"}]}
    assert endpoint_mode(site) == "vip"
    (tmp_path / ".env").write_text("DEPLOY_MODE=swarm\nSWARM_ENDPOINT_MODE=dnsrr\n")
    site = Site.load(tmp_path)
    out = translate_service(site, service, merged, [])
    assert out["deploy"]["endpoint_mode"] == "dnsrr"
    assert out["ports"][0]["mode"] == "host"  # dnsrr cannot use the routing mesh


def test_vip_is_refused_on_a_kernel_without_ipvs_naming_the_fix(tmp_path: Path) -> None:
    site = _site(tmp_path / "site")
    bare = tmp_path / "bare"  # a root with no /proc/net/ip_vs and no ip_vs module
    bare.mkdir()
    assert not kernel_has_ipvs(bare)
    with pytest.raises(BadInput) as refused:
        require_endpoint_mode(site, bare)
    assert "no IPVS" in refused.value.message
    assert "SWARM_ENDPOINT_MODE=dnsrr" in (refused.value.hint or "")
    modules = bare / "lib/modules" / os.uname().release / "kernel/net/netfilter/ipvs"
    modules.mkdir(parents=True)
    (modules / "ip_vs.ko.xz").write_bytes(b"")  # a loadable module: docker loads it
    assert kernel_has_ipvs(bare)
    require_endpoint_mode(site, bare)
    (tmp_path / "site" / ".env").write_text("DEPLOY_MODE=swarm\nSWARM_ENDPOINT_MODE=dnsrr\n")
    require_endpoint_mode(Site.load(tmp_path / "site"), tmp_path / "nothing")  # no IPVS needed
