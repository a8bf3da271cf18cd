"""doctor's DATA owner fix names each wrong folder with the owner it needs, and does not send
the user to `homestack install data`, which leaves folders that exist as they are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.deploy import ensure_data
from homestack.observe import doctor_files

SERVICE = """services:
  rooted:
    x-homestack:
      title: rooted
      description: d
      uid: 0
    image: x:1
"""


def test_puid_changed_after_install_fix_chowns_the_backups_folder(tmp_path: Path) -> None:
    """PUID changed after the first install: a root container's data stays root's, its backups
    folder must move to the new PUID. The fix said `chown -R 0:0 DATA/rooted` (a no-op) or
    `homestack install data` (which leaves it as it is)."""
    if os.geteuid() != 0:
        pytest.skip("chown needs root")
    (tmp_path / "base.docker-compose.yaml").write_text("networks: {}\n")
    (tmp_path / ".env").write_text("PUID=0\nPGID=0\n")
    (tmp_path / "ai-stack" / "services").mkdir(parents=True)
    (tmp_path / "ai-stack" / "stack.yaml").write_text("services:\n  - rooted\n")
    (tmp_path / "ai-stack" / "services" / "rooted.docker-compose.yaml").write_text(SERVICE)
    site = Site.load(tmp_path)
    ensure_data(site, site.services(enabled_only=True))
    (tmp_path / ".env").write_text("PUID=4321\nPGID=4322\n")
    site = Site.load(tmp_path)
    # what the old fix offered changes nothing
    again = ensure_data(site, site.services(enabled_only=True))
    assert str(tmp_path / "DATA" / "backups" / "rooted") in again.foreign
    check = {c.name: c for c in doctor_files.check_data(site, site.services())}["data rooted"]
    assert check.status == "warn"
    backups = tmp_path / "DATA" / "backups" / "rooted"
    assert check.fix == f"Run `chown -R 4321:4322 {backups}` (as root)."
    os.chown(backups, 4321, 4322)
    check = {c.name: c for c in doctor_files.check_data(site, site.services())}["data rooted"]
    assert check.status == "ok", check.detail


def test_missing_secret_of_a_service_with_data_says_to_get_the_old_value_back(
    tmp_path: Path,
) -> None:
    """A secret deleted by mistake: a new one (install secrets, or the next up) is not what
    the service's data was made with, so doctor names the copy and the backup first."""
    (tmp_path / "base.docker-compose.yaml").write_text("networks: {}\n")
    (tmp_path / ".env").write_text("DATA_ROOT=./DATA\nSECRETS_DIR=./secrets\n")
    (tmp_path / "ai-stack" / "services").mkdir(parents=True)
    (tmp_path / "ai-stack" / "stack.yaml").write_text("services:\n  - app\n")
    service = SERVICE.replace("rooted", "app").replace("uid: 0", "secrets: [{name: key}]")
    (tmp_path / "ai-stack" / "services" / "app.docker-compose.yaml").write_text(service)
    (tmp_path / "secrets").mkdir(mode=0o700)
    site = Site.load(tmp_path)

    def fix() -> str:
        checks = doctor_files.check_secrets(site, site.services(enabled_only=True))
        check = {c.name: c for c in checks}["secret app_key"]
        assert check.status == "fail" and "is missing" in check.detail
        return check.fix or ""

    assert fix() == "Run `homestack install secrets`."  # nothing made with it yet
    (tmp_path / "DATA" / "app").mkdir(parents=True)
    (tmp_path / "DATA" / "app" / "app.db").write_text("made with the old key")
    said = fix()
    assert "already has data, which may need the old value" in said
    assert "`homestack restore app` (its backups hold its secrets" in said
    assert "make a NEW value" in said
