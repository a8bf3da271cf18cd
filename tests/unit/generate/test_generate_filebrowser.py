"""File Browser's first user comes from a generated secret, never from its log.

Upstream (filebrowser/filebrowser v2.63.23): the image starts File Browser with
`--config=/config/settings.json` and copies a default there only when none exists
(docker/alpine/init.sh); viper binds the root command's flags to that file's keys
(cmd/utils.go initViper); quick setup, on the first start, stores `password` as the first
user's bcrypt hash and prints a random password into the log only when it is empty
(cmd/root.go quickSetup). So the generated settings.json must carry `username` and a
bcrypt `password` hash of secrets/filebrowser_admin_password, and nothing may hold the
password in the environment.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import bcrypt
import pytest
import yaml

from homestack.catalog import Site
from homestack.generate import filebrowser, generate_all

REPO = Path(__file__).resolve().parents[3]
SERVICE_FILE = REPO / "media-stack/services/filebrowser.docker-compose.yaml"


def _settings(site: Site) -> Path:
    return site.data_root / "config/filebrowser/settings.json"


def _secret(site: Site) -> Path:
    return site.secrets_dir / filebrowser.ADMIN_SECRET


def test_settings_hold_the_admin_user_and_a_bcrypt_hash_of_the_secret(site: Site) -> None:
    report = generate_all(site)
    settings, secret = _settings(site), _secret(site)
    actions = {f.path: f.action for f in report.files}
    assert actions[str(settings)] == "create"
    assert actions[str(secret)] == "create"
    assert secret.stat().st_mode & 0o777 == 0o600
    assert settings.stat().st_mode & 0o777 == 0o600
    password = secret.read_text(encoding="utf-8")
    assert len(password) >= 12  # File Browser's own minimum password length
    data = json.loads(settings.read_text(encoding="utf-8"))
    # the keys File Browser's quick setup reads (flag names, bound by viper)
    assert data["username"] == "admin"
    digest = data["password"]
    assert digest.startswith("$2b$10$")  # bcrypt, Go's DefaultCost
    assert bcrypt.checkpw(password.encode(), digest.encode())
    assert password not in settings.read_text(encoding="utf-8")
    # the image's defaults stay: the flags the entrypoint no longer gets from its own file
    assert (data["port"], data["root"]) == (80, "/srv")
    assert data["database"] == "/database/filebrowser.db"


def test_a_second_run_touches_nothing_and_keeps_the_password(site: Site) -> None:
    generate_all(site)
    first = (_settings(site).read_text(encoding="utf-8"), _secret(site).read_text("utf-8"))
    report = generate_all(site)
    assert {f.action for f in report.files if "filebrowser" in f.path} == {"kept"}
    assert (_settings(site).read_text(encoding="utf-8"), _secret(site).read_text("utf-8")) == first


def test_an_existing_settings_file_is_kept_and_no_secret_is_made(site: Site) -> None:
    """A site where File Browser already ran: its database holds the user, so a new
    secret would be a password that logs in nowhere."""
    settings = _settings(site)
    settings.parent.mkdir(parents=True)
    settings.write_text('{"port": 80}\n', encoding="utf-8")
    generate_all(site)
    assert settings.read_text(encoding="utf-8") == '{"port": 80}\n'
    assert not _secret(site).exists()


def test_an_existing_secret_is_hashed_not_replaced(site: Site) -> None:
    secret = _secret(site)
    secret.parent.mkdir(parents=True)
    secret.write_text("the-users-own-password", encoding="utf-8")
    os.chmod(secret, 0o600)
    generate_all(site)
    assert secret.read_text(encoding="utf-8") == "the-users-own-password"
    digest = json.loads(_settings(site).read_text(encoding="utf-8"))["password"]
    assert bcrypt.checkpw(b"the-users-own-password", digest.encode())


def test_dry_run_writes_nothing(site: Site) -> None:
    generate_all(site, dry_run=True)
    assert not _settings(site).exists()
    assert not _secret(site).exists()


@pytest.mark.parametrize("key", ["FB_PASSWORD", "FB_USERNAME"])
def test_no_credential_in_the_service_environment(key: str) -> None:
    """The password (or its hash) in an FB_ variable would show in `docker inspect`."""
    service = yaml.safe_load(SERVICE_FILE.read_text(encoding="utf-8"))["services"]["filebrowser"]
    assert key not in service.get("environment", {})
    assert "--password" not in " ".join(map(str, service.get("command") or []))
    assert "secrets" in service["x-homestack"]["backup"]["paths"]
