"""The backup tests' site itself (testkit.backupsites): what it holds, and its prefix."""

from __future__ import annotations

import os
import subprocess

import pytest

from testkit.backupsites import BackupSite, backup_site

pytestmark = pytest.mark.integration

__all__ = ["backup_site"]


def test_kit_site_loads_and_names_what_a_backup_holds(backup_site: BackupSite) -> None:
    from homestack.backup import config

    site = backup_site.load()
    site.require_valid()
    parts = config.parts(site, site.service("files"))
    assert [p.kind for p in parts] == ["data", "config", "secret"]
    assert parts[2].path.name == "files_token"
    assert [p.kind for p in config.parts(site, site.service("plain"))] == ["data"]


def test_kit_site_uses_its_own_prefix_whatever_the_caller_exported(
    backup_site: BackupSite,
) -> None:
    """The kit writes its prefix into the site's .env; an exported HOMESTACK_PREFIX won and
    two workers collided on one network. tests/test_hermetic.py runs this with one set."""
    assert "HOMESTACK_PREFIX" not in os.environ
    assert backup_site.load().prefix == backup_site.prefix
    backup_site.up("files")
    done = subprocess.run(
        ["docker", "network", "ls", "--format", "{{.Name}}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"{backup_site.prefix}backup-test" in done.stdout.split()
