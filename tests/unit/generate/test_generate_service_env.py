"""Generated configs read a service's settings from the env Compose gives that service: its
stack's layers (root → stack → each enabled service's .env), so CADDY_HTTPS_PORT set where
the catalog ships it (essentials-stack/services/caddy/.env) moves the URLs with the port
Compose publishes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml

from homestack.catalog import Site
from homestack.generate import extras, homepage
from homestack.generate.view import CatalogView


def _service_env(site: Site, service: str, text: str) -> None:
    folder = site.service(service).env_dir
    example = (folder / ".env.example").read_text(encoding="utf-8")
    (folder / ".env").write_text(example + text, encoding="utf-8")


def test_the_https_port_set_in_caddys_own_env_reaches_the_urls(
    make_site: Callable[..., Site],
) -> None:
    site = make_site()
    _service_env(site, "caddy", "CADDY_HTTPS_PORT=8443\n")
    site = Site.load(site.root)
    assert site.stack_env(site.stacks["essentials"])["CADDY_HTTPS_PORT"] == "8443"  # Compose's
    groups = homepage.services(CatalogView.of(site))
    assert groups[0]["AI"][0]["Ollama"]["href"] == "https://ollama.lab.home.arpa:8443"


def test_samba_user_set_in_sambas_env_is_the_generated_user(
    make_site: Callable[..., Site],
) -> None:
    site = make_site()
    _service_env(site, "samba", "SAMBA_USER=alice\n")
    files = extras.samba(CatalogView.of(Site.load(site.root)), 1000, 1000)
    config = yaml.safe_load(files[0].content)
    assert "alice" in str(config) and "homestack" not in str(config.get("auth", ""))


def test_a_root_setting_shadowed_by_caddys_layer_follows_compose(
    make_site: Callable[..., Site], monkeypatch: pytest.MonkeyPatch
) -> None:
    # caddy/.env.example sets CADDY_HTTPS_PORT=443 after the root layer: Compose publishes
    # 443, so the URLs carry no port (they said :9443, a port nothing listened on)
    site = make_site(CADDY_HTTPS_PORT="9443")
    groups = homepage.services(CatalogView.of(site))
    assert groups[0]["AI"][0]["Ollama"]["href"] == "https://ollama.lab.home.arpa"
    monkeypatch.setenv("CADDY_HTTPS_PORT", "7443")  # the process environment wins, as in Compose
    groups = homepage.services(CatalogView.of(Site.load(site.root)))
    assert groups[0]["AI"][0]["Ollama"]["href"] == "https://ollama.lab.home.arpa:7443"
