"""The smaller generated files: Grafana datasources, Samba users and share, Blocky, Home
Assistant's reverse-proxy settings."""

from __future__ import annotations

from typing import Any

from ..modes import PRIVATE_MODE
from .files import GeneratedFile
from .view import CatalogView, dump_yaml


def grafana(view: CatalogView) -> list[GeneratedFile]:
    sources: list[dict[str, Any]] = []
    if view.is_on("prometheus"):
        sources.append(
            {
                "name": "Prometheus",
                "type": "prometheus",
                "uid": "prometheus",
                "access": "proxy",
                "url": "http://prometheus:9090",
                "isDefault": True,
                "editable": False,
            }
        )
    if view.is_on("loki"):
        sources.append(
            {
                "name": "Loki",
                "type": "loki",
                "uid": "loki",
                "access": "proxy",
                "url": "http://loki:3100",
                "isDefault": not sources,
                "editable": False,
            }
        )
    data = {"apiVersion": 1, "datasources": sources}
    files = [view.yaml_file("grafana", "datasources/homestack.yaml", data, "datasources")]
    # DATA/config/grafana is mounted over /etc/grafana/provisioning, hiding the image's empty
    # dashboards/, alerting/ and plugins/ folders, and Grafana logs an error for each one it
    # cannot read at start: each gets a valid, empty provisioning file
    empty = {
        "dashboards": {"apiVersion": 1, "providers": []},
        "alerting": {"apiVersion": 1},
        "plugins": {"apiVersion": 1, "apps": []},
    }
    for kind, content in empty.items():
        files.append(view.yaml_file("grafana", f"{kind}/homestack.yaml", content, f"no {kind} yet"))
    return files


def samba(view: CatalogView, uid: int, gid: int) -> list[GeneratedFile]:
    user = view.env_for("samba").get("SAMBA_USER") or "homestack"
    data = {
        "auth": [
            {
                "user": user,
                "group": user,
                "uid": uid,
                "gid": gid,
                "password_file": "/run/secrets/samba_password",
            }
        ],
        # crazymax/samba reads no SAMBA_SERVER_MIN_PROTOCOL (its 01-config.sh reads only the
        # SAMBA_* names in the facts file); options go in `global:`, appended to [global]
        "global": [
            "force user = " + user,
            "force group = " + user,
            "server min protocol = SMB3",
        ],
        "share": [
            {
                "name": "shared",
                "path": "/samba/shared",
                "browsable": "yes",
                "readonly": "no",
                "guestok": "no",
                "validusers": user,
                "writelist": user,
                "veto": "no",
            }
        ],
    }
    path = view.config_dir("samba") / "config.yml"
    return [GeneratedFile("samba", path, dump_yaml(data, "users and shares"))]


def blocky(view: CatalogView) -> list[GeneratedFile]:
    data: dict[str, Any] = {
        "upstreams": {
            "groups": {
                "default": [
                    "https://dns.quad9.net/dns-query",
                    "https://cloudflare-dns.com/dns-query",
                ]
            }
        },
        "bootstrapDns": ["tcp+udp:9.9.9.9", "tcp+udp:1.1.1.1"],
        "blocking": {
            "denylists": {
                "ads": ["https://raw.githubusercontent.com/StevenBlack/hosts/master/hosts"]
            },
            "clientGroupsBlock": {"default": ["ads"]},
        },
        "ports": {"dns": 53, "http": 4000},
        "prometheus": {"enable": True},
        "log": {"level": "info"},
    }
    blocky_env = view.env_for("blocky")
    address = blocky_env.get("LAN_IP") or view.lan_address
    if address and address not in ("127.0.0.1", "0.0.0.0", "::", "::1"):  # noqa: S104
        # every *.DOMAIN name answers with this server's LAN address
        data["customDNS"] = {"mapping": {view.domain: address}}
    path = view.config_dir("blocky") / "config.yml"
    return [GeneratedFile("blocky", path, dump_yaml(data, "LAN DNS"))]


def homeassistant(view: CatalogView) -> list[GeneratedFile]:
    """Home Assistant keeps its configuration in its data folder (it edits it itself), so
    homestack writes a first configuration.yaml there once; Wyoming and Ollama are set up in
    its UI (they are config-flow integrations with no YAML form)."""
    data = {
        "default_config": None,
        # X-Forwarded-For counts only from Caddy's fixed address on signon-proxy, where
        # it reaches Home Assistant (not from every private range: any container)
        "http": {"use_x_forwarded_for": True, "trusted_proxies": [view.signon_proxy]},
    }
    path = view.data_root / "homeassistant" / "configuration.yaml"
    return [
        GeneratedFile(
            "homeassistant",
            path,
            dump_yaml(data, "first configuration", once=True),
            once=True,
        )
    ]


def anythingllm(view: CatalogView) -> list[GeneratedFile]:
    """AnythingLLM keeps its encryption key (SIG_KEY, SIG_SALT) and the settings chosen in its
    UI in /app/server/.env, rewritten in place (updateENV.js, dumpENV, v1.9.1). Its service
    file bind-mounts DATA/anythingllm/.env there; a bind mount of a missing file would make
    Docker create a folder in its place, so the file is seeded, empty, once: AnythingLLM
    owns it from its first start on, and it is backed up with the data."""
    path = view.data_root / "anythingllm" / ".env"
    content = (
        "# Written once by homestack: AnythingLLM keeps its encryption key (SIG_KEY, SIG_SALT)\n"
        "# and its settings here; homestack will not rewrite it. Keep it with the data.\n"
    )
    return [GeneratedFile("anythingllm", path, content, mode=PRIVATE_MODE, once=True)]
