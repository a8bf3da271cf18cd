"""verify names the fix when the backup password file does not open a repository (it was
deleted by mistake, and the next backup made a new one), as backup and restore do. Real
restic, no engine."""

from __future__ import annotations

from pathlib import Path

from homestack.backup import config
from homestack.backup.manage import verify
from homestack.catalog import Site

SERVICE = """services:
  app:
    x-homestack:
      title: app
      description: d
    image: x:1
"""


def test_verify_with_a_new_password_file_says_to_put_back_the_copy(tmp_path: Path) -> None:
    (tmp_path / "base.docker-compose.yaml").write_text("networks: {}\n")
    (tmp_path / ".env").write_text("DATA_ROOT=./DATA\nSECRETS_DIR=./secrets\n")
    (tmp_path / "ai-stack" / "services").mkdir(parents=True)
    (tmp_path / "ai-stack" / "stack.yaml").write_text("services:\n  - app\n")
    (tmp_path / "ai-stack" / "services" / "app.docker-compose.yaml").write_text(SERVICE)
    site = Site.load(tmp_path)
    password, _ = config.ensure_password(site)
    config.restic_for(site, "app").init()
    password.write_text("another password, made after the first was deleted")
    (result,) = verify(site, site.services()).results
    assert not result.ok
    assert "wrong password" in (result.error or "")
    assert "put back the copy you kept of secrets/homestack_backup_password" in (result.error or "")
