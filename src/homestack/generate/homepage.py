"""Homepage: services.yaml (every enabled web UI, grouped by stack) and settings.yaml."""

from __future__ import annotations

from typing import Any

from .files import GeneratedFile
from .view import CatalogView


def services(view: CatalogView) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for route in view.routes():
        # no siteMonitor: Homepage sits on essential-services only; Prometheus does health
        entry: dict[str, Any] = {"href": route.url, "description": route.summary}
        group = view.stack_titles.get(route.stack, route.stack.title())
        groups.setdefault(group, []).append({route.title: entry})
    return [{group: entries} for group, entries in groups.items()]


def settings(view: CatalogView) -> dict[str, Any]:
    return {
        "title": view.env_for("homepage").get("HOMEPAGE_TITLE") or "homestack",
        "headerStyle": "clean",
        "layout": {group: {"style": "row", "columns": 3} for group in view.stack_titles.values()},
    }


def generate(view: CatalogView) -> list[GeneratedFile]:
    return [
        view.yaml_file("homepage", "services.yaml", services(view), "every enabled web UI"),
        view.yaml_file("homepage", "settings.yaml", settings(view), "settings"),
    ]
