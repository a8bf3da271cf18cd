"""Backup then restore on a real engine with real restic: same bytes, modes, owners, links."""

from __future__ import annotations

import json
import os

import pytest

from homestack.backup import backup, last_backup, list_backups, restore
from homestack.cli.app import run
from homestack.errors import OperationFailed
from testkit.backupsites import BackupSite, backup_site, fill_files, manifest

pytestmark = pytest.mark.integration
__all__ = ["backup_site"]


@pytest.mark.fresh_repositories  # the first backup makes and announces the password
def test_round_trip_restores_same_bytes_modes_owners_and_symlinks(
    backup_site: BackupSite, capsys: pytest.CaptureFixture[str]
) -> None:
    data = backup_site.data / "files"
    fill_files(data)
    (backup_site.data / "config" / "files" / "app.conf").write_text("answer=42\n")
    backup_site.up("files")
    secret = backup_site.root / "secrets" / "files_token"
    roots = (data, backup_site.data / "config" / "files", secret)
    before = manifest(*roots)

    assert run(["--site", str(backup_site.root), "backup", "files"]) == 0
    err = capsys.readouterr().err
    assert "KEEP A COPY" in err and "homestack_backup_password" in err
    password = backup_site.root / "secrets" / "homestack_backup_password"
    assert password.stat().st_mode & 0o777 == 0o600
    assert backup_site.running("files"), "a stop-consistent backup restarts the service"

    # the password notice is said once, not on every backup
    assert run(["--site", str(backup_site.root), "backup", "files", "--json"]) == 0
    captured = capsys.readouterr()
    assert "KEEP A COPY" not in captured.err
    second = json.loads(captured.out)["results"][0]
    assert second["ok"] and second["files_new"] == 0

    # damage everything
    (data / "text.txt").write_text("changed")
    (data / "blob.bin").unlink()
    (data / "link").unlink()
    (data / "private" / "run.sh").chmod(0o600)
    (data / "new.txt").write_text("not in the backup")
    (backup_site.data / "config" / "files" / "app.conf").write_text("answer=0\n")
    secret.write_text("other\n")

    site = backup_site.load()
    result = restore(site, site.service("files"))
    assert result.ok and result.healthy
    assert manifest(*roots) == before
    assert not list(backup_site.data.glob("files.before-restore-*"))
    assert backup_site.running("files")

    listing = list_backups(site, [site.service("files")])
    every = listing.services[0].snapshots
    snaps = [s for s in every if "before-restore" not in s.tags]
    assert len(snaps) == 2 and len(every) == 3, "the restore kept the live data first"
    assert "service=files" in snaps[0].tags and "stack=tst" in snaps[0].tags
    assert any(t.startswith("image=homestack/standin") for t in snaps[0].tags)
    assert snaps[0].size and snaps[0].size > 300_000
    last = last_backup(site, "files")
    assert last is not None and last.ok and last.snapshot


def test_database_restored_from_its_dump_comes_back_healthy_with_its_data(
    backup_site: BackupSite,
) -> None:
    backup_site.up("db")
    rows = backup_site.data / "db" / "db" / "rows"
    rows.write_text("alice\nbob\n")
    site = backup_site.load()
    done = backup(site, [site.service("db")])
    assert done.ok, done.results[0].error
    assert (backup_site.data / "db" / "dump.txt").read_text() == "alice\nbob\n"
    assert backup_site.running("db"), "a dump backup never stops the service"

    # the live database is lost; only the dump in the snapshot brings it back
    rows.write_text("mallory\n")
    result = restore(site, site.service("db"), keep_previous=True)
    assert result.healthy
    assert rows.read_text() == "alice\nbob\n"
    kept = list(backup_site.data.glob("db.before-restore-*"))
    assert len(kept) == 1 and (kept[0] / "db" / "rows").read_text() == "mallory\n"


def test_empty_dump_is_refused_and_recorded(backup_site: BackupSite) -> None:
    backup_site.up("db")
    (backup_site.data / "db" / "db" / "rows").write_text("")
    site = backup_site.load()
    done = backup(site, [site.service("db")])
    assert not done.ok
    assert "printed nothing" in (done.results[0].error or "")
    assert not (backup_site.data / "db" / "dump.txt").exists()
    assert not [p for p in os.listdir(backup_site.data / "db") if "partial" in p]
    last = last_backup(site, "db")
    assert last is not None and not last.ok
    assert backup_site.running("db")


def test_restore_that_never_gets_healthy_puts_the_previous_data_back(
    backup_site: BackupSite,
) -> None:
    data = backup_site.data / "files"
    (data / "poison").write_text("this snapshot makes the service unhealthy\n")
    site = backup_site.load()
    assert backup(site, [site.service("files")]).ok  # not running: nothing to stop
    (data / "poison").unlink()
    (data / "good.txt").write_text("current data\n")
    backup_site.up("files")
    live = manifest(data)

    with pytest.raises(OperationFailed, match="put back") as failure:
        restore(site, site.service("files"), health_timeout=60)
    assert "did not become healthy" in failure.value.message
    assert manifest(data) == live
    assert not list(backup_site.data.glob("files.before-restore-*"))
    backup_site.wait_healthy("files")


def test_dump_command_missing_from_the_image_says_why(backup_site: BackupSite) -> None:
    """Docker prints 'executable file not found' on stdout, which is the dump file: the
    reason must reach the user instead of a bare 'exited 126'."""
    service_file = backup_site.root / "tst-stack" / "services" / "db.docker-compose.yaml"
    text = service_file.read_text()
    service_file.write_text(text.replace('["sh", "-c", "cat /data/db/rows"]', '["pg_dumpall"]'))
    backup_site.up("db")
    site = backup_site.load()
    done = backup(site, [site.service("db")])
    error = done.results[0].error or ""
    assert not done.ok and "could not start in its container" in error
    assert '"pg_dumpall": executable file not found' in error
    assert "(pg_dumpall) must exist in the image" in (done.results[0].hint or "")
    assert not [p for p in os.listdir(backup_site.data / "db") if "partial" in p]
    assert backup_site.running("db")
