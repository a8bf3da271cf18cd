"""The dashboard's route in the generated Caddyfile and its Authelia rule (admins only)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from homestack.catalog import Site
from homestack.errors import BadInput
from homestack.generate import authelia, caddy
from homestack.generate.view import CatalogView


def _block(text: str, host: str) -> str:
    start = text.index(f"\n{host} {{\n")
    return text[start : text.index("\n}", start)]


def test_the_dashboard_is_routed_to_the_host_behind_sign_on(site: Site) -> None:
    text = caddy.generate(CatalogView.of(site))[0].content
    block = _block(text, "homestack.lab.home.arpa")
    assert "import sign_on" in block
    assert "reverse_proxy host.docker.internal:8765" in block


def test_its_port_and_subdomain_come_from_the_settings(make_site: Callable[..., Site]) -> None:
    site = make_site(DASHBOARD_PORT="9000", DASHBOARD_SUBDOMAIN="admin")
    text = caddy.generate(CatalogView.of(site))[0].content
    assert "reverse_proxy host.docker.internal:9000" in _block(text, "admin.lab.home.arpa")


def test_only_admins_pass_with_two_factors(site: Site, tmp_path: Path) -> None:
    files = authelia.generate(CatalogView.of(site), tmp_path / "secrets", dry_run=False)
    rules = yaml.safe_load(files[0].content)["access_control"]["rules"]
    assert rules[0] == {
        "domain": ["homestack.lab.home.arpa"],
        "policy": "two_factor",
        "subject": ["group:admins"],
    }
    assert rules[-1]["domain"] == ["lab.home.arpa", "*.lab.home.arpa"]  # the catch-all comes last


def test_route_off_leaves_both_out(make_site: Callable[..., Site], tmp_path: Path) -> None:
    view = CatalogView.of(make_site(DASHBOARD_ROUTE="off"))
    assert "homestack.lab.home.arpa" not in caddy.generate(view)[0].content
    files = authelia.generate(view, tmp_path / "secrets", dry_run=False)
    assert len(yaml.safe_load(files[0].content)["access_control"]["rules"]) == 1


def test_a_host_a_service_already_has_is_refused(make_site: Callable[..., Site]) -> None:
    site = make_site(DASHBOARD_SUBDOMAIN="home")  # Home Assistant's
    with pytest.raises(BadInput, match="homeassistant") as refused:
        caddy.generate(CatalogView.of(site))
    assert "DASHBOARD_SUBDOMAIN" in (refused.value.hint or "")
