"""A dump backup never writes as root through a link the (root) container planted in its
own data folder (real engine, real container, real restic)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homestack.backup import backup
from homestack.engine.compose import ComposeProject
from testkit.backupsites import BackupSite, backup_site

pytestmark = pytest.mark.integration
__all__ = ["backup_site"]


def _in_container(site_: BackupSite, *argv: str) -> None:
    site = site_.load()
    ComposeProject(site, site.stacks["tst"], services=[site.service("db")]).run(
        "exec", "-T", "db", *argv, timeout=60
    )


def test_the_dump_is_not_written_through_a_planted_link(
    backup_site: BackupSite, tmp_path: Path
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("host file, root's\n")
    backup_site.up("db")
    # the container replaces the name the dump's temp file had with a link to a host path
    _in_container(backup_site, "ln", "-s", str(victim), "/data/.dump.txt.homestack-partial")
    site = backup_site.load()
    done = backup(site, [site.service("db")]).results[0]
    assert done.ok, done.error
    assert victim.read_text() == "host file, root's\n"
    dump = backup_site.data / "db" / "dump.txt"
    assert not dump.is_symlink() and dump.read_text() == "seed\n"
    assert dump.stat().st_mode & 0o777 == 0o640
    assert not [p for p in os.listdir(backup_site.data / "db") if "partial-" in p]


def test_a_dump_folder_the_container_turned_into_a_link_is_refused(
    backup_site: BackupSite, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    service_file = backup_site.root / "tst-stack" / "services" / "db.docker-compose.yaml"
    text = service_file.read_text()
    service_file.write_text(text.replace("dump_file: dump.txt", "dump_file: dumps/dump.txt"))
    backup_site.up("db")
    _in_container(backup_site, "ln", "-s", str(elsewhere), "/data/dumps")
    site = backup_site.load()
    done = backup(site, [site.service("db")]).results[0]
    assert not done.ok
    assert "symlink" in (done.error or "") and "dumps" in (done.error or "")
    assert list(elsewhere.iterdir()) == []
