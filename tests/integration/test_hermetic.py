"""The suite is hermetic (issue 15): indifferent to an exported HOMESTACK_PREFIX (a user
running the tests on a machine with a real site has one), and a run fails when a test leaves
a container, network or volume of this run behind. Each runs pytest in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

TESTS = Path(__file__).resolve().parents[1]

LEAKY = """
import subprocess


def test_leaves_a_network(test_prefix, docker_engine):
    subprocess.run(["docker", "network", "create", test_prefix + "leak"], check=True)
"""


def _pytest(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "0", "-q", "-p", "no:cacheprovider", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
        cwd=cwd,
    )


def test_the_suite_ignores_an_exported_homestack_prefix(
    docker_engine: str, standin_image: str
) -> None:
    env = {**os.environ, "HOMESTACK_PREFIX": "xyz_", "DATA_ROOT": "/nonexistent"}
    done = _pytest(
        str(TESTS / "integration" / "test_backup_kit.py"),
        "-k",
        "whatever_the_caller_exported",
        env=env,
        cwd=TESTS.parent,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
    names = subprocess.run(
        ["docker", "network", "ls", "--format", "{{.Name}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert not [n for n in names if n.startswith("xyz_")]


def test_a_run_that_leaves_a_resource_behind_fails_and_removes_it(
    tmp_path: Path, docker_engine: str
) -> None:
    (tmp_path / "test_leaky.py").write_text(LEAKY)
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    done = _pytest(
        "-p", "conftest", "--rootdir", str(tmp_path), str(tmp_path), env=env, cwd=tmp_path
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "1 passed" in out and "LEAK CHECK FAILED" in out, out
    leaked = [word for word in out.split() if word.endswith("leak")]
    assert leaked, out
    names = subprocess.run(
        ["docker", "network", "ls", "--format", "{{.Name}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert leaked[0] not in names, "the leak check removes what it found"
