"""The dashboard's own route (`homestack serve` runs on the host, not in a stack).

Its host is homestack.{DOMAIN} (DASHBOARD_SUBDOMAIN changes it): home.{DOMAIN} belongs to
Home Assistant in the catalog. Caddy reaches it at host.docker.internal (the caddy service
maps that name to the host's gateway address); the route is behind the same sign-on as
every web UI, and Authelia lets only the admins group through (two factors).
DASHBOARD_ROUTE=off leaves both out.
"""

from __future__ import annotations

from typing import Any

from ..errors import BadInput
from .view import CatalogView, Route

SUBDOMAIN = "homestack"
DEFAULT_PORT = "8765"


def route(view: CatalogView) -> Route | None:
    env = view.env_for("caddy")
    if env.get("DASHBOARD_ROUTE", "").strip().lower() in ("off", "no", "false", "0"):
        return None
    port = env.get("DASHBOARD_PORT", "").strip() or DEFAULT_PORT
    upstream = env.get("DASHBOARD_UPSTREAM", "").strip() or f"host.docker.internal:{port}"
    host = f"{env.get('DASHBOARD_SUBDOMAIN', '').strip() or SUBDOMAIN}.{view.domain}"
    for taken in view.routes():
        if taken.host.lower() == host.lower():
            raise BadInput(
                f"the dashboard's host {host} is also the host of {taken.service}",
                "Set DASHBOARD_SUBDOMAIN in .env to another name (or DASHBOARD_ROUTE=off).",
                file=view.site_root / ".env",
            )
    return Route(
        "homestack",
        "host",
        "homestack dashboard",
        "The site in a browser: status, logs, actions, catalog, backups.",
        host,
        upstream,
        True,
        f"http://{upstream}/login",
        view.url(host),
    )


def access_rules(view: CatalogView) -> list[dict[str, Any]]:
    """Authelia rules for the dashboard's host, put before the catch-all one."""
    found = route(view)
    if found is None:
        return []
    return [{"domain": [found.host], "policy": "two_factor", "subject": ["group:admins"]}]
