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


@pytest.mark.parametrize("script", sorted(p.name for p in BENCHMARKS.glob("*.py")))
def test_every_benchmark_has_a_smoke_mode_and_a_section_in_the_readme(script: str) -> None:
    """CI runs each benchmark once with --smoke (run-tests.sh); each is documented."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/nonexistent"},
    )
    assert "--smoke" in done.stdout
    readme = (BENCHMARKS / "README.md").read_text(encoding="utf-8")
    assert f"## {script}" in readme and f"benchmarks/{script} --smoke" in readme


def test_run_tests_runs_every_benchmark_in_smoke_mode() -> None:
    script = (BENCHMARKS.parent / "run-tests.sh").read_text(encoding="utf-8")
    assert "for bench in benchmarks/*.py; do" in script and '"$bench" --smoke' in script
