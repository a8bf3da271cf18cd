"""Shared fixtures: a real Docker engine, the stand-in image, a namespaced test site."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.engine import (
    IN_CI,
    RUN_DIR_VARIABLE,
    RUN_VARIABLE,
    leftovers_of_this_run,
    new_prefix,
    remove_everything_named,
)

__all__ = ["IN_CI"]  # kept importable here for tests that take it from conftest

#: what a test may take from the caller's environment: how to run programs and reach the
#: engine, never a setting homestack, Compose or restic reads (HOMESTACK_PREFIX, DATA_ROOT,
#: DOMAIN, TZ, COMPOSE_*, RESTIC_*, SUDO_*, a service's *_PORT …). A user running the tests
#: on a machine with a real site has those exported; a test sets what it relies on itself.
KEPT_FROM_CALLER = re.compile(
    r"(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_\w+|TMPDIR|PWD|OLDPWD|SHLVL|_"
    r"|CI|VIRTUAL_ENV|PYTHON\w*|PYTEST\w*|PIP_\w+|XDG_RUNTIME_DIR"
    r"|DOCKER_HOST|DOCKER_CONFIG|DOCKER_CONTEXT|DOCKER_CERT_PATH|DOCKER_TLS_VERIFY"
    r"|\w*_CA_\w*|\w*CA_BUNDLE|SSL_CERT_\w+|NODE_EXTRA_CA_CERTS"
    r"|HOMESTACK_ARTIFACTS|PLAYWRIGHT_\w+|DISPLAY"  # where tests put artifacts; the browser
    r"|UPDATE_SNAPSHOTS"  # tests/testkit/jsonsnap.py: rewrite the --json snapshots
    r"|(?i:https?_proxy|no_proxy))"
)


def pytest_configure(config: pytest.Config) -> None:
    """Hermetic: drop the caller's settings from this process's environment (every worker
    and every program a test runs inherits it). The controller also names this run, so the
    leak check at the end looks only at what this run created (other runs may share the
    engine); xdist workers inherit the name."""
    worker = hasattr(config, "workerinput")
    for name in list(os.environ):
        if KEPT_FROM_CALLER.fullmatch(name):
            continue
        if worker and name in (RUN_VARIABLE, RUN_DIR_VARIABLE):
            continue
        del os.environ[name]
    # doctor asks the host's resolver for start.{DOMAIN}: tests send nothing beyond loopback and
    # their own namespaces (tests/unit/observe/test_doctor_lan.py asks a private resolver)
    os.environ["HOMESTACK_DOCTOR_DNS"] = "off"
    if not worker:
        run_dir = tempfile.mkdtemp(prefix="homestack-test-run-")
        os.environ[RUN_DIR_VARIABLE] = run_dir
        os.environ[RUN_VARIABLE] = Path(run_dir).name.rsplit("-", 1)[-1]


ENGINE_FIXTURES = {"docker_engine", "standin_image", "engine_cleanup"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests under tests/integration and tests/e2e carry their marker (so `-m "not
    integration and not e2e"` is the unit suite), and no unit test asks for the engine."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        for marker in ("integration", "e2e"):
            if marker in parts and item.get_closest_marker(marker) is None:
                item.add_marker(getattr(pytest.mark, marker))
    offenders = [
        item.nodeid
        for item in items
        if "unit" in Path(str(item.fspath)).parts
        and ENGINE_FIXTURES & set(getattr(item, "fixturenames", ()))
        and not (item.get_closest_marker("integration") or item.get_closest_marker("e2e"))
    ]
    if offenders:
        raise pytest.UsageError(
            "unit tests must not need the Docker engine; mark these integration or move them "
            "to tests/integration: " + ", ".join(offenders)
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a test left a container, network or volume of this run behind
    (by the prefixes handed out in this run), after removing them."""
    if hasattr(session.config, "workerinput") or not os.environ.get(RUN_DIR_VARIABLE):
        return
    run_dir = Path(os.environ[RUN_DIR_VARIABLE])
    try:
        left = leftovers_of_this_run(run_dir) if _engine_answers() else []
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    if not left:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = (
        f"LEAK CHECK FAILED: {len(left)} test resources were left behind (now removed): "
        + ", ".join(left)
    )
    if reporter is not None:
        reporter.write_line(message, red=True, bold=True)
    else:
        print(message)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _engine_answers() -> bool:
    if not shutil.which("docker"):
        return False
    done = subprocess.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return done.returncode == 0


def _start_private_dockerd() -> bool:
    """Start dockerd in the background (root only), as CI does; True when it answers."""
    if os.geteuid() != 0 or not shutil.which("dockerd"):
        return False
    log = Path("/tmp/homestack-test-dockerd.log").open("ab")  # noqa: SIM115 - lives on
    subprocess.Popen(["dockerd"], stdout=log, stderr=log, start_new_session=True)
    for _ in range(60):
        if _engine_answers():
            return True
        time.sleep(0.5)
    return False


@pytest.fixture(scope="session", autouse=True)
def private_lock_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The prefix locks (sitelock) of this test session, away from /run/lock: a live site's
    commands never wait for a test, and xdist workers never wait for each other's sites
    with an empty HOMESTACK_PREFIX. Child processes inherit it."""
    folder = tmp_path_factory.mktemp("locks")
    before = os.environ.get("HOMESTACK_LOCK_DIR")
    os.environ["HOMESTACK_LOCK_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("HOMESTACK_LOCK_DIR", None)
    else:
        os.environ["HOMESTACK_LOCK_DIR"] = before


@pytest.fixture(scope="session")
def compose_cli() -> None:
    """`docker compose config` needs the Compose v2 CLI, not an engine."""
    docker = shutil.which("docker")
    done = (
        subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if docker
        else None
    )
    if done is None or done.returncode != 0:
        if IN_CI:
            pytest.fail("docker compose is missing (CI=true: integration tests must run)")
        pytest.skip("docker compose is not installed")


@pytest.fixture(scope="session")
def docker_engine() -> str:
    """A Docker engine that answers: skip locally without one; under CI=true that fails."""
    if _engine_answers() or _start_private_dockerd():
        return "docker"
    message = "no Docker engine could be reached or started"
    if IN_CI:
        pytest.fail(message + " (CI=true: integration tests must not be skipped)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def standin_image(docker_engine: str) -> str:
    from homestack.standin_image import ensure_image

    return ensure_image()


@pytest.fixture
def test_prefix() -> str:
    """A unique name prefix for projects, networks and volumes a test creates (recorded
    for the leak check at the end of the run)."""
    return new_prefix()


@pytest.fixture
def engine_cleanup(docker_engine: str, test_prefix: str) -> Iterator[str]:
    """Yields the prefix; afterwards removes whatever the test created under it."""
    yield test_prefix
    remove_everything_named(test_prefix)


@pytest.fixture
def prefixed_site_env(
    standin_image: str, engine_cleanup: str, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The stand-in image built and HOMESTACK_PREFIX set to this test's prefix (what the
    sites it makes and the CLI it runs use); yields the prefix, cleaned up afterwards."""
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    return engine_cleanup
