"""generate_all: every file once, atomically, rewritten only when its content changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.generate import generate_all
from homestack.stackfile import toggle

EXPECTED = {
    "config/caddy/Caddyfile",
    "config/caddy/door/index.html",
    "config/authelia/configuration.yml",
    "config/authelia/users_database.yml",
    "config/filebrowser/settings.json",
    "config/prometheus/prometheus.yml",
    "config/prometheus/alerts.yml",
    "config/prometheus/backups.yml",
    "config/prometheus/targets/health-http.yml",
    "config/prometheus/targets/health-tcp.yml",
    "config/homepage/services.yaml",
    "config/homepage/settings.yaml",
    "config/grafana/datasources/homestack.yaml",
    "config/grafana/dashboards/homestack.yaml",
    "config/grafana/alerting/homestack.yaml",
    "config/grafana/plugins/homestack.yaml",
    "config/samba/config.yml",
    "config/alertmanager/alertmanager.yml",
    "config/ntfy/server.yml",
    "homeassistant/configuration.yaml",
    "homeassistant/.storage/core.config_entries",
    "anythingllm/.env",
    "config/socket-proxy/haproxy.cfg",
    "config/blackbox-exporter/blackbox.yml",
}


def _files(data: Path) -> set[str]:
    return {str(p.relative_to(data)) for p in data.rglob("*") if p.is_file()}


def test_first_run_writes_every_config_then_nothing_changes(site: Site) -> None:
    first = generate_all(site)
    assert {f.action for f in first.files} == {"create"}
    assert _files(site.data_root) == EXPECTED  # no temp file left behind
    for path in site.data_root.rglob("*.y*ml"):
        yaml.safe_load(path.read_text(encoding="utf-8"))
    stamps = {p: p.stat().st_mtime_ns for p in site.data_root.rglob("*") if p.is_file()}
    again = generate_all(Site.load(site.root))
    assert not again.changed
    assert {f.action for f in again.files} <= {"unchanged", "kept"}
    assert stamps == {p: p.stat().st_mtime_ns for p in stamps}


def test_enabling_a_service_updates_the_files_that_list_it(site: Site) -> None:
    generate_all(site)
    users_before = (site.data_root / "config/authelia/users_database.yml").read_text()
    toggle(site, ["blocky"], enable=True)
    report = generate_all(Site.load(site.root))
    actions = {Path(f.path).relative_to(site.data_root).as_posix(): f.action for f in report.files}
    assert actions["config/caddy/Caddyfile"] == "update"
    # probe targets are files; blocky's own /metrics is a scrape job in prometheus.yml
    assert actions["config/prometheus/prometheus.yml"] == "update"
    assert actions["config/prometheus/targets/health-http.yml"] == "update"
    assert actions["config/homepage/services.yaml"] == "update"
    assert actions["config/blocky/config.yml"] == "create"
    assert actions["config/authelia/users_database.yml"] == "kept"
    # its host joins the admins' two-factor rule
    assert actions["config/authelia/configuration.yml"] == "update"
    assert "dns.lab.home.arpa {" in (site.data_root / "config/caddy/Caddyfile").read_text()
    assert (site.data_root / "config/authelia/users_database.yml").read_text() == users_before


def test_a_user_edited_users_file_is_kept(site: Site) -> None:
    users = site.data_root / "config/authelia/users_database.yml"
    users.parent.mkdir(parents=True)
    users.write_text("users: {}\n", encoding="utf-8")
    generate_all(site)
    assert users.read_text(encoding="utf-8") == "users: {}\n"


def test_a_hand_edit_of_a_generated_file_is_replaced(site: Site) -> None:
    generate_all(site)
    caddyfile = site.data_root / "config/caddy/Caddyfile"
    text = caddyfile.read_text(encoding="utf-8")
    caddyfile.write_text("broken", encoding="utf-8")
    report = generate_all(site)
    assert [f.action for f in report.files if f.path.endswith("Caddyfile")] == ["update"]
    assert caddyfile.read_text(encoding="utf-8") == text


def test_dry_run_writes_nothing(site: Site) -> None:
    report = generate_all(site, dry_run=True)
    assert report.dry_run and report.changed
    assert not site.data_root.exists()
    assert not (site.secrets_dir / "authelia_admin_password").exists()


def test_cli_generate_json(
    make_site: Callable[..., Site], capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site()
    assert run(["--site", str(site.root), "generate", "--json", "--dry-run"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["dry_run"] is True
    assert {f["action"] for f in data["files"]} == {"create"}
    assert run(["--site", str(site.root), "generate"]) == 0
    assert "26 of 26 files changed" in capsys.readouterr().out  # 24 configs, 2 secrets
    assert run(["--site", str(site.root), "generate", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["changed"] is False


@pytest.mark.parametrize("domain", ["my home", "https://home.lan", "home.lan/", "-home.lan"])
def test_a_domain_that_is_not_a_host_name_is_refused_before_anything_is_written(
    make_site: Callable[..., Site], domain: str
) -> None:
    from homestack.errors import BadInput

    site = make_site(DOMAIN=domain)
    with pytest.raises(BadInput) as caught:  # it wrote `auth.my home {`, which caddy refuses
        generate_all(site)
    assert "DOMAIN" in caught.value.message
    assert caught.value.file == str(site.root / ".env")
    assert "(from .env)" in caught.value.message and caught.value.line is not None
    assert not site.data_root.exists() or _files(site.data_root) == set()


@pytest.mark.parametrize("domain", ["home.arpa", "lan", "co.uk"])
def test_a_domain_authelia_refuses_is_refused_before_anything_is_written(
    make_site: Callable[..., Site], domain: str
) -> None:
    """Authelia 4.39 (internal/configuration/validator/session.go) refuses a cookie domain
    with no period or on the Public Suffix List: generate (and so `up`) says so, exit 2."""
    from homestack.errors import BadInput

    site = make_site(DOMAIN=domain)
    with pytest.raises(BadInput) as caught:
        generate_all(site)
    assert f"DOMAIN={domain!r}" in caught.value.message and "Authelia" in caught.value.message
    assert "lab.home.arpa" in (caught.value.hint or "")
    assert caught.value.file == str(site.root / ".env")
    assert "(from .env)" in caught.value.message and caught.value.line is not None
    assert not site.data_root.exists() or _files(site.data_root) == set()


def test_two_web_uis_on_one_host_are_refused_before_anything_is_written(
    make_site: Callable[..., Site],
) -> None:
    from homestack.errors import BadInput

    site = make_site()
    path = site.root / "ai-stack/services/open-webui.docker-compose.yaml"
    path.write_text(path.read_text("utf-8").replace("subdomain: chat", "subdomain: auth"), "utf-8")
    site = Site.load(site.root)
    with pytest.raises(BadInput) as caught:  # caddy refused the Caddyfile it wrote
        generate_all(site)
    assert "auth.lab.home.arpa" in caught.value.message
    assert "authelia" in caught.value.message
    assert caught.value.service in {"authelia", "open-webui"}
    assert "open-webui" in caught.value.message
    assert not site.data_root.exists() or _files(site.data_root) == set()
