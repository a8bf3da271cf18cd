"""The seed of Home Assistant's config entries: Wyoming speech and Ollama, written once."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from homestack.catalog import Site
from homestack.generate import generate_all
from homestack.generate.homeassistant import config_entries, generate
from homestack.generate.run import planned
from homestack.generate.view import CatalogView
from homestack.stackfile import toggle

SEED = Path("homeassistant") / ".storage" / "core.config_entries"
#: every field Home Assistant's loader reads from an entry at storage minor version 5
ENTRY_FIELDS = {
    "created_at",
    "data",
    "disabled_by",
    "discovery_keys",
    "domain",
    "entry_id",
    "minor_version",
    "modified_at",
    "options",
    "pref_disable_new_entities",
    "pref_disable_polling",
    "source",
    "subentries",
    "title",
    "unique_id",
    "version",
}


def _seed(site: Site) -> dict[str, Any]:
    files = [f for f in generate(CatalogView.of(site), site) if f.path.name == SEED.name]
    assert len(files) == 1
    assert files[0].path == site.data_root / SEED
    assert files[0].once and files[0].mode == 0o600
    data: dict[str, Any] = json.loads(files[0].content)
    return data


def _by_domain(store: dict[str, Any], domain: str) -> list[dict[str, Any]]:
    return [e for e in store["data"]["entries"] if e["domain"] == domain]


def test_seed_names_the_enabled_speech_service_and_ollama(site: Site) -> None:
    store = _seed(site)
    wyoming = _by_domain(store, "wyoming")
    # faster-whisper is on in the shipped catalog, piper is off
    assert [e["data"] for e in wyoming] == [{"host": "faster-whisper", "port": 10300}]
    assert wyoming[0]["title"] == "faster-whisper"
    (ollama,) = _by_domain(store, "ollama")
    # version 1 as the integration's config flow wrote it: URL and model in data (the model
    # the ai stack's .env names for every ollama client), conversation options in options
    assert ollama["data"] == {"url": "http://ollama:11434", "model": "llama3.2:3b"}
    assert ollama["options"] == {}
    assert ollama["version"] == 1  # Home Assistant migrates it to its current form


def _ha_ollama_migration(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Home Assistant's migration of version-1 Ollama entries, step by step as upstream wrote
    it, on plain dicts (the upstream fact this test encodes): home-assistant/core
    homeassistant/components/ollama/__init__.py, `async_migrate_integration`, run from
    `async_setup` (the copy read: entries go to version 3, minor 3, as in 2025.10):

    - for each version-1 entry, a "conversation" sub-entry whose data is `entry.options`
      plus `CONF_MODEL` read as `entry.data[CONF_MODEL]` (a KeyError when the entry has no
      model in `data`: setup fails and the integration never loads);
    - entries with the same `data[CONF_URL]` are merged into the first, the others removed;
    - the kept entry gets an "ai_task_data" sub-entry with the first sub-entry's model, its
      `data` becomes `{CONF_URL: …}`, `options` `{}`, version 3, minor version 3.

    Version-1 entries as the config flow made them: `data={"url": …, "model": …}` (core
    tests/components/ollama/test_init.py, test_migration_from_v1_to_v2_with_multiple_urls).
    """
    by_url: dict[str, dict[str, Any]] = {}
    for entry in entries:
        assert entry["version"] == 1
        data = {**entry["options"], "model": entry["data"]["model"]}  # entry.data[CONF_MODEL]
        sub = {"subentry_type": "conversation", "title": entry["title"], "data": data}
        url = entry["data"]["url"]
        if url in by_url:
            by_url[url]["subentries"].append(sub)
        else:
            by_url[url] = {**entry, "subentries": [sub]}
    migrated = []
    for url, entry in by_url.items():
        model = entry["subentries"][0]["data"]["model"]
        task = {"subentry_type": "ai_task_data", "data": {"model": model}}
        migrated.append(
            {
                **entry,
                "data": {"url": url},
                "options": {},
                "subentries": [*entry["subentries"], task],
                "version": 3,
                "minor_version": 3,
            }
        )
    return migrated


def test_ollama_entry_survives_home_assistants_migration(site: Site) -> None:
    """Before, the seed put the model in `options`: the migration's entry.data[CONF_MODEL]
    raised KeyError and the integration never loaded (issue 14, item 2)."""
    (ollama,) = _by_domain(_seed(site), "ollama")
    (entry,) = _ha_ollama_migration([ollama])
    assert entry["data"] == {"url": "http://ollama:11434"}
    conversation, task = entry["subentries"]
    assert conversation["subentry_type"] == "conversation"
    assert conversation["data"] == {"model": "llama3.2:3b"}
    assert task == {"subentry_type": "ai_task_data", "data": {"model": "llama3.2:3b"}}


def test_the_old_shape_fails_home_assistants_migration() -> None:
    """The restated migration is not a check that cannot fail: the shape homestack wrote
    before (model in options) raises the KeyError Home Assistant logged."""
    old = {"version": 1, "title": "x", "data": {"url": "http://ollama:11434"}}
    old["options"] = {"model": "llama3.2:3b"}
    try:
        _ha_ollama_migration([old])
    except KeyError as missing:
        assert missing.args == ("model",)
    else:
        raise AssertionError("the model-in-options entry migrated")


def test_enabling_piper_adds_its_wyoming_entry(site: Site) -> None:
    toggle(site, ["piper"], enable=True)
    store = _seed(Site.load(site.root))
    hosts = {e["data"]["host"]: e["data"]["port"] for e in _by_domain(store, "wyoming")}
    assert hosts == {"faster-whisper": 10300, "piper": 10200}


def test_the_json_has_home_assistants_storage_structure(site: Site) -> None:
    store = _seed(site)
    assert set(store) == {"version", "minor_version", "key", "data"}
    assert (store["version"], store["minor_version"]) == (1, 5)
    assert store["key"] == "core.config_entries"
    entries = store["data"]["entries"]
    assert len(entries) == 2
    for entry in entries:
        assert set(entry) == ENTRY_FIELDS
        assert entry["source"] == "user"
        assert entry["disabled_by"] is None and entry["unique_id"] is None
        assert entry["subentries"] == [] and entry["discovery_keys"] == {}
        assert isinstance(entry["entry_id"], str) and len(entry["entry_id"]) == 32
        assert entry["created_at"] == entry["modified_at"]
    assert len({e["entry_id"] for e in entries}) == len(entries)


def test_entry_ids_are_stable_between_runs(site: Site) -> None:
    first = [e["entry_id"] for e in _seed(site)["data"]["entries"]]
    assert [e["entry_id"] for e in _seed(site)["data"]["entries"]] == first


def test_written_once_then_left_to_home_assistant(site: Site) -> None:
    report = generate_all(site)
    seed = site.data_root / SEED
    assert any(f.path == str(seed) and f.action == "create" for f in report.files)
    assert stat.S_IMODE(seed.stat().st_mode) == 0o600
    assert json.loads(seed.read_text(encoding="utf-8"))["key"] == "core.config_entries"
    # Home Assistant rewrites the store as it runs; homestack must never touch it again
    seed.write_text('{"version": 1, "minor_version": 5, "key": "x", "data": {}}\n')
    again = generate_all(site)
    assert [f.action for f in again.files if f.path == str(seed)] == ["kept"]
    assert json.loads(seed.read_text(encoding="utf-8"))["key"] == "x"


def test_skipped_when_homeassistant_is_disabled(site: Site) -> None:
    toggle(site, ["homeassistant"], enable=False)
    site = Site.load(site.root)
    paths = {f.path for f in planned(site)}
    assert site.data_root / SEED not in paths
    assert site.data_root / "homeassistant" / "configuration.yaml" not in paths


def test_no_seed_without_speech_or_ollama(make_site: Callable[..., Site]) -> None:
    site = make_site()
    toggle(site, ["faster-whisper", "ollama"], enable=False)
    site = Site.load(site.root)
    view = CatalogView.of(site)
    assert config_entries(view, "m")["data"]["entries"] == []
    assert generate(view, site) == []
