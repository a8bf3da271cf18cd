"""`homestack ls` rows: enabled or not, GPU need, interpolated ports, web UI."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.errors import UnknownName
from homestack.inventory import inventory
from testkit.sites import make_site


@pytest.fixture(autouse=True)
def _no_site_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("HOMESTACK_PREFIX", "BIND_ADDRESS", "OLLAMA_PORT"):
        monkeypatch.delenv(key, raising=False)


def test_rows_in_listed_order_then_unlisted(tmp_path: Path) -> None:
    result = inventory(Site.load(make_site(tmp_path)))
    assert [(r.stack, r.service, r.enabled) for r in result.services] == [
        ("ai", "ollama", True),
        ("ai", "webui", True),
        ("ai", "whisper", False),
        ("essentials", "proxy", True),
    ]
    rows = {r.service: r for r in result.services}
    assert rows["ollama"].gpu == "optional"
    assert rows["proxy"].critical is True
    assert rows["webui"].web == ":8080/"
    assert rows["ollama"].file == "ai-stack/services/ollama.docker-compose.yaml"
    stacks = {s.stack: s for s in result.stacks}
    assert (stacks["ai"].enabled, stacks["ai"].total) == (2, 3)
    assert stacks["ai"].depends_on == ["essentials"]


def test_ports_are_interpolated_with_the_stack_layers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_site(tmp_path, {"ai-stack/.env": "OLLAMA_PORT=12000\n"})
    rows = {r.service: r for r in inventory(Site.load(tmp_path)).services}
    assert rows["ollama"].ports == ["127.0.0.1:12000->11434/tcp"]
    assert rows["proxy"].ports == ["127.0.0.1:8443->443/tcp"]
    monkeypatch.setenv("BIND_ADDRESS", "192.0.2.1")
    rows = {r.service: r for r in inventory(Site.load(tmp_path)).services}
    assert rows["proxy"].ports == ["192.0.2.1:8443->443/tcp"]


def test_selection_by_name(tmp_path: Path) -> None:
    site = Site.load(make_site(tmp_path))
    assert [r.service for r in inventory(site, ["webui"]).services] == ["webui"]
    assert [r.service for r in inventory(site, ["essentials"]).services] == ["proxy"]
    with pytest.raises(UnknownName):
        inventory(site, ["nope"])


def test_to_data_round_trips_through_json(tmp_path: Path) -> None:
    import json

    data = json.loads(json.dumps(inventory(Site.load(make_site(tmp_path))).to_data()))
    assert {"stacks", "services", "problems"} == set(data)
    assert data["services"][0]["service"] == "ollama"


def test_a_service_listed_twice_is_one_row(tmp_path: Path) -> None:
    make_site(tmp_path, {"ai-stack/stack.yaml": "services:\n  - ollama\n  - webui\n  - ollama\n"})
    result = inventory(Site.load(tmp_path), ["ai"])
    assert [r.service for r in result.services] == ["ollama", "webui", "whisper"]


def test_broken_files_are_counted_so_ls_does_not_look_all_off(tmp_path: Path) -> None:
    make_site(tmp_path, {"ai-stack/stack.yaml": "services: [\n"})
    site = Site.load(tmp_path)
    assert {r.enabled for r in inventory(site, ["ai"]).services} == {False}
    assert inventory(site, ["ai"]).problems == 1  # ls says so: run homestack validate
    assert inventory(site, ["essentials"]).problems == 0
    assert inventory(site).to_data()["problems"] == 1
