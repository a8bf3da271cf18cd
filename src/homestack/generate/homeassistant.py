"""Home Assistant's integrations for the AI stack, seeded as config entries.

Wyoming (speech to text with faster-whisper, text to speech with piper) and Ollama (the
conversation agent) are config-flow integrations: Home Assistant keeps them in
`.storage/core.config_entries`, a JSON store it owns, and they have no YAML form. homestack
writes a first version of that store into the folder Home Assistant mounts as /config, once:
only while the file does not exist, so Home Assistant (and the user, through its UI) owns it
from its first start on.

The format is Home Assistant's storage envelope (`version` 1, `minor_version` 5, `key`,
`data.entries`) with every field an entry has at minor version 5. The Ollama entry is
written in the integration's first entry format, version 1, as its config flow created it:
the URL *and the model* in `data`, the conversation options (none here) in `options`.
Home Assistant's own migration turns it into the current one when it sets the integration
up (homeassistant/components/ollama/__init__.py, async_migrate_integration: each version-1
entry becomes a conversation sub-entry of `options` plus the model read as
`entry.data[CONF_MODEL]` - a version-1 entry without `data["model"]` fails setup with
KeyError - and the entry keeps only the URL, at version 3), so the seed does not depend on
which entry version the pinned image expects.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from ..catalog import Site
from ..modes import PRIVATE_MODE
from .files import GeneratedFile
from .view import CatalogView, container_ports

STORAGE_KEY = "core.config_entries"
STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 5
#: Wyoming services in the catalog, with the port each serves when its file names none
WYOMING_SERVICES = {"faster-whisper": 10300, "piper": 10200}
OLLAMA_URL = "http://ollama:11434"
DEFAULT_MODEL = "llama3.2:3b"
_IDS = uuid.UUID("3b0f7f1e-6f0b-4f57-9f3c-2c6a8e0d9a51")


def _entry_id(domain: str, key: str) -> str:
    """A stable id per integration target, in the 32-hex form Home Assistant also reads."""
    return uuid.uuid5(_IDS, f"homestack/{domain}/{key}").hex


def _entry(
    domain: str, key: str, title: str, data: dict[str, Any], options: dict[str, Any], now: str
) -> dict[str, Any]:
    return {
        "created_at": now,
        "data": data,
        "disabled_by": None,
        "discovery_keys": {},
        "domain": domain,
        "entry_id": _entry_id(domain, key),
        "minor_version": 1,
        "modified_at": now,
        "options": options,
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "subentries": [],
        "title": title,
        "unique_id": None,
        "version": 1,
    }


def config_entries(view: CatalogView, model: str, now: datetime | None = None) -> dict[str, Any]:
    """The whole `core.config_entries` store for the enabled speech services and ollama."""
    stamp = (now or datetime.now(UTC)).isoformat()
    entries: list[dict[str, Any]] = []
    for service in view.enabled:
        if service.id not in WYOMING_SERVICES:
            continue
        tcp = [port for port, protocol in container_ports(service) if protocol == "tcp"]
        port = tcp[0] if tcp else WYOMING_SERVICES[service.id]
        data = {"host": service.id, "port": port}
        entries.append(_entry("wyoming", service.id, service.id, data, {}, stamp))
    if view.is_on("ollama"):
        entries.append(
            _entry(
                "ollama",
                OLLAMA_URL,
                OLLAMA_URL,
                {"url": OLLAMA_URL, "model": model},
                {},
                stamp,
            )
        )
    return {
        "version": STORAGE_VERSION,
        "minor_version": STORAGE_MINOR_VERSION,
        "key": STORAGE_KEY,
        "data": {"entries": entries},
    }


def generate(view: CatalogView, site: Site) -> list[GeneratedFile]:
    """The seed of `DATA/homeassistant/.storage/core.config_entries` (written once)."""
    model = DEFAULT_MODEL
    for service in site.services():
        if service.id == "homeassistant":  # the model its stack's .env names for ollama
            env = site.stack_env(site.stacks[service.stack])
            model = env.get("OLLAMA_DEFAULT_MODEL") or DEFAULT_MODEL
    store = config_entries(view, model)
    if not store["data"]["entries"]:
        return []
    path = view.data_root / "homeassistant" / ".storage" / STORAGE_KEY
    content = json.dumps(store, indent=2, ensure_ascii=False) + "\n"
    return [GeneratedFile("homeassistant", path, content, mode=PRIVATE_MODE, once=True)]
