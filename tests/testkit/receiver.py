"""A loopback HTTP receiver that records what Apprise (json://) or Alertmanager POSTs."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Post:
    path: str
    authorization: str
    body: dict[str, Any]
    at: float


@dataclass
class Receiver:
    """Answers 200 to every POST and keeps it; `stop()` closes the port (a channel down)."""

    port: int = 0
    got: list[Post] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> int:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length) or b"{}"
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"raw": raw.decode("utf-8", "replace")}
                outer.got.append(
                    Post(self.path, self.headers.get("Authorization", ""), body, time.time())
                )
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.port

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def titles(self) -> list[str]:
        return [str(p.body.get("title", "")) for p in self.got]
