"""The socket proxy is read-only for real: Debian's haproxy runs the config homestack
generates for it against the real engine's socket, and the calls its clients need answer
200 while archive, export, exec, top and every POST/PUT/DELETE answer 403."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.generate.socketproxy import CONFIG, generate
from homestack.generate.view import CatalogView
from testkit.engine import free_port

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
SOCKET = "/var/run/docker.sock"


def _haproxy() -> str:
    import shutil

    path = shutil.which("haproxy")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("haproxy is not installed (.ci/run installs it)")
        pytest.skip("haproxy is not installed")
    return path


@pytest.fixture
def proxy(tmp_path: Path, docker_engine: str) -> Iterator[int]:
    if not os.access(SOCKET, os.R_OK | os.W_OK):
        pytest.skip(f"{SOCKET} is not usable by this user")
    config = tmp_path / "haproxy.cfg"
    config.write_text(CONFIG, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "SOCKET_PATH": SOCKET, "HOMESTACK_PROXY_BIND": f"127.0.0.1:{port}"}
    check = subprocess.run(
        [_haproxy(), "-c", "-f", str(config)], env=env, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0 and "Warning" not in check.stdout + check.stderr, check
    child = subprocess.Popen(
        [_haproxy(), "-db", "-f", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if child.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"haproxy did not start: {child.stderr.read() if child.stderr else ''!r}"
                    )
                time.sleep(0.1)
        yield port
    finally:
        child.terminate()
        child.wait(10)


@pytest.fixture
def victim(engine_cleanup: str, standin_image: str) -> str:
    """A running container holding a 'secret' file, and a second line in its logs."""
    done = subprocess.run(
        [
            "docker", "run", "-d", "--name", f"{engine_cleanup}victim",
            "--label", "homestack.test=1", standin_image, "sh", "-c",
            "echo s3cret > /tmp/secret; echo started; exec sleep 600",
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def _status(port: int, method: str, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request(method, path, body=b"{}" if method in ("POST", "PUT") else None)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_the_generated_proxy_lets_through_only_what_its_clients_read(
    proxy: int, victim: str, standin_image: str
) -> None:
    image = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Id}}", standin_image],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    allowed = [
        ("GET", "/_ping"),
        ("HEAD", "/_ping"),
        ("GET", "/version"),
        ("GET", "/v1.41/info"),
        ("GET", "/v1.41/containers/json?all=1"),
        ("GET", f"/containers/{victim}/json"),
        ("GET", f"/v1.41/containers/{victim[:12]}/logs?stdout=1&stderr=1"),
        ("GET", f"/containers/{victim}/stats?stream=0"),
        ("GET", f"/events?since=0&until={int(time.time())}"),
        ("GET", "/networks"),
        ("GET", "/images/json"),
        ("GET", f"/images/{image}/json"),
        ("GET", f"/images/{standin_image}/json"),
    ]
    denied = [
        ("GET", f"/containers/{victim}/archive?path=/tmp/secret"),
        ("HEAD", f"/containers/{victim}/archive?path=/tmp/secret"),
        ("GET", f"/v1.41/containers/{victim}/archive?path=/tmp/secret"),
        ("GET", f"/containers/{victim}%2Farchive?path=/tmp/secret"),
        ("GET", f"/containers/json/../{victim}/archive?path=/tmp/secret"),
        ("GET", f"/images/x/../../containers/{victim}/json"),
        ("GET", f"/containers/{victim}/export"),
        ("GET", f"/containers/{victim}/top"),
        ("GET", f"/containers/{victim}/changes"),
        ("GET", f"/images/{image}/get"),
        ("GET", "/images/get"),
        ("POST", f"/containers/{victim}/exec"),
        ("POST", "/containers/create"),
        ("POST", f"/containers/{victim}/stop"),
        ("PUT", f"/containers/{victim}/archive?path=/tmp"),
        ("DELETE", f"/containers/{victim}?force=1"),
        ("GET", "/secrets"),
        ("GET", "/swarm"),
        ("GET", "/volumes"),
        ("GET", "/system/df"),
        ("POST", "/session"),
    ]
    got_allowed = {(m, p): _status(proxy, m, p) for m, p in allowed}
    assert got_allowed == dict.fromkeys(allowed, 200)
    got_denied = {(m, p): _status(proxy, m, p) for m, p in denied}
    assert got_denied == dict.fromkeys(denied, 403)
    # the victim is untouched (no stop, no delete went through)
    state = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.Running}}", victim],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert state.stdout.strip() == "true"


def test_the_catalogs_socket_proxy_runs_the_generated_config() -> None:
    """The service file mounts the generated folder and points HAProxy at the file the
    test above ran (not at the image's per-section config)."""
    site = Site.load(REPO)
    service = site.service("socket-proxy")
    [generated] = generate(CatalogView.of(site))
    assert generated.content == CONFIG
    command = service.compose.get("command")
    assert isinstance(command, list) and command[:2] == ["haproxy", "-f"]
    mounted = str(command[2]).rsplit("/", 1)[0]
    volumes = [str(v) for v in service.compose.get("volumes", [])]
    assert any(
        v.endswith(f"/config/socket-proxy:{mounted}:ro") and "DATA_ROOT" in v for v in volumes
    )
    assert generated.path.name == str(command[2]).rsplit("/", 1)[1]
    env = service.compose.get("environment", {})
    assert env.get("SOCKET_PATH") == SOCKET and env.get("HOMESTACK_PROXY_BIND") == ":2375"
