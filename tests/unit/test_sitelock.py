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
from homestack.events import Collected, LockWaiting

SRC = Path(__file__).resolve().parents[2] / "src"

HOLDER = """
import sys, time
from pathlib import Path
from homestack.sitelock import site_lock
with site_lock(Path(sys.argv[1]), sys.argv[3], shared=sys.argv[4] == "shared"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold(
    root: Path, seconds: float, action: str = "up", mode: str = "exclusive"
) -> subprocess.Popen[str]:
    """Another process that holds the site's lock for `seconds` (once it printed 'held')."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root), str(seconds), action, mode],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def test_reentrant_in_one_process_and_says_who_holds_it(tmp_path: Path) -> None:
    with sitelock.site_lock(tmp_path, "install all"):
        with sitelock.site_lock(tmp_path, "up"):  # install all runs up: no self-deadlock
            (held,) = sitelock.holders(tmp_path)
            assert held.startswith(f"pid {os.getpid()}, homestack install all, since ")
        assert len(sitelock.holders(tmp_path)) == 1
    assert sitelock.holders(tmp_path) == []  # released, its note removed


def test_another_holder_makes_it_wait_then_fail_naming_the_holder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMESTACK_LOCK_TIMEOUT", "0.6")
    other = hold(tmp_path, 30, "backup jellyfin", "shared")
    heard = Collected()
    try:
        with (
            pytest.raises(sitelock.SiteBusy) as busy,
            sitelock.site_lock(tmp_path, "up", waiting=heard),
        ):
            pytest.fail("the lock was taken while another process held it")
    finally:
        other.kill()
        other.wait()
    message = busy.value.message
    assert f"pid {other.pid}, homestack backup jellyfin" in message
    assert "`homestack up` waited 0.6 s" in message
    assert busy.value.hint and "HOMESTACK_LOCK_TIMEOUT" in busy.value.hint
    (waited,) = heard.of(LockWaiting)  # said once, however long it waited
    assert waited.line().startswith("waiting for the site: pid")


def test_it_goes_ahead_once_the_holder_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOMESTACK_LOCK_TIMEOUT", "60")
    other = hold(tmp_path, 0.5)
    heard = Collected()
    with sitelock.site_lock(tmp_path, "up", waiting=heard):
        assert other.poll() is not None  # it only got the lock after the holder was done
        assert [h.split(", ")[1] for h in sitelock.holders(tmp_path)] == ["homestack up"]
    assert [e.what for e in heard.of(LockWaiting)] == ["the site"]
    assert capsys.readouterr().err == ""  # the library itself writes nothing
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


def test_backups_share_the_site_but_not_with_a_deploy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMESTACK_LOCK_TIMEOUT", "0")
    other = hold(tmp_path, 30, "backup jellyfin", "shared")
    try:
        with sitelock.site_lock(tmp_path, "backup ollama", shared=True):
            assert len(sitelock.holders(tmp_path)) == 2  # two backups side by side
        with pytest.raises(sitelock.SiteBusy), sitelock.site_lock(tmp_path, "down"):
            pass
    finally:
        other.kill()
        other.wait()
    deploying = hold(tmp_path, 30, "up")
    try:
        with (
            pytest.raises(sitelock.SiteBusy, match="homestack up, since"),
            sitelock.site_lock(tmp_path, "backup ollama", shared=True),
        ):
            pass
    finally:
        deploying.kill()
        deploying.wait()
    assert sitelock.holders(tmp_path) == []  # the killed holders' notes are cleared


def test_an_exclusive_request_inside_a_shared_hold_is_a_bug(tmp_path: Path) -> None:
    with (
        sitelock.site_lock(tmp_path, "backup a", shared=True),
        pytest.raises(RuntimeError),
        sitelock.site_lock(tmp_path, "up"),
    ):
        pass


def test_backup_threads_entering_at_once_share_one_hold_and_free_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`backup --all --jobs N`: threads that asked at the same moment each took an flock; the
    second hold overwrote the first (its flock leaked, held until the process ended) and the
    last one out failed with KeyError."""
    import fcntl
    import threading
    import time

    real = sitelock._acquire

    def slow_acquire(*args: object, **kwargs: object) -> int:
        fd = real(*args, **kwargs)  # type: ignore[arg-type]
        time.sleep(0.2)  # both threads are past the "already held?" check meanwhile
        return fd

    monkeypatch.setattr(sitelock, "_acquire", slow_acquire)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def backup(name: str) -> None:
        start.wait()
        try:
            with sitelock.site_lock(tmp_path, f"backup {name}", shared=True):
                time.sleep(0.1)
        except BaseException as error:  # collected for the assert
            errors.append(error)

    threads = [threading.Thread(target=backup, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sitelock._held == {}
    fd = os.open(tmp_path / sitelock.LOCK_FILE, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # nothing leaked: free for `up`
    finally:
        os.close(fd)


def test_a_cli_run_does_not_leave_its_command_line_for_later_calls(tmp_path: Path) -> None:
    from homestack.cli.app import run, state

    run(["--site", str(tmp_path / "nowhere"), "up", "caddy"])  # fails: not a site
    assert state.words is None  # not 'up caddy' from the run before
    assert sitelock.described("up", ("up", "caddy")) == "up caddy"
    assert sitelock.described("up", ("backup", "--all")) == "up"
