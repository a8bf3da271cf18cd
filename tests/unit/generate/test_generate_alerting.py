"""Alertmanager's and ntfy's generated files: where alerts go, who may publish."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import yaml

from homestack.catalog import Site
from homestack.generate import generate_all
from homestack.generate.household import mount_source
from homestack.stackfile import toggle

TOKEN = "tk_" + "x" * 29


def _config(site: Site, service: str, name: str) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((site.data_root / "config" / service / name).read_text())


def test_ntfy_publisher_holds_the_token_and_the_route_follows_its_web_data(
    make_site: Callable[..., Site],
) -> None:
    site = make_site(DOMAIN="lab.example")
    ntfy_file = site.root / "essentials-stack/services/ntfy.docker-compose.yaml"
    ntfy_file.write_text(ntfy_file.read_text().replace("subdomain: ntfy", "subdomain: push"))
    site = Site.load(site.root)
    site.secrets_dir.mkdir(parents=True, exist_ok=True)
    (site.secrets_dir / "ntfy_publisher_token").write_text(TOKEN + "\n")
    generate_all(site)
    server = _config(site, "ntfy", "server.yml")
    assert server["base-url"] == "https://push.lab.example"
    assert server["auth-default-access"] == "deny-all"
    assert server["auth-tokens"] == [f"homestack:{TOKEN}:homestack and Alertmanager"]
    assert server["auth-access"] == ["homestack:homestack:wo"]
    user, digest, role = server["auth-users"][0].split(":")
    assert (user, role) == ("homestack", "user")
    assert digest.startswith("$2a$10$") and len(digest) == 60
    path = site.data_root / "config/ntfy/server.yml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    caddyfile = (site.data_root / "config/caddy/Caddyfile").read_text()
    block = caddyfile.split("push.lab.example {", 1)[1].split("}", 1)[0]
    assert "reverse_proxy ntfy:8080" in block and "sign_on" not in block  # ntfy's own auth
    am = _config(site, "alertmanager", "alertmanager.yml")
    hook = am["receivers"][0]["webhook_configs"][0]
    assert hook["url"] == "http://ntfy:8080/homestack?template=alertmanager"
    token_file = site.data_root / "config/alertmanager/ntfy_token"
    assert token_file.read_text().strip() == TOKEN
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert TOKEN not in (site.data_root / "config/alertmanager/alertmanager.yml").read_text()
    again = generate_all(Site.load(site.root))
    assert not again.changed  # the same files from run to run


def test_without_ntfy_alertmanager_posts_to_the_configured_webhook_or_nowhere(
    make_site: Callable[..., Site],
) -> None:
    site = make_site()
    toggle(site, ["ntfy"], enable=False)
    generate_all(Site.load(site.root))
    assert _config(site, "alertmanager", "alertmanager.yml")["receivers"] == [{"name": "site"}]
    assert not (site.data_root / "config/alertmanager/ntfy_token").exists()
    site = make_site(ALERTMANAGER_WEBHOOK_URL="https://hooks.example/alert")
    generate_all(site)
    hook = _config(site, "alertmanager", "alertmanager.yml")["receivers"][0]["webhook_configs"]
    assert hook == [{"url": "https://hooks.example/alert", "send_resolved": True}]


def test_prometheus_sends_to_alertmanager_only_when_it_is_enabled(
    make_site: Callable[..., Site],
) -> None:
    site = make_site()
    generate_all(site)
    targets = _config(site, "prometheus", "prometheus.yml")["alerting"]["alertmanagers"]
    assert targets == [{"static_configs": [{"targets": ["alertmanager:9093"]}]}]
    toggle(site, ["alertmanager"], enable=False)
    generate_all(Site.load(site.root))
    assert "alerting" not in _config(site, "prometheus", "prometheus.yml")


def test_disk_rules_watch_the_device_holding_data(tmp_path: Path) -> None:
    info = tmp_path / "mountinfo"
    info.write_text(
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        "40 22 8:17 / /srv/data rw,relatime shared:9 - xfs /dev/sdb1 rw\n"
        "41 22 0:50 / /srv/data/tmp rw - tmpfs tmpfs rw\n"
    )
    assert mount_source(Path("/srv/data/DATA"), info) == "/dev/sdb1"
    assert mount_source(Path("/home/me"), info) == "/dev/sda1"
    assert mount_source(Path("/srv/data/tmp/x"), info) is None  # not a device
    assert mount_source(Path("/x"), tmp_path / "absent") is None
