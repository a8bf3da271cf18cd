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
    assert ollama["data"] == {"url": "http://ollama:11434"}
    # the model the ai stack's .env names for every ollama client
    assert ollama["options"] == {"model": "llama3.2:3b"}
    assert ollama["version"] == 1  # Home Assistant migrates it to its current form


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
