"""The suite is hermetic (issue 15): indifferent to an exported HOMESTACK_PREFIX (a user
running the tests on a machine with a real site has one), and a run fails when a test leaves
a container, network or volume of this run behind. Each runs pytest in a child process."""

from __future__ import annotations

import os
import re
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


#: one module per site builder of testkit and per kind of test (unit, on the engine): the
#: backup site and a running site write their prefix into the site's .env, up/plan and the
#: deploy tests' sites read the environment, the catalog site none
REPRESENTATIVE = (
    "integration/test_backup_kit.py",
    "integration/test_doctor_clock.py",
    "unit/test_up_plan.py",
    "unit/deploy/test_deploy_secrets.py",
    "unit/test_plan.py",
)


def test_the_suite_ignores_an_exported_homestack_prefix(
    docker_engine: str, standin_image: str
) -> None:
    """Issue 15, done when: the suite passes with HOMESTACK_PREFIX=xyz_ exported (and the
    other settings a user with a real site has: DATA_ROOT, DOMAIN, a port)."""
    env = {
        **os.environ,
        "HOMESTACK_PREFIX": "xyz_",
        "DATA_ROOT": "/nonexistent",
        "DOMAIN": "real.example",
        "OLLAMA_PORT": "1",
    }
    done = _pytest(*(str(TESTS / path) for path in REPRESENTATIVE), env=env, cwd=TESTS.parent)
    out = done.stdout[-3000:] + done.stderr[-2000:]
    assert done.returncode == 0, out
    passed = re.search(r"(\d+) passed", done.stdout)
    assert passed and int(passed.group(1)) >= 40, out
    assert "failed" not in done.stdout and "skipped" not in done.stdout, out
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
