"""The real proxy lets a request through only after sign-on.

The real `caddy` binary (Debian) runs the generated Caddyfile on loopback, with its upstreams
pointed at two in-process stand-ins: a web UI that records what reaches it, and a forward-auth
endpoint that answers as Authelia does (302 to the portal without a session cookie, 200 with
Remote-* headers with one). Authelia itself cannot run here (no image registry).
"""

from __future__ import annotations

import dataclasses
import http.client
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.generate import caddy
from homestack.generate.view import CatalogView
from testkit.engine import free_port
from testkit.sites import copy_catalog

REPO = Path(__file__).resolve().parents[2]
GOOD_COOKIE = "authelia_session=signed-in"


class Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, str]]

    def do_GET(self) -> None:
        self.seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
        body = b"the web UI"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


class ForwardAuth(BaseHTTPRequestHandler):
    """Authelia's /api/authz/forward-auth, reduced to the session cookie check."""

    def do_GET(self) -> None:
        if self.path != caddy.AUTH_URI:
            self.send_response(404)
        elif GOOD_COOKIE in (self.headers.get("Cookie") or ""):
            self.send_response(200)
            self.send_header("Remote-User", "alice")
            self.send_header("Remote-Groups", "admins")
            self.send_header("Remote-Email", "alice@home.arpa")
            self.send_header("Remote-Name", "Alice")
        else:
            host = self.headers.get("X-Forwarded-Host", "")
            self.send_response(302)
            self.send_header("Location", f"https://auth.home.arpa/?rd=https://{host}/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


def _serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclasses.dataclass
class Proxy:
    port: int
    seen: list[dict[str, str]]
    domain: str  # DOMAIN of the repository's settings (lab.home.arpa as shipped)

    def get(self, host: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", "/", headers={"Host": host, **(headers or {})})
        response = conn.getresponse()
        response.read()
        conn.close()
        return response


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Proxy]:
    binary = shutil.which("caddy")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("caddy is not installed (.ci/run installs it)")
        pytest.skip("caddy is not installed")
    seen: list[dict[str, str]] = []
    backend = _serve(type("Backend", (Recorder,), {"seen": seen}))
    auth = _serve(ForwardAuth)
    port, admin = free_port(), free_port()
    # the generated routes for the shipped catalog, every upstream swapped for the stand-in;
    # Home Assistant's first-run wizard is done (its own login takes over), Jellyfin's not
    site = Site.load(copy_catalog(tmp_path / "site"))
    onboarding = site.data_root / "homeassistant" / ".storage" / "onboarding"
    onboarding.parent.mkdir(parents=True)
    onboarding.write_text('{"data": {"done": ["user"]}}', encoding="utf-8")
    view = CatalogView.of(site)
    routes = [
        dataclasses.replace(route, upstream=f"127.0.0.1:{backend.server_address[1]}")
        for route in view.routes()
    ]
    options = caddy.Options(
        auth_upstream=f"127.0.0.1:{auth.server_address[1]}",
        admin=f"localhost:{admin}",
        tls="off",
        http_port=port,
    )
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text(caddy.caddyfile(routes, options), encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    process = subprocess.Popen(
        [binary, "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "caddy.log").open("w"),
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("caddy did not start: " + (tmp_path / "caddy.log").read_text())
                time.sleep(0.1)
        yield Proxy(port, seen, view.domain)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        backend.shutdown()
        auth.shutdown()


def test_without_sign_on_the_request_never_reaches_the_service(proxy: Proxy) -> None:
    chat = f"chat.{proxy.domain}"
    response = proxy.get(chat)
    assert response.status == 302
    assert response.getheader("Location") == f"https://auth.home.arpa/?rd=https://{chat}/"
    forged = proxy.get(chat, {"Remote-User": "mallory", "Cookie": "other=1"})
    assert forged.status == 302
    assert proxy.seen == []


def test_after_sign_on_the_request_reaches_the_service_as_the_user(proxy: Proxy) -> None:
    chat = f"chat.{proxy.domain}"
    response = proxy.get(chat, {"Cookie": GOOD_COOKIE, "Remote-User": "mallory"})
    assert response.status == 200
    (request,) = proxy.seen
    assert request["remote-user"] == "alice"  # Authelia's answer, not the client's header
    assert request["remote-groups"] == "admins"
    assert request["host"] == chat


def test_a_first_run_wizard_not_yet_done_is_behind_sign_on(proxy: Proxy) -> None:
    # Jellyfin (web.auth: false) would let the first visitor create its admin
    media = f"media.{proxy.domain}"
    assert proxy.get(media).status == 302
    assert proxy.seen == []
    assert proxy.get(media, {"Cookie": GOOD_COOKIE}).status == 200


def test_a_ui_without_sign_on_is_passed_straight_through(proxy: Proxy) -> None:
    # Home Assistant keeps its own accounts (web.auth: false)
    assert proxy.get(f"home.{proxy.domain}").status == 200
    assert len(proxy.seen) == 1
    assert "remote-user" not in proxy.seen[0]
