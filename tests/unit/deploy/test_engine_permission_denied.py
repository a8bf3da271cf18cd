"""Docker permission denied (issue 15) says the user may not use the engine, not "start the
Docker engine": a real unix socket this user may not connect to (no engine needed)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CODE = """
from homestack.engine import docker
try:
    docker.client()
except Exception as error:
    print(error.message)
    print(error.hint)
"""


@pytest.fixture
def closed_socket() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="homestack-denied-"))
    folder.chmod(0o755)
    path = folder / "docker.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen()
    path.chmod(0o600 if os.geteuid() == 0 else 0o000)  # root: owned by root, run as nobody
    try:
        yield path
    finally:
        listener.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_permission_denied_names_the_docker_group_not_starting_the_engine(
    closed_socket: Path,
) -> None:
    command = [sys.executable, "-c", CODE]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("setpriv (util-linux) is needed to drop root")
        command = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "DOCKER_HOST": f"unix://{closed_socket}", "USER": "someone"},
        cwd="/",
    )
    out = done.stdout
    assert "permission denied: user someone may not use the Docker engine" in out, out + done.stderr
    assert "docker` group" in out and "usermod -aG docker someone" in out
    assert "Start the Docker engine" not in out
