"""Health after a pause-mode backup (issue 15): the probes that ran while the container was
frozen failed, and Docker showed `unhealthy` until its next probe, so an `up` right after a
good backup exited 1. The backup now waits for that probe. Real engine, real restic."""

from __future__ import annotations

import pytest

from homestack.backup import backup
from homestack.cli.app import run
from homestack.engine import backup_ops
from testkit.backupsites import SERVE, BackupSite, backup_service, backup_site

pytestmark = pytest.mark.integration
__all__ = ["backup_site"]

# one probe every 3 s that fails once while frozen: unhealthy at once, healthy at the next
PAUSED = backup_service(
    "paused",
    "      backup:\n        consistency: pause",
    SERVE,
    "test -d /data",
).replace(
    "interval: 500ms\n      timeout: 3s\n      retries: 5",
    "interval: 3s\n      timeout: 1s\n      retries: 1",
)


def test_up_right_after_a_pause_backup_finds_the_service_healthy(
    backup_site: BackupSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "interval: 3s" in PAUSED
    stack = backup_site.root / "tst-stack"
    (stack / "services" / "paused.docker-compose.yaml").write_text(PAUSED)
    (stack / "stack.yaml").write_text(
        (stack / "stack.yaml").read_text() + "  - paused\n", encoding="utf-8"
    )
    (backup_site.data / "paused").mkdir()
    (backup_site.data / "paused" / "page.html").write_text("hello\n")
    backup_site.up("paused")
    site = backup_site.load()
    service = site.service("paused")

    # frozen for 5 s while restic runs: the probes in between fail
    monkeypatch.setenv("HOMESTACK_TEST_HOLD_AT", "restic")
    monkeypatch.setenv("HOMESTACK_TEST_HOLD_SECONDS", "5")
    done = backup(site, [service])
    monkeypatch.delenv("HOMESTACK_TEST_HOLD_AT")
    assert done.ok, done.results[0].error
    assert backup_ops.state(site, service).health == "healthy"
    assert not done.results[0].warnings, done.results[0].warnings
    assert run(["--site", str(backup_site.root), "up", "paused"]) == 0
