"""kill -9 at each phase, a full disk, a concurrent backup, a flipped byte: real engine, restic."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from homestack.backup import backup, restore, verify
from homestack.backup.journal import Journal
from homestack.cli.app import run
from homestack.engine import backup_ops
from homestack.errors import OperationFailed
from testkit.backupsites import BackupSite, backup_site, fill_files, manifest

pytestmark = pytest.mark.integration
__all__ = ["backup_site"]


def _assert_recovers(site_: BackupSite, service: str) -> None:
    """The next backup succeeds (recovering first), the repository checks, it runs."""
    site = site_.load()
    done = backup(site, [site.service(service)])
    assert done.ok, done.results[0].error
    check = site_.restic(service, "check")
    assert check.returncode == 0, check.stderr
    assert site_.running(service)
    assert not Journal.path(site.data_root / ".homestack/backup", service).exists()


def test_kill_9_during_restic_backup_leaves_nothing_broken(backup_site: BackupSite) -> None:
    fill_files(backup_site.data / "files")
    (backup_site.data / "files" / "big.bin").write_bytes(os.urandom(1 << 20))  # held before restic
    backup_site.up("files")
    backup_site.spawn_and_kill("backup", "files", hold_at="restic")
    assert not backup_site.running("files"), "the killed backup had stopped the service"
    _assert_recovers(backup_site, "files")


def test_second_concurrent_backup_is_refused_then_kill_9_while_stopped_recovers(
    backup_site: BackupSite, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first backup holds the lock with its service stopped; it is then killed -9."""
    backup_site.up("files", "db")
    child, marker = backup_site.spawn("backup", "files", hold_at="stopped")
    try:
        while not marker.exists():
            assert child.poll() is None, child.communicate()
        assert run(["--site", str(backup_site.root), "backup", "files"]) == 1
        out = capsys.readouterr()
        assert "busy" in out.out and "another homestack process" in out.out
        # another service backs up meanwhile
        site = backup_site.load()
        assert backup(site, [site.service("db")]).ok
    finally:
        os.killpg(child.pid, 9)
        child.communicate()
    assert not backup_site.running("files"), "the killed backup had stopped the service"
    _assert_recovers(backup_site, "files")


def test_no_deploy_acts_on_a_service_a_backup_holds_stopped(
    backup_site: BackupSite, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While `backup files` holds files stopped, `up` and `restart` wait for the site lock
    and give up naming the backup; when the backup is gone, `up` goes ahead."""
    backup_site.up("files", "db")
    child, marker = backup_site.spawn("backup", "files", hold_at="stopped")
    monkeypatch.setenv("HOMESTACK_LOCK_TIMEOUT", "1")
    try:
        while not marker.exists():
            assert child.poll() is None, child.communicate()
        root = str(backup_site.root)
        for command in (["up", "files"], ["restart", "db"], ["down", "db"]):
            assert run(["--site", root, *command]) == 1, command
            err = capsys.readouterr().err
            assert f"pid {child.pid}, homestack backup files" in err, err
            assert "HOMESTACK_LOCK_TIMEOUT" in err
        assert not backup_site.running("files"), "up started what the backup had stopped"
        assert backup_site.running("db")
    finally:
        os.killpg(child.pid, 9)
        child.communicate()
    _assert_recovers(backup_site, "files")


def test_kill_9_while_dumping_never_leaves_a_torn_dump(backup_site: BackupSite) -> None:
    backup_site.up("db")
    (backup_site.data / "db" / "db" / "rows").write_text("one\n")
    site = backup_site.load()
    assert backup(site, [site.service("db")]).ok
    (backup_site.data / "db" / "db" / "rows").write_text("two\n")
    backup_site.spawn_and_kill("backup", "db", hold_at="dumped")
    assert (backup_site.data / "db" / "dump.txt").read_text() == "one\n"
    _assert_recovers(backup_site, "db")
    assert (backup_site.data / "db" / "dump.txt").read_text() == "two\n"
    assert not [p for p in os.listdir(backup_site.data / "db") if "partial" in p]


def test_kill_9_while_swapping_in_a_restore_puts_the_live_data_back(
    backup_site: BackupSite,
) -> None:
    data = backup_site.data / "files"
    fill_files(data)
    (backup_site.data / "config" / "files" / "app.conf").write_text("v1\n")
    backup_site.up("files")
    site = backup_site.load()
    assert backup(site, [site.service("files")]).ok
    (data / "text.txt").write_text("newer")
    (backup_site.data / "config" / "files" / "app.conf").write_text("v2\n")
    live = manifest(data, backup_site.data / "config" / "files")

    backup_site.spawn_and_kill("restore", "files", hold_at="swapping")
    config = backup_site.data / "config" / "files"
    assert not (data.exists() and config.exists()), "killed between two renames"
    _assert_recovers(backup_site, "files")
    assert manifest(data, backup_site.data / "config" / "files") == live
    assert not list(backup_site.data.glob("files.before-restore-*"))
    assert not list(backup_site.data.glob(".files.restore-incoming"))


@pytest.mark.fresh_repositories  # DATA/backups is a small tmpfs
def test_full_disk_during_backup_fails_keeps_old_snapshots_and_service(
    backup_site: BackupSite,
) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    target = backup_site.data / "backups"
    target.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(target)], check=True)
    try:
        (backup_site.data / "files" / "small.txt").write_text("small\n")
        backup_site.up("files")
        assert run(["--site", str(backup_site.root), "backup", "files"]) == 0
        (backup_site.data / "files" / "huge.bin").write_bytes(os.urandom(16 << 20))
        assert run(["--site", str(backup_site.root), "backup", "files"]) == 1
        assert backup_site.snapshot_count("files") == 1
        assert backup_site.running("files")
        subprocess.run(["mount", "-o", "remount,size=128m", str(target)], check=True)
        assert backup_site.restic("files", "check").returncode == 0
        _assert_recovers(backup_site, "files")
        assert backup_site.snapshot_count("files") == 2
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def _largest_pack(repository: Path) -> Path:
    packs = [p for p in (repository / "data").rglob("*") if p.is_file()]
    return max(packs, key=lambda p: p.stat().st_size)


def test_flipped_byte_fails_verify_and_restore_refuses_that_snapshot(
    backup_site: BackupSite, capsys: pytest.CaptureFixture[str]
) -> None:
    data = backup_site.data / "files"
    fill_files(data)
    backup_site.up("files")
    site = backup_site.load()
    assert backup(site, [site.service("files")]).ok
    assert verify(site, [site.service("files")], read_data=True).ok

    pack = _largest_pack(backup_site.data / "backups" / "files")
    pack.chmod(0o644)
    raw = bytearray(pack.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    pack.write_bytes(bytes(raw))

    assert run(["--site", str(backup_site.root), "verify", "files", "--read-data"]) == 1
    assert "FAILED" in capsys.readouterr().out
    (data / "text.txt").write_text("current")
    live = manifest(data)
    with pytest.raises(OperationFailed, match="FAILED") as failure:
        restore(site, site.service("files"))
    assert "put back" in failure.value.message
    assert manifest(data) == live
    assert backup_site.running("files")


def test_pause_backup_killed_9_while_paused_is_unpaused_by_the_next_run(
    backup_site: BackupSite,
) -> None:
    compose = backup_site.root / "tst-stack" / "services" / "files.docker-compose.yaml"
    compose.write_text(compose.read_text().replace("consistency: stop", "consistency: pause"))
    (backup_site.data / "files" / "a.txt").write_text("a\n")
    backup_site.up("files")
    child, marker = backup_site.spawn("backup", "files", hold_at="restic")
    try:
        while not marker.exists():
            assert child.poll() is None, child.communicate()
        site = backup_site.load()
        assert backup_ops.state(site, site.service("files")).paused
    finally:
        os.killpg(child.pid, 9)
        child.communicate()
    _assert_recovers(backup_site, "files")


@pytest.mark.fresh_repositories  # DATA is a small tmpfs
def test_restore_is_refused_without_enough_free_space(backup_site: BackupSite) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    data = backup_site.data
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(data)], check=True)
    try:
        backup_site.set_env(BACKUP_REPOSITORY=str(backup_site.root / "repos" / "{service}"))
        (data / "plain").mkdir()
        (data / "plain" / "big.bin").write_bytes(os.urandom(4 << 20))
        site = backup_site.load()
        assert backup(site, [site.service("plain")]).ok
        (data / "plain" / "big.bin").write_bytes(b"changed")
        with pytest.raises(OperationFailed, match="not enough free space"):
            restore(site, site.service("plain"))
        assert (data / "plain" / "big.bin").read_bytes() == b"changed"
        assert sorted(p.name for p in (data / "plain").iterdir()) == ["big.bin"]
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


@pytest.mark.parametrize("neighbour", [False, True])
def test_a_container_removed_by_hand_during_a_stop_backup_is_reported_not_ok(
    backup_site: BackupSite, monkeypatch: pytest.MonkeyPatch, neighbour: bool
) -> None:
    """`compose start` of a removed container fails with a bare message, or (when the stack
    has other containers) exits 0: the backup said ok while the service was gone."""
    from homestack.backup import run as backup_run

    backup_site.up("files", *(["db"] if neighbour else []))
    removed: list[str] = []

    def remove_by_hand(phase: str) -> None:
        if phase == "restic" and not removed:
            name = f"{backup_site.prefix}tst-files-1"
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=True)
            removed.append(name)

    monkeypatch.setattr(backup_run, "hold_point", remove_by_hand)
    site = backup_site.load()
    done = backup(site, [site.service("files")])
    assert removed
    result = done.results[0]
    assert not result.ok
    assert "container was removed during the backup" in (result.error or "")
    assert "homestack up files" in (result.hint or "")
    assert backup_site.snapshot_count("files") == 1  # the snapshot itself was taken
    assert "snapshot" in (result.error or "")  # whether or not the stack has neighbours
    site = backup_site.load()
    assert not Journal.path(site.data_root / ".homestack/backup", "files").exists()


def test_up_after_a_restore_killed_9_mid_swap_puts_the_live_data_back_first(
    backup_site: BackupSite,
) -> None:
    """`up` started the service on a half-swapped folder; the next backup then undid the
    restore under it, dropping what the service had written since."""
    from homestack.deploy.up import up

    data = backup_site.data / "files"
    config = backup_site.data / "config" / "files"
    fill_files(data)
    (config / "app.conf").write_text("v1\n")
    backup_site.up("files")
    site = backup_site.load()
    assert backup(site, [site.service("files")]).ok
    (data / "text.txt").write_text("newer")
    (config / "app.conf").write_text("v2\n")
    live = manifest(data, config)

    backup_site.spawn_and_kill("restore", "files", hold_at="swapping")
    result = up(backup_site.load(), ["files"])
    assert manifest(data, config) == live
    assert result.ok, result.summary()
    assert any("undid an interrupted restore" in line for line in result.recovered)
    assert backup_site.running("files")
    assert not Journal.path(site.data_root / ".homestack/backup", "files").exists()
    assert not list(backup_site.data.glob("files.before-restore-*"))
