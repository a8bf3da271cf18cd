"""A restore stays inside the service it restores (real restic, real engine).

Snapshots are selected by their `service=` tag (listing, restore, prune), a snapshot path
must map to DATA/{service}, DATA/config/{service} or secrets/{service}_* or nothing is
written, BACKUP_REPOSITORY needs `{service}`, and a symlinked DATA/{service} is refused
instead of being backed up as an empty link.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homestack.backup import backup, list_backups, prune, restore
from homestack.cli.app import run
from homestack.errors import OperationFailed
from testkit.backupsites import BackupSite, backup_site

pytestmark = pytest.mark.integration
__all__ = ["backup_site"]


def _hand_snapshot(site_: BackupSite, repo_of: str, path: Path, *tags: str) -> str:
    """A snapshot made by hand with restic into `repo_of`'s repository (as a repository
    shared with another service, or a hand-made backup, would hold)."""
    args = ["backup", "--json", "--host", "homestack", str(path)]
    for tag in tags:
        args += ["--tag", tag]
    done = site_.restic(repo_of, *args)
    assert done.returncode == 0, done.stderr
    summary = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return str(summary[-1]["snapshot_id"])


def test_restore_and_prune_take_only_the_services_own_snapshots(
    backup_site: BackupSite, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = backup_site.data / "plain"
    (plain / "mine.txt").write_text("plain's own data\n")
    site = backup_site.load()
    assert backup(site, [site.service("plain")]).ok
    # another service's snapshot in the same repository (a shared BACKUP_REPOSITORY)
    (backup_site.data / "files" / "theirs.txt").write_text("files' data\n")
    foreign = _hand_snapshot(
        backup_site, "plain", backup_site.data / "files", "service=files", "stack=tst"
    )
    (plain / "mine.txt").write_text("changed since\n")

    # restore plain takes plain's snapshot, never the newer one of files
    result = restore(site, site.service("plain"))
    assert result.ok
    assert (plain / "mine.txt").read_text() == "plain's own data\n"
    assert (backup_site.data / "files" / "theirs.txt").read_text() == "files' data\n"
    # … and another service's snapshot id is not one of plain's
    with pytest.raises(Exception, match="no snapshots matching"):
        restore(site, site.service("plain"), foreign)

    listed = list_backups(site, [site.service("plain")], sizes=False).services[0]
    assert listed.snapshots and not [s for s in listed.snapshots if s.id.startswith(foreign)]

    # prune with KEEP_LAST=1 groups by the service tag: the foreign snapshot is kept
    assert backup(site, [site.service("plain")]).ok
    backup_site.set_env(
        BACKUP_KEEP_LAST="1", BACKUP_KEEP_DAILY="0", BACKUP_KEEP_WEEKLY="0", BACKUP_KEEP_MONTHLY="0"
    )
    site = backup_site.load()
    done = prune(site, [site.service("plain")]).results[0]
    assert done.ok, done.error
    # plain's: its first backup, the restore's before-restore safety snapshot (issue 15,
    # pruned like any other) and the newest backup, which is kept
    assert len(done.kept) == 1 and len(done.removed) == 2
    assert not [r for r in done.removed if r.startswith(foreign)]
    left = backup_site.restic("plain", "snapshots", "--json", "--no-lock")
    assert [s for s in json.loads(left.stdout) if s["id"].startswith(foreign)]


def test_a_snapshot_path_outside_the_service_is_refused_before_anything_is_written(
    backup_site: BackupSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (backup_site.data / "plain" / "mine.txt").write_text("plain\n")
    site = backup_site.load()
    assert backup(site, [site.service("plain")]).ok
    outside = tmp_path / "x"
    outside.mkdir()
    (outside / "keep.txt").write_text("in the snapshot\n")
    planted = _hand_snapshot(backup_site, "plain", outside, "service=plain")
    (outside / "keep.txt").write_text("live, must stay\n")
    (outside / "new.txt").write_text("live too\n")

    code = run(["--site", str(backup_site.root), "restore", "plain", planted[:12]])
    err = capsys.readouterr().err
    assert code == 1, err
    assert str(outside) in err and "refusing" in err
    assert (outside / "keep.txt").read_text() == "live, must stay\n"
    assert (outside / "new.txt").exists()
    assert not list(tmp_path.glob("x.before-restore-*"))
    assert (backup_site.data / "plain" / "mine.txt").read_text() == "plain\n"


@pytest.mark.fresh_repositories  # no repository is made
def test_a_symlinked_data_folder_is_refused_not_backed_up_empty(
    backup_site: BackupSite, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "db.sqlite").write_bytes(b"x" * 4096)
    plain = backup_site.data / "plain"
    plain.rmdir()
    plain.symlink_to(elsewhere)
    site = backup_site.load()
    done = backup(site, [site.service("plain")]).results[0]
    assert not done.ok
    assert done.error is not None and "symlink" in done.error and str(plain) in done.error
    assert not (backup_site.data / "backups" / "plain" / "config").exists()


@pytest.mark.fresh_repositories  # nothing is made
def test_a_shared_backup_repository_is_refused(
    backup_site: BackupSite, capsys: pytest.CaptureFixture[str]
) -> None:
    (backup_site.data / "plain" / "mine.txt").write_text("plain\n")
    shared = backup_site.root / "shared-repo"
    backup_site.set_env(BACKUP_REPOSITORY=str(shared))
    code = run(["--site", str(backup_site.root), "backup", "plain"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "BACKUP_REPOSITORY" in err and "{service}" in err
    assert not shared.exists()
    site = backup_site.load()
    with pytest.raises(OperationFailed):
        restore(site, site.service("plain"))  # nothing was ever backed up there
