"""A container changed by hand while a backup holds it stopped, paused or dumping: the
backup says so (it never reports ok for a copy it cannot vouch for) and leaves the service
running as it found it. Real engine, real restic, real `docker` commands by hand."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable

import pytest

from homestack.backup import backup
from homestack.backup import run as backup_run
from homestack.backup.journal import Journal
from homestack.backup.results import BackupResult
from testkit.backupsites import BackupSite, backup_site

pytestmark = pytest.mark.integration
__all__ = ["backup_site"]


def _docker(*args: str) -> None:
    subprocess.run(["docker", *args], capture_output=True, check=True, timeout=60)


def _set_consistency(site_: BackupSite, service: str, old: str, new: str) -> None:
    path = site_.root / "tst-stack" / "services" / f"{service}.docker-compose.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _backup_acting_at(
    site_: BackupSite,
    monkeypatch: pytest.MonkeyPatch,
    service: str,
    phase: str,
    act: Callable[[], None],
) -> BackupResult:
    """Back `service` up, doing `act` by hand when the backup reaches `phase`."""
    done: list[str] = []

    def by_hand(reached: str) -> None:
        if reached == phase and not done:
            act()
            done.append(reached)

    monkeypatch.setattr(backup_run, "hold_point", by_hand)
    site = site_.load()
    result = backup(site, [site.service(service)]).results[0]
    assert done, f"the backup never reached {phase}"
    assert not Journal.path(site.data_root / ".homestack/backup", service).exists()
    return result


def test_stop_backup_of_a_container_restarted_by_hand_fails_and_drops_its_snapshot(
    backup_site: BackupSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`docker restart` while restic copies a stopped service: it ran on the data being
    read, so the snapshot is not the stopped copy the backup promised."""
    (backup_site.data / "files" / "a.txt").write_text("a\n")
    backup_site.up("files")
    name = f"{backup_site.prefix}tst-files-1"
    result = _backup_acting_at(
        backup_site, monkeypatch, "files", "restic", lambda: _docker("restart", "-t", "1", name)
    )
    assert not result.ok
    assert f"{name} was started again" in (result.error or ""), result.error
    assert "held it stopped" in (result.error or "")
    assert "was removed" in (result.error or "")  # the snapshot
    assert "homestack backup files" in (result.hint or "")
    assert backup_site.snapshot_count("files") == 0
    assert backup_site.running("files")


@pytest.mark.parametrize("by_hand", ["kill", "unpause"])
def test_pause_backup_of_a_container_killed_or_unpaused_by_hand_fails_and_runs_it_again(
    backup_site: BackupSite, monkeypatch: pytest.MonkeyPatch, by_hand: str
) -> None:
    """kill: SIGKILL of a frozen container, but a `docker stop` (which thaws it so it can
    handle SIGTERM and write) ends in the same state, so the copy cannot be vouched for.
    unpause: it ran while restic read. Either way: failed, no snapshot, running again."""
    _set_consistency(backup_site, "files", "consistency: stop", "consistency: pause")
    (backup_site.data / "files" / "a.txt").write_text("a\n")
    backup_site.up("files")
    name = f"{backup_site.prefix}tst-files-1"
    result = _backup_acting_at(
        backup_site, monkeypatch, "files", "restic", lambda: _docker(by_hand, name)
    )
    assert not result.ok
    error = result.error or ""
    assert f"{name} went from paused to" in error and "held it paused" in error, error
    assert backup_site.snapshot_count("files") == 0
    assert ("homestack started files again" in error) == (by_hand == "kill")
    backup_site.wait_healthy("files")  # left as it was found: running, not paused


def test_dump_interrupted_by_a_kill_is_not_kept_and_the_service_runs_again(
    backup_site: BackupSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The container is killed while its dump command runs: the dump may be torn."""
    _set_consistency(
        backup_site,
        "db",
        'dump_command: ["sh", "-c", "cat /data/db/rows"]',
        'dump_command: ["sh", "-c", "touch /data/dumping; sleep 30; cat /data/db/rows"]',
    )
    backup_site.up("db")
    (backup_site.data / "db" / "dump.txt").write_text("previous\n")
    name = f"{backup_site.prefix}tst-db-1"
    started = backup_site.data / "db" / "dumping"

    def kill_mid_dump() -> None:
        def kill() -> None:
            deadline = time.monotonic() + 60
            while not started.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            _docker("kill", name)

        threading.Thread(target=kill, daemon=True).start()

    result = _backup_acting_at(backup_site, monkeypatch, "db", "dumping", kill_mid_dump)
    assert started.exists()
    assert not result.ok
    assert f"{name} went from running to exited while its dump command ran" in (
        result.error or ""
    ), result.error
    assert (backup_site.data / "db" / "dump.txt").read_text() == "previous\n"
    assert not [p for p in (backup_site.data / "db").iterdir() if "partial" in p.name]
    assert not (backup_site.data / "backups" / "db" / "snapshots").exists() or (
        backup_site.snapshot_count("db") == 0
    )
    backup_site.wait_healthy("db")


def test_dump_backup_of_a_container_killed_after_its_dump_is_ok_with_a_warning(
    backup_site: BackupSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed while restic copies a finished dump: the dump is whole, so the snapshot is
    good, but the service was left dead: homestack starts it again and says so."""
    backup_site.up("db")
    name = f"{backup_site.prefix}tst-db-1"
    result = _backup_acting_at(
        backup_site, monkeypatch, "db", "restic", lambda: _docker("kill", name)
    )
    assert result.ok, result.error
    assert backup_site.snapshot_count("db") == 1
    assert any("homestack started db again (it was exited)" in w for w in result.warnings)
    backup_site.wait_healthy("db")


def test_a_one_off_compose_run_container_is_not_taken_for_the_service(
    backup_site: BackupSite,
) -> None:
    """`ps --all` lists `docker compose run` containers too: with the service's own container
    removed by hand, a running one-off made the service look present and running."""
    from homestack.engine import backup_ops
    from homestack.engine.compose import ComposeProject

    backup_site.up("files")
    site = backup_site.load()
    service = site.service("files")
    ComposeProject(site, site.stacks["tst"], services=[service]).run(
        "run", "-d", "--no-deps", "files", timeout=120
    )
    _docker("rm", "-f", f"{backup_site.prefix}tst-files-1")
    assert not backup_ops.state(site, service).exists
    assert backup_ops.container(site, service) is None


def test_a_paused_service_whose_stop_backup_was_killed_9_is_put_back_paused(
    backup_site: BackupSite,
) -> None:
    """The journal said it was paused; recovery started it and left it running."""
    from homestack.backup.recover import recover
    from homestack.engine import backup_ops

    backup_site.up("files")
    _docker("pause", f"{backup_site.prefix}tst-files-1")
    backup_site.spawn_and_kill("backup", "files", hold_at="stopped")
    assert not backup_site.running("files")
    site = backup_site.load()
    done = recover(site, site.service("files"))  # what the next backup or `up` runs first
    assert any("paused files again" in line for line in done), done
    assert backup_ops.state(site, site.service("files")).paused


def test_pause_backup_of_a_container_removed_by_hand_fails_and_drops_its_snapshot(
    backup_site: BackupSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set_consistency(backup_site, "files", "consistency: stop", "consistency: pause")
    (backup_site.data / "files" / "a.txt").write_text("a\n")
    backup_site.up("files")
    name = f"{backup_site.prefix}tst-files-1"
    result = _backup_acting_at(
        backup_site, monkeypatch, "files", "restic", lambda: _docker("rm", "-f", name)
    )
    assert not result.ok
    assert "container was removed during the backup" in (result.error or "")
    assert "was removed: the copy may be inconsistent" in (result.error or ""), result.error
    assert "homestack up files" in (result.hint or "")
    assert backup_site.snapshot_count("files") == 0
