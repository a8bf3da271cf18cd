"""docs/catalog.md is generated from the shipped catalog and must match it."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.catalog_doc import DOC_PATH, render_catalog_doc, render_catalog_table

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site() -> Site:
    return Site.load(REPO)


def test_committed_catalog_page_matches_the_service_files(site: Site) -> None:
    committed = (REPO / DOC_PATH).read_text(encoding="utf-8")
    assert committed == render_catalog_doc(site), (
        "docs/catalog.md is stale: run `python -m homestack.catalog_doc` and commit it"
    )


def test_table_has_one_row_per_service_with_image_and_probe(site: Site) -> None:
    table = render_catalog_table(site)
    rows = [line for line in table.splitlines()[2:] if line.startswith("|")]
    assert len(rows) == len(site.services())
    for service in site.services():
        row = next(r for r in rows if f"(`{service.id}`)" in r)
        assert f"`{service.compose['image']}`" in row
        assert row.rstrip().endswith("` |"), f"{service.id} has no health probe in the table"


def test_table_shows_defaults_not_the_local_env(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FASTER_WHISPER_PORT", "1")
    row = next(r for r in render_catalog_table(site).splitlines() if "(`faster-whisper`)" in r)
    assert "10300→10300" in row
    assert "optional (nvidia)" in row


def test_secrets_and_dump_backups_are_listed(site: Site) -> None:
    table = render_catalog_table(site)
    authelia = next(r for r in table.splitlines() if "(`authelia`)" in r)
    assert "`authelia_session_secret`" in authelia
    assert "pause: data, config, secrets" in authelia
    homeassistant = next(r for r in table.splitlines() if "(`homeassistant`)" in r)
    assert "dump `python3 …` → homestack-dump.sql" in homeassistant


def test_wiring_comes_from_configuration_not_prose(site: Site) -> None:
    page = render_catalog_doc(site)
    assert "| open-webui | `ai-services` | `ollama:11434` |" in page
    assert (
        "| alloy | `management-services`, `docker-api` | `loki:3100`, `socket-proxy:2375` |" in page
    )
    # Home Assistant's description names its peers, but nothing in its file points at them
    homeassistant = next(line for line in page.splitlines() if line.startswith("| homeassistant |"))
    assert homeassistant.endswith("| — |")
