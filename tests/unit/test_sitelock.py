"""The site lock: one command at a time changes the containers; real flocks, real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from homestack import sitelock
from homestack.errors import BadInput

SRC = Path(__file__).resolve().parents[2] / "src"

HOLDER = """
import sys, time
from pathlib import Path
from homestack.sitelock import site_lock
with site_lock(Path(sys.argv[1]), "backup jellyfin"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold(root: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process that holds the site's lock for `seconds` (once it printed 'held')."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def test_reentrant_in_one_process_and_says_who_holds_it(tmp_path: Path) -> None:
    lock_file = tmp_path / ".homestack" / "site.lock"
    with sitelock.site_lock(tmp_path, "install all"):
        with sitelock.site_lock(tmp_path, "up"):  # install all runs up: no self-deadlock
            assert sitelock.holder(lock_file).startswith(f"pid {os.getpid()}, homestack install")
        assert "install all" in sitelock.holder(lock_file)
    assert sitelock.holder(lock_file) == ""  # released and wiped


def test_another_holder_makes_it_wait_then_fail_naming_the_holder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOMESTACK_LOCK_TIMEOUT", "0.6")
    other = hold(tmp_path, 30)
    try:
        with pytest.raises(sitelock.SiteBusy) as busy, sitelock.site_lock(tmp_path, "up"):
            pytest.fail("the lock was taken while another process held it")
    finally:
        other.kill()
        other.wait()
    message = busy.value.message
    assert f"pid {other.pid}, homestack backup jellyfin" in message
    assert "`homestack up` waited 0.6 s" in message
    assert busy.value.hint and "HOMESTACK_LOCK_TIMEOUT" in busy.value.hint
    assert "waiting for the site: pid" in capsys.readouterr().err


def test_it_goes_ahead_once_the_holder_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOMESTACK_LOCK_TIMEOUT", "60")
    other = hold(tmp_path, 0.5)
    with sitelock.site_lock(tmp_path, "up"):
        assert other.poll() is not None  # it only got the lock after the holder was done
        assert "homestack up" in sitelock.holder(tmp_path / ".homestack" / "site.lock")
    assert "waiting for the site" in capsys.readouterr().err
    assert other.wait() == 0


def test_a_killed_holder_frees_the_site_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMESTACK_LOCK_TIMEOUT", "0")
    other = hold(tmp_path, 30)
    os.kill(other.pid, signal.SIGKILL)
    other.wait()
    with sitelock.site_lock(tmp_path, "down"):  # timeout 0: a stale lock would raise here
        pass


def test_a_bad_timeout_setting_is_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMESTACK_LOCK_TIMEOUT", "soon")
    with (
        pytest.raises(BadInput, match="HOMESTACK_LOCK_TIMEOUT=soon"),
        sitelock.site_lock(tmp_path, "up"),
    ):
        pass
