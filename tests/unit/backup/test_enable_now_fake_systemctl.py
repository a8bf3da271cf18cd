"""backup.timer.enable_now, which the backup timer and the dashboard unit both activate with,
run against a fake `systemctl` on PATH: systemd is not PID 1 in the test machines, so the
real one cannot enable anything here. The fake records its arguments and fails on request."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from homestack.backup.timer import enable_now
from homestack.errors import CommandFailed

FAKE = """#!/bin/sh
echo "$*" >> "{log}"
[ "$1" = "{fail}" ] && {{ echo "refused: $*" >&2; exit 5; }}
exit 0
"""


def _fake_systemctl(folder: Path, fail: str = "") -> Path:
    log = folder / "calls.log"
    script = folder / "systemctl"
    script.write_text(FAKE.format(log=log, fail=fail or "-"), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return log


def test_reloads_then_enables_the_unit_and_says_what_it_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _fake_systemctl(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert enable_now("homestack-backup.timer") == [
        "systemctl daemon-reload",
        "systemctl enable --now homestack-backup.timer",
    ]
    assert log.read_text().splitlines() == ["daemon-reload", "enable --now homestack-backup.timer"]


def test_a_failing_step_stops_there_with_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _fake_systemctl(tmp_path, fail="daemon-reload")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(CommandFailed, match="refused: daemon-reload"):
        enable_now("homestack-dashboard.service")
    assert log.read_text().splitlines() == ["daemon-reload"]  # enable never ran
