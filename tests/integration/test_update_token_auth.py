"""Anonymous bearer-token auth against the real docker-registry: a second registry process
serves the pushed images with `auth: token`, and a small token server (a realm, as Docker
Hub's auth.docker.io is) hands out RS256 JWTs signed with a key the registry trusts
(openssl makes the key and certificate and signs). The client must follow the 401's
`WWW-Authenticate: Bearer realm=…,service=…,scope=…` challenge to read tags and digests."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from homestack.update.outdated import outdated
from homestack.update.registry import Cache, ImageRef, Registry
from testkit.engine import free_port
from testkit.registry import LocalRegistry, registry

pytestmark = pytest.mark.integration
__all__ = ["registry"]

SERVICE = "h19-registry"
ISSUER = "h19-token-issuer"


def wait_listening(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"docker-registry did not listen on {port}")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """GET /token?service=…&scope=repository:NAME:pull → {"token": JWT} for that scope."""

    def __init__(self, folder: Path) -> None:
        if shutil.which("openssl") is None:
            pytest.skip("openssl is not installed")
        self.key = folder / "key.pem"
        self.cert = folder / "cert.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-keyout", str(self.key), "-out", str(self.cert), "-subj", "/CN=h19-token"],
            check=True, capture_output=True,
        )  # fmt: skip
        der = subprocess.run(
            ["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
            check=True,
            capture_output=True,
        ).stdout
        self.x5c = base64.b64encode(der).decode()
        self.asked: list[dict[str, list[str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                server.asked.append(query)
                body = json.dumps({"token": server.token(query)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                return

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = f"http://127.0.0.1:{self.http.server_address[1]}/token"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def token(self, query: dict[str, list[str]]) -> str:
        access = []
        for scope in query.get("scope", []):
            kind, name, actions = scope.split(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "x5c": [self.x5c]}
        claims = {
            "iss": ISSUER,
            "sub": "",
            "aud": query.get("service", [""])[0],
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing.encode(),
            check=True,
            capture_output=True,
        ).stdout
        return f"{signing}.{b64url(signature)}"


@pytest.fixture
def token_registry(registry: LocalRegistry) -> Iterator[tuple[str, TokenServer]]:
    """The same storage as `registry`, served again behind token auth."""
    folder = Path(tempfile.mkdtemp(prefix="h19-token-"))
    tokens = TokenServer(folder)
    port = free_port()
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {registry.storage}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
        f"auth:\n  token:\n    realm: {tokens.realm}\n    service: {SERVICE}\n"
        f"    issuer: {ISSUER}\n    rootcertbundle: {tokens.cert}\n"
    )
    process = subprocess.Popen(
        ["docker-registry", "serve", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port)  # /v2/ answers 401 here, not 200
        yield f"127.0.0.1:{port}", tokens
    finally:
        process.terminate()
        process.wait(10)
        tokens.http.shutdown()
        shutil.rmtree(folder, ignore_errors=True)


def test_tags_and_digests_follow_the_bearer_challenge(
    token_registry: tuple[str, TokenServer], registry: LocalRegistry
) -> None:
    host, tokens = token_registry
    # without a token the registry refuses, and says where to get one
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://{host}/v2/h19/app/tags/list", timeout=5)
    assert refused.value.code == 401
    challenge = refused.value.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and tokens.realm in challenge

    client = Registry(Cache(None, 0))
    ref = ImageRef.parse(f"{host}/h19/app:1.0.0")
    assert set(client.tags(ref)) >= {"1.0.0", "1.0.1", "1.1.0", "1.2.0", "1.3.0", "2.0.0"}
    assert client.digest(ref, "1.0.1") == registry.digests["1.0.1"]
    assert tokens.asked and tokens.asked[0]["scope"] == ["repository:h19/app:pull"]
    assert tokens.asked[0]["service"] == [SERVICE]


def test_outdated_through_token_auth(
    token_registry: tuple[str, TokenServer], tmp_path: Path
) -> None:
    from test_update_registry import make_site

    from homestack.catalog import Site

    host, _tokens = token_registry
    site = make_site(tmp_path / "site", "h19tok_", f"{host}/h19/app:1.0.0")
    result = outdated(Site.load(site.root), registry=Registry(Cache(None, 0)))
    (row,) = result.services
    assert not row.warning, row.warning
    assert (row.patch, row.minor, row.major) == ("1.0.1", "1.3.0", "2.0.0")
