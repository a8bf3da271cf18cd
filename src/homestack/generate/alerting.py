"""Alertmanager and ntfy: where alerts go, and the topic they arrive on.

Alertmanager routes every alert to one receiver, the site's channel: the catalog's ntfy
topic when ntfy is enabled (its webhook template `alertmanager` turns the JSON into a
readable push), else a webhook the user sets in ALERTMANAGER_WEBHOOK_URL. The publisher
token (secrets/ntfy_publisher_token) reaches Alertmanager as a 0600 file in its config
folder and ntfy in its server.yml (0600): never in a world-readable file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ..modes import PRIVATE_MODE
from .files import GeneratedFile
from .view import CatalogView, dump_yaml

NTFY = "ntfy:8080"
DEFAULT_TOPIC = "homestack"
PUBLISHER = "homestack"  # the ntfy user the token belongs to
TOKEN_SECRET = "ntfy_publisher_token"
TOKEN_FILE = "ntfy_token"  # in DATA/config/alertmanager, mounted at /etc/alertmanager
#: grouping and timing of notifications (tests shorten them in their copies)
GROUP_WAIT = "30s"
GROUP_INTERVAL = "5m"
REPEAT_INTERVAL = "4h"
_BCRYPT = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def topic(view: CatalogView) -> str:
    return (view.env_for("ntfy").get("NTFY_TOPIC") or DEFAULT_TOPIC).strip() or DEFAULT_TOPIC


def publisher_token(secrets_dir: Path) -> str | None:
    try:
        value = (secrets_dir / TOKEN_SECRET).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return value or None


def _no_password(token: str) -> str:
    """A well-formed bcrypt hash that no password matches (the publisher logs in with its
    token only); derived from the token so the file stays the same from run to run."""
    digest = hashlib.sha512(token.encode("utf-8")).digest()
    return "$2a$10$" + "".join(_BCRYPT[b % 64] for b in digest[:53])


def ntfy_config(view: CatalogView, token: str | None) -> dict[str, Any]:
    host = f"ntfy.{view.domain}"
    for route in view.routes():
        if route.service == "ntfy":
            host = route.host  # its x-homestack.web subdomain
    out: dict[str, Any] = {
        "base-url": view.url(host),
        "listen-http": ":8080",
        "behind-proxy": True,
        "cache-file": "/var/lib/ntfy/cache.db",
        "cache-duration": "72h",
        "auth-file": "/var/lib/ntfy/auth.db",
        "auth-default-access": "deny-all",
        "enable-login": True,
        "enable-signup": False,
    }
    if token is not None:
        out["auth-users"] = [f"{PUBLISHER}:{_no_password(token)}:user"]
        out["auth-access"] = [f"{PUBLISHER}:{topic(view)}:wo"]
        out["auth-tokens"] = [f"{PUBLISHER}:{token}:homestack and Alertmanager"]
    return out


def receiver(view: CatalogView, token_file: str | None) -> dict[str, Any]:
    hook: dict[str, Any] | None = None
    if view.is_on("ntfy"):
        hook = {"url": f"http://{NTFY}/{topic(view)}?template=alertmanager"}
        if token_file is not None:
            hook["http_config"] = {
                "authorization": {"type": "Bearer", "credentials_file": token_file}
            }
    elif url := view.env_for("alertmanager").get("ALERTMANAGER_WEBHOOK_URL", "").strip():
        hook = {"url": url}
    if hook is None:  # no channel: alerts stay in Alertmanager's UI (doctor says so)
        return {"name": "site"}
    return {"name": "site", "webhook_configs": [{**hook, "send_resolved": True}]}


def alertmanager_config(view: CatalogView, token_file: str | None) -> dict[str, Any]:
    held = 'alertname=~"ServiceDown|ScrapeTargetDown|ContainerRestarting"'
    return {
        "route": {
            "receiver": "site",
            "group_by": ["alertname", "stack", "service"],
            "group_wait": GROUP_WAIT,
            "group_interval": GROUP_INTERVAL,
            "repeat_interval": REPEAT_INTERVAL,
        },
        "receivers": [receiver(view, token_file)],
        "inhibit_rules": [
            # a host that is down: its services' alerts say nothing more
            {
                "source_matchers": ['alertname="HostDown"'],
                "target_matchers": [held],
                "equal": ["host"],
            },
            # a whole stack down: one message for the stack, not one per service
            {
                "source_matchers": ['alertname="StackDown"'],
                "target_matchers": [held],
                "equal": ["stack"],
            },
            # a critical alert holds back the warnings about the same service
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="warning"'],
                "equal": ["alertname", "service"],
            },
        ],
    }


def alertmanager(view: CatalogView, secrets_dir: Path) -> list[GeneratedFile]:
    folder = view.config_dir("alertmanager")
    token = publisher_token(secrets_dir) if view.is_on("ntfy") else None
    inside = f"/etc/alertmanager/{TOKEN_FILE}" if token else None
    out = [
        GeneratedFile(
            "alertmanager",
            folder / "alertmanager.yml",
            dump_yaml(alertmanager_config(view, inside), "where alerts go"),
        )
    ]
    if token:
        out.append(GeneratedFile("alertmanager", folder / TOKEN_FILE, token + "\n", PRIVATE_MODE))
    return out


def ntfy(view: CatalogView, secrets_dir: Path) -> list[GeneratedFile]:
    config = ntfy_config(view, publisher_token(secrets_dir))
    text = dump_yaml(config, "push notifications; holds the publisher token")
    return [GeneratedFile("ntfy", view.config_dir("ntfy") / "server.yml", text, PRIVATE_MODE)]
