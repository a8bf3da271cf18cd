"""Helpers the LAN rehearsal runs inside its network namespaces (as `python3 lan_netns.py …`).

standins PORT_UI PORT_AUTH DOMAIN: a web UI that answers 200 and a forward-auth endpoint that
    answers as Authelia does without a session (302 to the portal), both on loopback.
get URL [--ca FILE] [--host NAME] [--out FILE]: one request from the "phone"; the TLS name
    (SNI and verification) is NAME when given, so a name is reached through the LAN address
    as a device's DNS would; prints {"status", "location", "body"} as JSON.
scan ADDRESS FIRST LAST: TCP connect to every port in the range; prints the open ones.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

AUTH_URI = "/api/authz/forward-auth"


def standins(ui_port: int, auth_port: int, domain: str) -> None:
    class UI(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"the web UI"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    class Auth(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != AUTH_URI:
                self.send_response(404)
            else:
                host = self.headers.get("X-Forwarded-Host", "")
                self.send_response(302)
                self.send_header("Location", f"https://auth.{domain}/?rd=https://{host}/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    servers = [
        ThreadingHTTPServer(("127.0.0.1", ui_port), UI),
        ThreadingHTTPServer(("127.0.0.1", auth_port), Auth),
    ]
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    servers[0].serve_forever()


def get(url: str, ca: str | None, host: str | None, out: str | None) -> None:
    parts = urlsplit(url)
    address = parts.hostname or ""
    path = parts.path or "/"
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=ca)
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            address, parts.port or 443, timeout=10, context=context
        )
        if host:  # connect to the address, speak TLS and HTTP to the name
            conn = _NamedHTTPS(address, parts.port or 443, host, context)
    else:
        conn = http.client.HTTPConnection(address, parts.port or 80, timeout=10)
    conn.request("GET", path, headers={"Host": host or address})
    response = conn.getresponse()
    body = response.read()
    if out:
        with open(out, "wb") as handle:
            handle.write(body)
    print(
        json.dumps(
            {
                "status": response.status,
                "location": response.getheader("Location"),
                "content_type": response.getheader("Content-Type"),
                "body": body[:2000].decode("utf-8", errors="replace"),
            }
        )
    )


class _NamedHTTPS(http.client.HTTPSConnection):
    def __init__(self, address: str, port: int, name: str, context: ssl.SSLContext) -> None:
        super().__init__(address, port, timeout=10, context=context)
        self._name = name
        self._ctx = context

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=10)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self._name)


def scan(address: str, first: int, last: int) -> None:
    found = []
    for port in range(first, last + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((address, port)) == 0:
                found.append(port)
    print(json.dumps(found))


def main(argv: list[str]) -> None:
    command, *rest = argv
    if command == "standins":
        standins(int(rest[0]), int(rest[1]), rest[2])
    elif command == "get":
        url, options = rest[0], dict(zip(rest[1::2], rest[2::2], strict=True))
        get(url, options.get("--ca"), options.get("--host"), options.get("--out"))
    elif command == "scan":
        scan(rest[0], int(rest[1]), int(rest[2]))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv[1:])
