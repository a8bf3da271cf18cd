"""The blackbox exporter, which joins every network, runs only the generated modules: the
real exporter (Debian's) on that file probes with a GET and a TCP connect, and refuses
its built-in defaults (http_post_2xx, …) and a redirect it would follow elsewhere."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.generate.prometheus import blackbox
from homestack.generate.view import CatalogView
from testkit.engine import free_port

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


class _Target(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/")
        else:
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def target() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()


@pytest.fixture
def exporter(tmp_path: Path) -> Iterator[int]:
    binary = shutil.which("prometheus-blackbox-exporter")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("prometheus-blackbox-exporter is not installed (.ci/run installs it)")
        pytest.skip("prometheus-blackbox-exporter is not installed")
    [generated] = blackbox(CatalogView.of(Site.load(REPO)))
    config = tmp_path / "blackbox.yml"
    config.write_text(generated.content, encoding="utf-8")
    port = free_port()
    child = subprocess.Popen(
        [binary, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if child.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the blackbox exporter did not start")
                time.sleep(0.1)
        yield port
    finally:
        child.terminate()
        child.wait(10)


def _probe(port: int, module: str, target: str) -> tuple[int, str]:
    url = f"http://127.0.0.1:{port}/probe?module={module}&target={target}"
    try:
        with urllib.request.urlopen(url, timeout=20) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_only_a_get_and_a_tcp_connect_are_available(exporter: int, target: int) -> None:
    status, body = _probe(exporter, "http_2xx", f"http://127.0.0.1:{target}/")
    assert status == 200 and "probe_success 1" in body
    status, body = _probe(exporter, "tcp_connect", f"127.0.0.1:{target}")
    assert status == 200 and "probe_success 1" in body
    # a redirect is not followed (it could point anywhere)
    status, body = _probe(exporter, "http_2xx", f"http://127.0.0.1:{target}/moved")
    assert status == 200 and "probe_success 0" in body
    for module in ("http_post_2xx", "irc_banner", "ssh_banner", "icmp", "pop3s_banner"):
        status, body = _probe(exporter, module, f"127.0.0.1:{target}")
        assert status == 400 and "Unknown module" in body, module


def test_the_catalogs_blackbox_exporter_runs_the_generated_file() -> None:
    site = Site.load(REPO)
    service = site.service("blackbox-exporter")
    assert service.compose["command"] == ["--config.file=/etc/blackbox/blackbox.yml"]
    assert any(
        str(v).endswith("/config/blackbox-exporter:/etc/blackbox:ro")
        for v in service.compose["volumes"]
    )
