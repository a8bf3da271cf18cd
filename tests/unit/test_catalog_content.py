"""The shipped catalog keeps the house conventions, service by service.

The lint rules check these on any site; here they are pinned down for the catalog we ship,
including the parts no rule covers (TZ, the exact port and volume shapes, the shims).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from homestack.catalog import Service, Site
from homestack.lint import Severity, lint_site

REPO = Path(__file__).resolve().parents[2]
SITE = Site.load(REPO)
SERVICES = SITE.services()
IDS = [s.id for s in SERVICES]


def _compose(service: Service) -> dict[str, Any]:
    return service.compose


def test_the_shipped_catalog_has_no_lint_errors() -> None:
    errors = [
        f"{f.rule} {f.file.name}:{f.line} {f.message}"
        for f in lint_site(SITE, host_ports=False)
        if f.severity is Severity.ERROR
    ]
    assert errors == []


def test_every_stack_has_its_shim_and_settings() -> None:
    for stack in SITE.stacks.values():
        shim = stack.dir / "install-stack.sh"
        assert os.access(shim, os.X_OK), f"{shim} is not executable"
        text = shim.read_text(encoding="utf-8")
        assert text.startswith("#!/usr/bin/env bash\n")
        assert f'/../install-stack.sh" --stack {stack.id} "$@"' in text
        assert (stack.dir / ".env.example").is_file()
        assert stack.meta.description
        if stack.id != "essentials":
            assert stack.meta.depends_on == ["essentials"]


@pytest.mark.parametrize("service", SERVICES, ids=IDS)
def test_service_is_locked_down_and_limited(service: Service) -> None:
    compose = _compose(service)
    assert compose["restart"] == "unless-stopped"
    assert "no-new-privileges:true" in compose["security_opt"]
    assert compose["cap_drop"] == ["ALL"]
    assert not compose.get("privileged")
    limits = compose["deploy"]["resources"]["limits"]
    prefix = service.id.upper().replace("-", "_")
    assert limits["cpus"].startswith(f"${{{prefix}_CPUS:-")
    assert limits["memory"].startswith(f"${{{prefix}_MEMORY:-")
    cpus = float(re.search(r":-([\d.]+)\}", limits["cpus"]).group(1))  # type: ignore[union-attr]
    assert cpus <= 2, "Docker refuses a CPU limit above the host's cores; 2 fits small hosts"
    assert compose["environment"]["TZ"] == "${TZ:-Etc/UTC}"
    tag = compose["image"].rsplit("/", 1)[-1].partition(":")[2]
    assert re.match(r"v?\d", tag), f"{compose['image']} is not pinned to a release"
    test = compose["healthcheck"]["test"]
    assert test[0] == "CMD" and len(test) > 1


@pytest.mark.parametrize("service", SERVICES, ids=IDS)
def test_ports_bind_to_the_configured_address(service: Service) -> None:
    prefix = service.id.upper().replace("-", "_")
    # a UI behind sign-on that opts in to a host port (web.publish) binds loopback only
    web = service.meta.web if service.meta else None
    for entry in _compose(service).get("ports") or []:
        ui = web is not None and web.auth and entry.split("/")[0].endswith(f":{web.port}")
        address = r"127\.0\.0\.1" if ui else r"\$\{BIND_ADDRESS:-127\.0\.0\.1\}"
        assert re.fullmatch(
            rf"{address}:\$\{{{prefix}(_[A-Z]+)*_PORT:-\d+\}}:\d+(/udp|/tcp)?",
            entry,
        ), entry


@pytest.mark.parametrize("service", SERVICES, ids=IDS)
def test_data_volume_and_secrets_follow_the_seed_names(service: Service) -> None:
    data = service.doc.data if service.doc else {}
    volumes = data.get("volumes") or {}
    for key, spec in volumes.items():
        assert key == f"{service.stack}_{service.id}_data"
        assert spec["name"] == "${HOMESTACK_PREFIX:-}" + key
        assert spec["driver_opts"]["device"].endswith(f"}}/{service.id}")
    declared = {f"{service.id}_{s.name}" for s in (service.meta.secrets if service.meta else [])}
    top = data.get("secrets") or {}
    assert set(top) == declared
    for name, spec in top.items():
        assert spec == {"file": "${SECRETS_DIR:-./secrets}/" + name}
    assert set(_compose(service).get("secrets") or []) == declared
    for mount in _compose(service).get("volumes") or []:
        source = str(mount).split(":", 1)[0]
        if service.id == "socket-proxy":
            continue  # its one mount is checked below
        if service.id == "cadvisor" and str(mount).startswith("${DOCKER_ROOT:-/var/lib/docker}/"):
            assert str(mount).endswith("/image:ro")  # layer ids only, read-only (#3677)
            continue
        assert source.startswith(("${DATA_ROOT", "${MEDIA_ROOT", "/sys", f"{service.stack}_"))
        if source.startswith("${DATA_ROOT") and "/config/" in source:
            assert source.endswith(f"/config/{service.id}")


def test_only_the_socket_proxy_mounts_the_docker_socket() -> None:
    mounting = [
        s.id
        for s in SERVICES
        if any("docker.sock" in str(v) for v in _compose(s).get("volumes") or [])
    ]
    assert mounting == ["socket-proxy"]
    proxy = SITE.service("socket-proxy")
    assert _compose(proxy)["volumes"] == [
        "/var/run/docker.sock:/var/run/docker.sock:ro",
        # its generated allow-list (tests/integration/test_socket_proxy_filter.py)
        "${DATA_ROOT:?DATA_ROOT is set by homestack}/config/socket-proxy"
        ":/usr/local/etc/haproxy/homestack:ro",
    ]
    assert _compose(proxy)["networks"] == ["docker-api"]
    assert "ports" not in _compose(proxy)
    assert proxy.doc is not None
    assert proxy.doc.data["networks"]["docker-api"]["internal"] is True


def test_docker_api_clients_define_the_same_internal_network() -> None:
    proxy = SITE.service("socket-proxy")
    assert proxy.doc is not None
    expected = proxy.doc.data["networks"]["docker-api"]
    clients = [s for s in SERVICES if "docker-api" in (_compose(s).get("networks") or [])]
    assert {s.id for s in clients} >= {"dozzle", "cadvisor", "alloy"}
    for client in clients:
        assert client.doc is not None
        assert client.doc.data["networks"]["docker-api"] == expected, client.id
        assert "socket-proxy" in (client.meta.depends_on if client.meta else []) or (
            client.id == "socket-proxy"
        )


def test_gpu_overlays_exist_for_every_gpu_capable_service() -> None:
    wanted = {
        "ollama": {"nvidia", "amd"},
        "faster-whisper": {"nvidia"},
        "libretranslate": {"nvidia"},
        "jellyfin": {"nvidia", "intel", "amd"},
        "tdarr": {"nvidia", "intel", "amd"},
        "dcgm-exporter": {"nvidia"},
    }
    for service in SERVICES:
        gpu = service.meta.gpu if service.meta else "none"
        kinds = set(service.overlays) - {"iot"}
        assert kinds == wanted.get(service.id, set()), service.id
        assert (gpu != "none") == bool(kinds), service.id
    assert set(SITE.service("homeassistant").overlays) == {"iot"}


def test_wiring_names_the_services_it_reaches() -> None:
    webui = _compose(SITE.service("open-webui"))["environment"]
    assert webui["OLLAMA_BASE_URL"] == "http://ollama:11434"
    anything = _compose(SITE.service("anythingllm"))["environment"]
    assert anything["OLLAMA_BASE_PATH"] == "http://ollama:11434"
    for client in ("dozzle", "alloy", "cadvisor", "diun"):
        service = SITE.service(client)
        assert service.doc is not None
        # alloy names it in its inline configuration (top-level configs)
        assert "tcp://socket-proxy:2375" in str(service.doc.data), client
    caddy_networks = set(_compose(SITE.service("caddy"))["networks"])
    assert caddy_networks == {
        "essential-services",
        "ai-services",
        "media-services",
        "management-services",
        "signon-proxy",
    }


def test_services_that_trust_the_sign_on_header_publish_no_port() -> None:
    for name in ("dozzle", "grafana"):
        assert "ports" not in _compose(SITE.service(name)), name


def test_header_trusting_services_meet_caddy_on_signon_proxy_only_by_their_alias() -> None:
    """Grafana, Dozzle and Home Assistant take the user from headers: they sit on
    signon-proxy with an alias only there, Caddy has its fixed address there, Grafana
    trusts that address alone, and Dozzle (which cannot restrict) shares no other network
    with anything but the socket proxy."""
    caddy = _compose(SITE.service("caddy"))["networks"]["signon-proxy"]
    assert caddy == {
        "ipv4_address": "${HOMESTACK_SIGNON_PROXY:?HOMESTACK_SIGNON_PROXY is set by homestack}"
    }
    for name in ("grafana", "dozzle", "homeassistant"):
        networks = _compose(SITE.service(name))["networks"]
        assert networks["signon-proxy"] == {"aliases": [f"signon-{name}"]}, name
    assert set(_compose(SITE.service("dozzle"))["networks"]) == {"signon-proxy", "docker-api"}
    grafana = _compose(SITE.service("grafana"))["environment"]
    assert grafana["GF_AUTH_PROXY_WHITELIST"] == caddy["ipv4_address"]
    assert SITE.service("prometheus").compose["command"]
    assert "--web.enable-lifecycle" not in _compose(SITE.service("prometheus"))["command"]


def test_disabled_by_default_as_the_issue_says() -> None:
    off = {s.id for s in SERVICES if not s.enabled}
    assert off == {"piper", "blocky", "diun", "dcgm-exporter"}
