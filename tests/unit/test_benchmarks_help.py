"""Every benchmark answers --help with its usage and exits 0 at once, creating nothing: the
bring-up benchmark used to ignore its arguments and start 32 containers for 2-3 minutes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.parametrize("script", sorted(p.name for p in BENCHMARKS.glob("*.py")))
def test_benchmark_help_prints_usage_and_starts_nothing(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/nonexistent"},  # no docker on PATH: a run would fail, not start things
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: ") and "--help" in done.stdout
    assert done.stderr == ""


def test_bringup_refuses_an_unknown_flag() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bringup.py"), "--kep"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/nonexistent"},
    )
    assert done.returncode == 2 and "unrecognized arguments: --kep" in done.stderr
