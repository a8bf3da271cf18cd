"""A restore never silently throws away newer work (issue 15): it first keeps the live data
as a snapshot tagged before-restore, names what it changed and how to undo it. Real engine,
real restic."""

from __future__ import annotations

import json
import re

import pytest

from homestack.cli.app import run
from testkit.backupsites import BackupSite, backup_site

pytestmark = pytest.mark.integration
__all__ = ["backup_site"]


def test_restore_keeps_newer_work_in_a_before_restore_snapshot_and_names_the_changes(
    backup_site: BackupSite, capsys: pytest.CaptureFixture[str]
) -> None:
    data = backup_site.data / "files"
    (data / "kept.txt").write_text("in the backup\n")
    (data / "edited.txt").write_text("old\n")
    backup_site.up("files")
    site = ["--site", str(backup_site.root)]
    assert run([*site, "backup", "files"]) == 0
    (data / "new-work.txt").write_text("written after the backup\n")
    (data / "edited.txt").write_text("new\n")
    (data / "kept.txt").unlink()
    capsys.readouterr()

    assert run([*site, "restore", "files", "--yes"]) == 0
    out = capsys.readouterr().out
    assert not (data / "new-work.txt").exists()
    assert (data / "edited.txt").read_text() == "old\n"
    assert re.search(r"1 file removed \(newer than the snapshot\): \S*new-work\.txt", out), out
    assert re.search(r"1 file added back: \S*kept\.txt", out), out
    assert re.search(r"1 file changed back: \S*edited\.txt", out), out
    undo = re.search(r"to undo: homestack restore files ([0-9a-f]{8})", out)
    assert undo, out
    assert backup_site.running("files")

    listed = json.loads(backup_site.restic("files", "snapshots", "--json", "--no-lock").stdout)
    safety = [s for s in listed if "before-restore" in (s.get("tags") or [])]
    assert [s["short_id"] for s in safety] == [undo.group(1)]
    assert "service=files" in safety[0]["tags"]

    # the undo brings the newer work back, and says so in --json too
    assert run([*site, "restore", "files", undo.group(1), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (data / "new-work.txt").read_text() == "written after the backup\n"
    assert [p.rsplit("/", 1)[-1] for p in result["added"]] == ["new-work.txt"]
    assert result["safety_snapshot"]

    # a plain restore takes the latest backup, never a restore's own safety snapshot
    assert run([*site, "restore", "files", "--yes", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    backups = [s for s in listed if "before-restore" not in (s.get("tags") or [])]
    assert again["snapshot"] == backups[-1]["id"]
    assert not (data / "new-work.txt").exists()
