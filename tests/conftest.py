"""Shared fixtures: a real Docker engine, the stand-in image, a namespaced test site."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from enginekit import remove_everything_named

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# doctor asks the host's resolver for start.{DOMAIN}: tests send nothing beyond loopback and
# their own namespaces (tests/unit/observe/test_doctor_lan.py asks a private resolver)
os.environ["HOMESTACK_DOCTOR_DNS"] = "off"


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
    """A unique name prefix for projects, networks and volumes a test creates."""
    return f"hst{uuid.uuid4().hex[:6]}_"


@pytest.fixture
def engine_cleanup(docker_engine: str, test_prefix: str) -> Iterator[str]:
    """Yields the prefix; afterwards removes whatever the test created under it."""
    yield test_prefix
    remove_everything_named(test_prefix)
