"""Sign-on headers count only from the proxy (real engine, the shipped catalog rehearsed
with stand-ins): Caddy holds the fixed signon-proxy address that Grafana's whitelist and
Home Assistant's trusted_proxies name, Dozzle (which cannot restrict whom it trusts)
shares no network with any other container, and a stand-in on management-services or
ai-services that sends a forged `Remote-User: admin` / `X-Forwarded-For` reaches the
trusting services only from an address they do not trust, or not at all.

The stand-ins cannot judge headers themselves (they are busybox, not Grafana): what is
checked is what the real services' trust rests on, on the real engine: who holds the
trusted address, and who can reach whom.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from homestack.catalog import Site
from homestack.deploy.up import up
from homestack.engine import docker as engine
from testkit.engine import docker
from testkit.sites import copy_catalog

pytestmark = pytest.mark.integration
FORGED = "GET / HTTP/1.0\\r\\nRemote-User: admin\\r\\nX-Forwarded-For: 127.0.0.1\\r\\n\\r\\n"


def _send(box: str, host: str, port: int) -> bool:
    """A request with forged sign-on headers from `box`; True when anything answered."""
    request = f"printf '{FORGED}' | timeout 3 nc -w 2 {host} {port}"
    done = docker("exec", box, "sh", "-c", request, check=False)
    return done.stdout.startswith("HTTP/1.")


def _container(prefix: str, project: str, service: str) -> str:
    return f"{prefix}{project}-{service}-1"


def test_forged_headers_reach_the_trusting_services_only_from_untrusted_addresses(
    tmp_path: Path, standin_image: str, engine_cleanup: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = engine_cleanup
    monkeypatch.setenv("HOMESTACK_PREFIX", prefix)
    site = Site.load(copy_catalog(tmp_path / "site"))
    result = up(site, ["caddy", "grafana", "dozzle", "homeassistant"], stand_in="", timeout=240)
    assert result.ok, [(r.service, r.state, r.detail) for r in result.services]
    trusted = site.root_env["HOMESTACK_SIGNON_PROXY"]
    signon = prefix + "signon-proxy"

    # Caddy holds the trusted address; Grafana and Home Assistant trust it alone
    caddy = engine.inspect_container(_container(prefix, "essentials", "caddy"))
    assert caddy is not None and caddy.networks[signon] == trusted
    grafana = _container(prefix, "management", "grafana")
    env = json.loads(docker("inspect", "-f", "{{json .Config.Env}}", grafana).stdout)
    assert f"GF_AUTH_PROXY_WHITELIST={trusted}" in env
    ha_config = yaml.safe_load(
        (site.data_root / "homeassistant" / "configuration.yaml").read_text()
    )
    assert ha_config["http"]["trusted_proxies"] == [trusted]

    # Dozzle shares a network with nothing but Caddy, the prober and the socket proxy
    dozzle = engine.inspect_container(_container(prefix, "management", "dozzle"))
    assert dozzle is not None
    assert set(dozzle.networks) == {signon, prefix + "docker-api"}

    forgers = {}
    for network in ("management-services", "ai-services"):
        forgers[network] = f"{prefix}forger-{network}"
        docker(
            "run", "-d", "--name", forgers[network], "--label", "homestack.test=1",
            "--dns", "127.0.0.1", "--network", prefix + network, standin_image,
            "sh", "-c", "exec sleep 600",
        )  # fmt: skip
    for network, box in forgers.items():
        box_ip = engine.inspect_container(box)
        assert box_ip is not None and box_ip.networks[prefix + network] != trusted
    management, ai = forgers["management-services"], forgers["ai-services"]
    # Dozzle, and the aliases the proxy uses, are out of reach
    assert not _send(management, "dozzle", 8080)
    assert not _send(management, "signon-dozzle", 8080)
    assert not _send(management, "signon-grafana", 3000)
    assert not _send(ai, "signon-homeassistant", 8123)
    assert not _send(management, dozzle.networks[signon], 8080)
    # Grafana and Home Assistant answer the forger, from its own (untrusted) address
    assert _send(management, "grafana", 3000)
    assert _send(ai, "homeassistant", 8123)
    # the proxy reaches each of them by the alias, from the trusted address
    caddy_name = _container(prefix, "essentials", "caddy")
    for host, port in (("signon-dozzle", 8080), ("signon-grafana", 3000)):
        assert _send(caddy_name, host, port), host
    assert _send(caddy_name, "signon-homeassistant", 8123)
