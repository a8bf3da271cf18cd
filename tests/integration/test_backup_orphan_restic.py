"""A killed backup leaves no restic running on its own (issue 15): kill -9 of homestack's
main pid left restic reading the service's data while `up` restarted the service. restic now
gets SIGTERM when homestack dies (PR_SET_PDEATHSIG), and recovery ends an orphan on the same
repository before it restarts the service. Real engine, real restic."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from homestack.backup import config
from homestack.backup.journal import Journal
from homestack.backup.restic import is_restic_on
from homestack.cli.app import run
from testkit.backupsites import BackupSite, backup_site
from testkit.engine import wait_for

pytestmark = pytest.mark.integration
__all__ = ["backup_site"]

SIGTERM_BIT = 1 << (signal.SIGTERM - 1)


def _restic_on(repository: str) -> list[int]:
    """Every restic process on the repository, orphan or not."""
    wanted = f"RESTIC_REPOSITORY={repository}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if (
                proc.name.isdigit()
                and (proc / "comm").read_text().strip() == "restic"
                and wanted in (proc / "environ").read_bytes().split(b"\0")
            ):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _pending(pid: int) -> int:
    """The signals pending on a process (its own and its thread group's)."""
    status = Path(f"/proc/{pid}/status").read_text()
    masks = [
        line.split()[1] for line in status.splitlines() if line.startswith(("SigPnd", "ShdPnd"))
    ]
    return int(masks[0], 16) | int(masks[1], 16)


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def test_restic_gets_sigterm_when_homestack_is_killed(backup_site: BackupSite) -> None:
    (backup_site.data / "files" / "big.bin").write_bytes(os.urandom(4 << 20))  # frozen at once
    backup_site.up("files")
    repository = config.repository(backup_site.load(), "files")
    child, marker = backup_site.spawn("backup", "files", hold_at="restic-started")
    journal = backup_site.data / ".homestack" / "backup" / "files.journal.json"
    restic: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline:
            assert child.poll() is None, child.communicate()
            time.sleep(0.01)
        restic = [json.loads(journal.read_text())["restic_pid"]]  # restic backup, just started
        assert is_restic_on(restic[0], repository)
        os.kill(restic[0], signal.SIGSTOP)  # frozen, it can neither finish nor act on a signal
        os.kill(child.pid, signal.SIGKILL)  # homestack's main pid only, not its group
        child.communicate()
        told = wait_for(lambda: bool(_pending(restic[0]) & SIGTERM_BIT), timeout=10, step=0.02)
        assert told, "restic was not told its homestack died"
        os.kill(restic[0], signal.SIGCONT)
        assert _gone(restic[0]), "restic went on after SIGTERM"
    finally:
        for pid in _restic_on(repository):
            os.kill(pid, signal.SIGKILL)
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()


def test_recovery_ends_an_orphan_restic_before_it_restarts_the_service(
    backup_site: BackupSite, capsys: pytest.CaptureFixture[str]
) -> None:
    backup_site.up("files")
    site_arg = ["--site", str(backup_site.root)]
    assert run([*site_arg, "backup", "files"]) == 0  # the repository and password exist
    site = backup_site.load()
    repository = config.repository(site, "files")
    # what a killed stop-backup leaves: the service stopped, its journal naming the restic
    # it had started, and that restic still going
    subprocess.run(
        ["docker", "stop", "-t", "1", f"{backup_site.prefix}tst-files-1"],
        check=True,
        capture_output=True,
    )
    env = {
        **os.environ,
        "RESTIC_REPOSITORY": repository,
        "RESTIC_PASSWORD_FILE": str(config.password_path(site)),
    }
    restic = subprocess.Popen(
        ["restic", "backup", "--host", "homestack", str(backup_site.data / "files")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    os.kill(restic.pid, signal.SIGSTOP)  # frozen: it would be done before `up` looks
    journal = Journal("files", "backup", was_running=True, restic_pid=restic.pid)
    journal.phase = "restic"
    journal.save(site.data_root / ".homestack" / "backup")
    try:
        assert is_restic_on(restic.pid, repository)
        capsys.readouterr()
        assert run([*site_arg, "up", "files"]) == 0
        out = capsys.readouterr().out
        assert f"ended restic (pid {restic.pid})" in " ".join(out.split()), out
        assert restic.wait(timeout=5) == -signal.SIGTERM, "it was ended, not left to finish"
        assert backup_site.running("files")
    finally:
        if restic.poll() is None:
            restic.kill()
            restic.wait()


def test_any_next_command_starts_a_service_a_killed_backup_left_stopped(
    backup_site: BackupSite, capsys: pytest.CaptureFixture[str]
) -> None:
    (backup_site.data / "files" / "page.html").write_text("hello\n")
    backup_site.up("files")
    backup_site.spawn_and_kill("backup", "files", hold_at="stopped")
    assert not backup_site.running("files")
    capsys.readouterr()
    assert run(["--site", str(backup_site.root), "status", "--json"]) == 0
    err = capsys.readouterr().err
    assert "recovered files: started files, left stopped by an interrupted backup" in err
    assert backup_site.running("files")
