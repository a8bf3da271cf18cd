"""What each generator writes for the shipped catalog: routes, sign-on, probes, start page."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from homestack.catalog import Site
from homestack.generate import authelia, caddy, homepage, prometheus
from homestack.generate.view import CatalogView


def _web_services(site: Site) -> dict[str, Any]:
    return {s.id: s.meta.web for s in site.services(enabled_only=True) if s.meta and s.meta.web}


def _sites(caddyfile: str) -> dict[str, str]:
    """Caddyfile site address → its block."""
    found = re.findall(r"(?m)^(\S+) \{\n(.*?)^\}", caddyfile, re.S)
    return {address: block for address, block in found if not address.startswith("(")}


def test_caddyfile_routes_every_enabled_web_ui_and_signs_on_where_asked(site: Site) -> None:
    view = CatalogView.of(site)
    blocks = _sites(caddy.generate(view)[0].content)
    web = _web_services(site)
    assert len(blocks) == len(web) + 1  # and the dashboard's (test_generate_dashboard.py)
    for service, spec in web.items():
        block = blocks[f"{spec.subdomain or service}.lab.home.arpa"]
        # the services that trust sign-on headers by their alias on signon-proxy
        host = f"signon-{service}" if service in ("grafana", "dozzle", "homeassistant") else service
        assert f"reverse_proxy {host}:{spec.port}" in block
        assert "tls internal" in block
        # a first-run wizard not yet done is behind sign-on too (see the test below)
        wizard = service in ("homeassistant", "jellyfin")
        assert ("import sign_on" in block) == (spec.auth or wizard)
    assert "dns.lab.home.arpa" not in blocks  # blocky is off in the shipped catalog
    text = caddy.generate(view)[0].content
    assert "admin localhost:2019" in text
    assert "forward_auth authelia:9091" in text
    assert "uri /api/authz/forward-auth" in text
    assert "copy_headers Remote-User Remote-Groups Remote-Email Remote-Name" in text


def test_first_run_wizards_stay_behind_sign_on_until_done(site: Site, tmp_path: Path) -> None:
    """Home Assistant and Jellyfin let the first visitor create their admin: until their
    own files say the wizard is done, the proxy asks for sign-on first."""

    def signs_on(host: str) -> bool:
        blocks = _sites(caddy.generate(CatalogView.of(site))[0].content)
        return "import sign_on" in blocks[host]

    assert signs_on("home.lab.home.arpa") and signs_on("media.lab.home.arpa")
    storage = site.data_root / "homeassistant" / ".storage"
    storage.mkdir(parents=True)
    (storage / "onboarding").write_text('{"data": {"done": ["analytics"]}}')
    assert signs_on("home.lab.home.arpa")  # the user step is not done yet
    (storage / "onboarding").write_text('{"version": 4, "data": {"done": ["user"]}}')
    assert not signs_on("home.lab.home.arpa")
    jellyfin = site.data_root / "jellyfin" / "config"
    jellyfin.mkdir(parents=True)
    xml = "<ServerConfiguration><IsStartupWizardCompleted>{}</IsStartupWizardCompleted>"
    (jellyfin / "system.xml").write_text(xml.format("false"))
    assert signs_on("media.lab.home.arpa")
    (jellyfin / "system.xml").write_text(xml.format("true"))
    assert not signs_on("media.lab.home.arpa")
    # a link the container planted is not followed
    (jellyfin / "system.xml").unlink()
    elsewhere = tmp_path / "done.xml"
    elsewhere.write_text(xml.format("true"))
    (jellyfin / "system.xml").symlink_to(elsewhere)
    assert signs_on("media.lab.home.arpa")


def test_a_public_domain_gets_acme_not_the_local_ca(make_site: Callable[..., Site]) -> None:
    site = make_site(DOMAIN="example.org", ACME_EMAIL="me@example.org")
    text = caddy.generate(CatalogView.of(site))[0].content
    assert "tls internal" not in text
    assert "email me@example.org" in text
    assert "chat.example.org {" in text


def test_authelia_denies_by_default_and_signs_on_for_the_domain(site: Site, tmp_path: Path) -> None:
    files = authelia.generate(CatalogView.of(site), tmp_path / "secrets", dry_run=False)
    config = yaml.safe_load(files[0].content)
    assert config["access_control"]["default_policy"] == "deny"
    assert config["access_control"]["rules"][-1:] == [
        {"domain": ["lab.home.arpa", "*.lab.home.arpa"], "policy": "one_factor"}
    ]
    cookie = config["session"]["cookies"][0]
    assert cookie["domain"] == "lab.home.arpa"
    assert cookie["authelia_url"] == "https://auth.lab.home.arpa"
    assert cookie["default_redirection_url"] == "https://start.lab.home.arpa"
    assert config["authentication_backend"]["file"]["path"] == "/config/users_database.yml"
    assert "secret" not in files[0].content.replace("_FILE", "")  # secrets come from files


def test_the_first_user_has_a_pbkdf2_hash_of_the_generated_password(
    site: Site, tmp_path: Path
) -> None:
    secrets_dir = tmp_path / "secrets"
    files = authelia.generate(CatalogView.of(site), secrets_dir, dry_run=False)
    users = yaml.safe_load(files[1].content)["users"]
    digest = users["admin"]["password"]
    assert re.fullmatch(r"\$pbkdf2-sha512\$310000\$[A-Za-z0-9./]{22}\$[A-Za-z0-9./]{86}", digest)
    secret = files[2]  # created by generate_all with the users file, not while rendering
    assert (secret.path, secret.mode, secret.secret) == (
        secrets_dir / authelia.ADMIN_SECRET,
        0o600,
        True,
    )
    assert not secret.path.exists()
    password = secret.content
    assert authelia.verify_password(password, digest)
    assert not authelia.verify_password(password + "x", digest)
    assert password not in files[1].content
    assert files[1].once


def test_pbkdf2_hash_uses_adapted_base64() -> None:
    # passlib's (and Authelia's) ab64: standard base64, '+' written as '.', no padding
    digest = authelia.hash_password("password", salt=b"\xfb" * 16)
    _, scheme, rounds, salt, key = digest.split("$")
    assert (scheme, rounds) == ("pbkdf2-sha512", "310000")
    assert salt == "./v7./v7./v7./v7./v7.w"
    expected = hashlib.pbkdf2_hmac("sha512", b"password", b"\xfb" * 16, 310_000)
    assert base64.b64decode(key.replace(".", "+") + "==") == expected
    assert authelia.verify_password("password", digest)


def test_prometheus_probes_every_enabled_web_ui_and_tcp_service(site: Site) -> None:
    view = CatalogView.of(site)
    config = prometheus.config(view)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert {"prometheus", "cadvisor", "blackbox-exporter", "health-http", "health-tcp"} <= set(jobs)
    assert "dcgm-exporter" not in jobs  # off in the shipped catalog
    assert jobs["health-http"]["file_sd_configs"] == [{"files": ["targets/health-http.yml"]}]
    assert jobs["health-http"]["relabel_configs"][-1]["replacement"] == "blackbox-exporter:9115"
    assert config["rule_files"] == ["alerts.yml", "backups.yml"]
    probed = {g["labels"]["service"]: g["targets"][0] for g in prometheus.http_targets(view)}
    assert set(probed) == set(_web_services(site))
    assert probed["open-webui"] == "http://open-webui:8080/health"
    tcp = {g["labels"]["service"]: g["targets"][0] for g in prometheus.tcp_targets(view)}
    assert tcp["faster-whisper"] == "faster-whisper:10300"
    assert tcp["samba"] == "samba:445"
    assert "piper" not in tcp  # off in the shipped catalog
    assert not set(tcp) & set(probed)


def test_probe_target_files_are_file_sd_groups(site: Site) -> None:
    files = {f.path.name: f for f in prometheus.generate(CatalogView.of(site))}
    for name in ("health-http.yml", "health-tcp.yml"):
        groups = yaml.safe_load(files[name].content)
        assert groups, name
        for group in groups:
            assert set(group) == {"targets", "labels"}
            assert all(isinstance(t, str) for t in group["targets"])
            assert all(isinstance(v, str) for v in group["labels"].values())


def test_homepage_lists_every_enabled_web_ui_by_stack(site: Site) -> None:
    groups = homepage.services(CatalogView.of(site))
    listed = {
        title: (group, entry["href"])
        for block in groups
        for group, entries in block.items()
        for item in entries
        for title, entry in item.items()
    }
    assert listed["Open WebUI"] == ("AI", "https://chat.lab.home.arpa")
    assert listed["Grafana"] == ("Management", "https://grafana.lab.home.arpa")
    assert len(listed) == len(_web_services(site))
    assert "Blocky" not in listed


def test_urls_carry_a_non_default_https_port(make_site: Callable[..., Site]) -> None:
    site = make_site()
    caddy = site.service("caddy").env_dir  # where the catalog sets it (a later layer wins)
    (caddy / ".env").write_text("CADDY_HTTPS_PORT=8443\n", encoding="utf-8")
    site = Site.load(site.root)
    groups = homepage.services(CatalogView.of(site))
    assert groups[0]["AI"][0]["Ollama"]["href"] == "https://ollama.lab.home.arpa:8443"
