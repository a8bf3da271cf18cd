"""A small client of the Registry HTTP API v2: tags and manifest digests, anonymous token auth.

Docker Hub, ghcr.io, lscr.io, quay.io and any v2 registry answer an anonymous request with
`401` and `WWW-Authenticate: Bearer realm=…,service=…,scope=…`; the realm hands out a pull
token for that scope and the request is sent again with it. Loopback registries (and those in
HOMESTACK_INSECURE_REGISTRIES) are spoken to over plain http, as the Docker engine does.

Answers are cached in a file (`DATA/.homestack/update/registry-cache.json`): within the TTL
an answer is reused without asking; after it, the request carries the ETag and a `304` keeps
the cached answer. Only the standard library is used: `homestack ls` never pays for it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BadInput, OperationFailed

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DEFAULT_TIMEOUT = 10.0
DEFAULT_TTL = 600.0
MAX_PAGES = 50
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    )
)
_REFERENCE = re.compile(
    r"^(?:(?P<host>[a-zA-Z0-9.-]+(?::\d+)?|\[[0-9a-fA-F:]+\](?::\d+)?)/)?"
    r"(?P<path>[a-z0-9]+(?:[._/-]+[a-z0-9]+)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class RegistryError(OperationFailed):
    """A registry could not be asked (unreachable, refused, a bad answer)."""


@dataclass(frozen=True)
class ImageRef:
    """`[host/]path[:tag][@digest]` split the way Docker reads it."""

    host: str  # docker.io for Docker Hub
    path: str  # library/caddy on Docker Hub
    tag: str | None
    digest: str | None = None

    @classmethod
    def parse(cls, image: str) -> ImageRef:
        match = _REFERENCE.match(image.strip())
        if match is None:
            raise BadInput(
                f"{image!r} is not an image reference",
                "Write it as Docker does: name:tag, e.g. caddy:2.10.2-alpine.",
            )
        host, path = match["host"], match["path"]
        if host is not None and "." not in host and ":" not in host and host != "localhost":
            path, host = f"{host}/{path}", None  # `grafana/loki`: a Docker Hub namespace
        host = host or DOCKER_HUB
        if host in (DOCKER_HUB, "index.docker.io") and "/" not in path:
            path = f"library/{path}"
        return cls(host, path, match["tag"], match["digest"])

    @property
    def repository(self) -> str:
        """The name Docker shows (`caddy`, `ghcr.io/x/y`, `127.0.0.1:5000/a/b`)."""
        if self.host == DOCKER_HUB:
            return self.path.removeprefix("library/")
        return f"{self.host}/{self.path}"

    def with_tag(self, tag: str) -> str:
        return f"{self.repository}:{tag}"

    def with_digest(self, digest: str) -> str:
        return f"{self.repository}@{digest}"

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.host == DOCKER_HUB else self.host


def insecure(host: str) -> bool:
    """Plain http: loopback (Docker's own default) or a host the user listed."""
    name = host.split("]", 1)[0] + "]" if host.startswith("[") else host.rsplit(":", 1)[0]
    listed = {h.strip() for h in os.environ.get("HOMESTACK_INSECURE_REGISTRIES", "").split(",")}
    return name in ("localhost", "[::1]") or name.startswith("127.") or host in listed


class Cache:
    """url → (when, etag, answer), in one JSON file; thread-safe, saved on demand."""

    def __init__(self, path: Path | None, ttl: float) -> None:
        self.path = path
        self.ttl = ttl
        self.lock = threading.Lock()
        self.entries: dict[str, dict[str, Any]] = {}
        if path is not None:
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                self.entries = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                self.entries = {}

    def get(self, key: str) -> dict[str, Any] | None:
        with self.lock:
            entry = self.entries.get(key)
            return dict(entry) if isinstance(entry, dict) else None

    def fresh(self, key: str) -> Any | None:
        entry = self.get(key)
        if entry and time.time() - float(entry.get("time", 0)) < self.ttl:
            return entry.get("data")
        return None

    def put(self, key: str, data: Any, etag: str | None) -> None:
        with self.lock:
            self.entries[key] = {"time": time.time(), "etag": etag, "data": data}

    def save(self) -> None:
        if self.path is None:
            return
        from ..fsutil import write_atomic

        with self.lock:
            text = json.dumps(self.entries, sort_keys=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, text, mode=0o600)


class Registry:
    """Asks registries for tags and digests; one instance is shared by many threads."""

    def __init__(
        self,
        cache: Cache | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.cache = cache or Cache(None, 0)
        self.timeout = timeout
        self.tokens: dict[tuple[str, str], str] = {}
        self.requests = 0  # how many HTTP requests were sent (benchmarks, tests)
        self._lock = threading.Lock()

    # ---- HTTP -----------------------------------------------------------------------------
    def _url(self, ref: ImageRef, tail: str) -> str:
        scheme = "http" if insecure(ref.api_host) else "https"
        return f"{scheme}://{ref.api_host}/v2/{ref.path}/{tail}"

    def _send(
        self, ref: ImageRef, url: str, method: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """One request, with a pull token when the registry asks for one."""
        key = (ref.api_host, ref.path)
        for attempt in range(2):
            sent = dict(headers)
            token = self.tokens.get(key)
            if token:
                sent["Authorization"] = f"Bearer {token}"
            status, got, body = self._http(url, method, sent)
            if status == 401 and attempt == 0:
                challenge = got.get("www-authenticate", "")
                if not challenge.lower().startswith("bearer"):
                    break
                self.tokens[key] = self._token(ref, challenge)
                continue
            return status, got, body
        raise RegistryError(
            f"{ref.api_host} refused anonymous access to {ref.repository} (HTTP 401)",
            "The image may be private or misspelled; check it with `docker pull`.",
        )

    def _http(
        self, url: str, method: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests += 1
        request = urllib.request.Request(url, method=method, headers=headers)  # noqa: S310
        host = urllib.parse.urlsplit(url).netloc
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return answer.status, _lower(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, _lower(error.headers), error.read() if error.fp else b""
        except (OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            raise RegistryError(
                f"registry {host} did not answer: {reason}",
                "Check the machine's network and DNS, or try again later.",
            ) from None

    def _token(self, ref: ImageRef, challenge: str) -> str:
        fields = dict(_CHALLENGE.findall(challenge))
        realm = fields.get("realm")
        if not realm:
            raise RegistryError(f"{ref.api_host} sent a token challenge without a realm")
        query = {"scope": f"repository:{ref.path}:pull"}
        if fields.get("service"):
            query["service"] = fields["service"]
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        status, _headers, body = self._http(url, "GET", {})
        try:
            data = json.loads(body) if status == 200 else {}
        except ValueError:
            data = {}
        token = data.get("token") or data.get("access_token") if isinstance(data, dict) else None
        if not token:
            raise RegistryError(f"{ref.api_host}: no anonymous pull token (HTTP {status})")
        return str(token)

    # ---- API ------------------------------------------------------------------------------
    def tags(self, ref: ImageRef, *, use_cache: bool = True) -> list[str]:
        """Every tag of the repository (following `Link: rel=next` pages)."""
        url = self._url(ref, "tags/list?n=1000")
        if use_cache:
            cached = self.cache.fresh(url)
            if isinstance(cached, list):
                return [str(t) for t in cached]
        entry = self.cache.get(url)
        headers = {"Accept": "application/json"}
        if entry and entry.get("etag"):
            headers["If-None-Match"] = str(entry["etag"])
        status, got, body = self._send(ref, url, "GET", headers)
        if status == 304 and entry is not None:
            self.cache.put(url, entry.get("data"), entry.get("etag"))
            return [str(t) for t in entry.get("data") or []]
        tags = self._tags_page(ref, status, body)
        etag = got.get("etag")
        pages = 0
        while "link" in got and pages < MAX_PAGES:
            found = _NEXT.search(got["link"])
            if not found:
                break
            pages += 1
            nxt = urllib.parse.urljoin(url, found.group(1))
            status, got, body = self._send(ref, nxt, "GET", {"Accept": "application/json"})
            tags += self._tags_page(ref, status, body)
        self.cache.put(url, tags, etag)
        return tags

    def _tags_page(self, ref: ImageRef, status: int, body: bytes) -> list[str]:
        if status == 404:
            raise RegistryError(
                f"{ref.repository} is not on {ref.api_host} (HTTP 404)",
                "Check the image name in the service file.",
            )
        if status != 200:
            raise RegistryError(f"{ref.api_host}: tags of {ref.repository}: HTTP {status}")
        try:
            data = json.loads(body)
        except ValueError:
            raise RegistryError(f"{ref.api_host}: the tag list is not JSON") from None
        return [str(t) for t in (data.get("tags") or [])] if isinstance(data, dict) else []

    def digest(self, ref: ImageRef, tag: str, *, use_cache: bool = True) -> str:
        """The manifest digest `docker pull repo:tag` would record (index or manifest)."""
        url = self._url(ref, f"manifests/{tag}")
        if use_cache:
            cached = self.cache.fresh(url)
            if isinstance(cached, str):
                return cached
        headers = {"Accept": MANIFEST_TYPES}
        status, got, body = self._send(ref, url, "HEAD", headers)
        found = got.get("docker-content-digest") if status == 200 else None
        if status == 200 and not found:  # some registries only say it on GET
            status, got, body = self._send(ref, url, "GET", headers)
            found = got.get("docker-content-digest") or (
                "sha256:" + hashlib.sha256(body).hexdigest() if status == 200 else None
            )
        if status == 404:
            raise RegistryError(
                f"{ref.with_tag(tag)} is not on {ref.api_host} (HTTP 404)",
                "Pick a tag `homestack outdated` lists.",
            )
        if not found:
            raise RegistryError(f"{ref.api_host}: manifest of {ref.with_tag(tag)}: HTTP {status}")
        self.cache.put(url, found, None)
        return str(found)


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers.items() if headers else [])}


def cache_path(data_root: Path) -> Path:
    return data_root / ".homestack" / "update" / "registry-cache.json"


def ttl() -> float:
    try:
        return float(os.environ.get("HOMESTACK_REGISTRY_TTL", DEFAULT_TTL))
    except ValueError:
        return DEFAULT_TTL
