"""prune: retention from settings; never deletes on retention 0, a failing listing, or
when nothing would be left (real restic)."""

from __future__ import annotations

import json

import pytest

from homestack.backup import backup, prune
from homestack.cli.app import run
from testkit.backupsites import BackupSite, backup_site

pytestmark = pytest.mark.integration
__all__ = ["backup_site"]


def _three_snapshots(site_: BackupSite) -> None:
    for n in range(3):
        (site_.data / "plain" / "file.txt").write_text(f"version {n}\n")
        site = site_.load()
        done = backup(site, [site.service("plain")])
        assert done.ok, done.results[0].error
    assert site_.snapshot_count("plain") == 3


def test_retention_zero_or_failing_listing_deletes_nothing_and_policy_applies(
    backup_site: BackupSite, capsys: pytest.CaptureFixture[str]
) -> None:
    _three_snapshots(backup_site)
    root = str(backup_site.root)
    capsys.readouterr()
    assert run(["--site", root, "backups", "plain", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["services"][0]["snapshots"]
    assert len(listed) == 3 and all(s["size"] == 10 for s in listed)
    assert run(["--site", root, "backups", "plain"]) == 0
    table = capsys.readouterr().out
    assert "service=plain" in table and "10 B" in table

    zero = {f"BACKUP_KEEP_{k}": "0" for k in ("LAST", "DAILY", "WEEKLY", "MONTHLY")}
    backup_site.set_env(**zero)
    site = backup_site.load()
    result = prune(site, [site.service("plain")])
    assert result.ok and "nothing deleted" in (result.results[0].note or "")
    assert backup_site.snapshot_count("plain") == 3

    # the listing fails (the password file no longer opens the repository)
    backup_site.set_env(BACKUP_KEEP_LAST="1")
    password = backup_site.root / "secrets" / "homestack_backup_password"
    good = password.read_text()
    password.write_text("not the password\n")
    site = backup_site.load()
    result = prune(site, [site.service("plain")])
    assert not result.ok and "nothing deleted" in (result.results[0].error or "")
    password.write_text(good)
    assert backup_site.snapshot_count("plain") == 3

    # dry run, then the real thing: keep-last 1 keeps the newest only
    site = backup_site.load()
    planned = prune(site, [site.service("plain")], dry_run=True).results[0]
    assert len(planned.kept) == 1 and len(planned.removed) == 2
    assert backup_site.snapshot_count("plain") == 3
    done = prune(site, [site.service("plain")]).results[0]
    assert done.ok and done.kept == planned.kept
    assert backup_site.snapshot_count("plain") == 1
    assert backup_site.restic("plain", "check").returncode == 0
    assert run(["--site", root, "verify", "plain", "--read-data-subset", "50%"]) == 0
