"""A failing backup notifies exactly once through Apprise; a channel that is down fails nothing.

Real restic, the real engine (the backup kit's site) and real Apprise, posting json:// to a
receiver on a loopback port.
"""

from __future__ import annotations

import json

import pytest

from homestack.cli.app import run
from testkit.backupsites import BackupSite, backup_site
from testkit.receiver import Receiver

pytestmark = pytest.mark.integration
__all__ = ["backup_site"]


@pytest.mark.fresh_repositories  # a file takes the repository's place
def test_a_failing_backup_notifies_once_and_a_down_channel_fails_no_backup(
    backup_site: BackupSite,
) -> None:
    receiver = Receiver()
    port = receiver.start()
    site = str(backup_site.root)
    urls = backup_site.root / "secrets" / "homestack_notify_urls"
    urls.write_text(f"# the test's receiver\njson://127.0.0.1:{port}/hook\n")
    urls.chmod(0o600)
    # the repository's place is taken by a file: restic cannot make it, the backup fails
    blocker = backup_site.data / "backups" / "plain"
    blocker.parent.mkdir()
    blocker.write_text("not a repository\n")
    try:
        assert run(["--site", site, "backup", "plain"]) == 1
        assert receiver.titles() == ["Backup of plain failed"]
        assert receiver.got[0].body["type"] == "failure"
        assert run(["--site", site, "backup", "plain"]) == 1  # still failing: no second one
        assert receiver.titles() == ["Backup of plain failed"]

        receiver.stop()  # the channel goes down
        blocker.unlink()
        assert run(["--site", site, "backup", "plain"]) == 0  # the backup itself worked
        assert len(receiver.got) == 1
        state = backup_site.data / ".homestack" / "notify" / "state.json"
        pending = json.loads(state.read_text())["pending"]
        assert [p["event"]["title"] for p in pending] == ["Backup of plain works again"]

        receiver = Receiver(port=port, got=receiver.got)
        receiver.start()  # back, on the same port
        assert run(["--site", site, "notify", "flush"]) == 0
        assert receiver.titles() == ["Backup of plain failed", "Backup of plain works again"]
        assert json.loads(state.read_text())["pending"] == []
    finally:
        receiver.stop()


def test_a_failed_verify_notifies_once(backup_site: BackupSite) -> None:
    receiver = Receiver()
    port = receiver.start()
    site = str(backup_site.root)
    (backup_site.data / "plain" / "notes.txt").write_text("keep me\n" * 1000)
    assert run(["--site", site, "backup", "plain"]) == 0
    (backup_site.root / "secrets" / "homestack_notify_urls").write_text(
        f"json://127.0.0.1:{port}/\n"
    )
    try:
        assert run(["--site", site, "verify", "plain", "--read-data"]) == 0
        assert receiver.got == []  # it never failed: nothing to say
        packs = [p for p in (backup_site.data / "backups/plain/data").rglob("*") if p.is_file()]
        pack = max(packs, key=lambda p: p.stat().st_size)
        pack.chmod(0o644)
        raw = bytearray(pack.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        pack.write_bytes(bytes(raw))
        assert run(["--site", site, "verify", "plain", "--read-data"]) == 1
        assert run(["--site", site, "verify", "plain", "--read-data"]) == 1
        assert receiver.titles() == ["Backups of plain failed verification"]
        assert "homestack verify plain" in receiver.got[0].body["message"]
    finally:
        receiver.stop()
