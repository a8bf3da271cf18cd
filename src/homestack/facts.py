"""Upstream facts a service file relies on, kept beside it in `services/{service}/facts.yaml`.

A service file is only as true as what it assumes about its image: which user the image runs
as and where it writes, which paths answer a health probe, which environment names the app
reads, which capabilities its entrypoint needs, which Host names its API accepts. Those facts
were read from upstream (Dockerfiles, entrypoints, app code at the pinned tag) and are
recorded here as data, with the sources and the version they were checked at, so the lint
rules `facts.*` (lint/rules_facts.py) can hold the file to them, and `docs/catalog.md` can
say when each service was last checked and what the check found.

The file is optional for a user's own services (no file: no facts rules); every shipped
service has one (tests/unit/test_catalog_facts.py).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import yamlio
from .catalog import Service

FILE_NAME = "facts.yaml"
#: keys a facts file may hold: required ones first
REQUIRED = ("image", "version", "checked_on", "sources", "found")
OPTIONAL = (
    "user",
    "writes",
    "http_2xx",
    "env",
    "secrets_file",
    "capabilities",
    "tools",
    "host_allowlist",
    "config",
    "refuses",
    "notes",
)


@dataclass(frozen=True)
class Facts:
    """One service's facts file, as read (see the keys in docs/lint-rules.md)."""

    path: Path
    doc: yamlio.YamlDoc
    image: str
    version: str
    checked_on: str
    sources: list[str]
    found: str
    #: the image's own user (uid, name, or "root"); informative
    user: str | None = None
    #: container paths the app writes at run time: each must be writable for the user the
    #: file runs it as (a mount there) when the file overrides the image's user
    writes: list[str] = field(default_factory=list)
    #: container port → paths that answer 2xx without a login
    http_2xx: dict[int, list[str]] = field(default_factory=dict)
    #: environment names the image or app reads; `PREFIX_*` stands for a family
    env: list[str] | None = None
    secrets_file: list[str] = field(default_factory=list)
    #: capabilities its entrypoint needs once every one is dropped
    capabilities: list[str] = field(default_factory=list)
    #: executables the image ships that a healthcheck may run (its GPU builds' too)
    tools: list[str] = field(default_factory=list)
    #: {variable: NAME, always: [hosts]}: its API answers only Host names in NAME
    host_allowlist: dict[str, Any] | None = None
    config: str | None = None
    refuses: list[str] = field(default_factory=list)

    def line(self, *keys: str | int) -> int | None:
        return self.doc.line(*keys)

    def reads_env(self, name: str) -> bool:
        if self.env is None:
            return True
        return any(
            name == known or (known.endswith("*") and name.startswith(known[:-1]))
            for known in self.env
        )


class FactsError(ValueError):
    """A facts file that does not fit its format; `key` names the offending key."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def facts_path(service: Service) -> Path:
    return service.env_dir / FILE_NAME


def _strings(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FactsError(f"{key} must be a list of strings", key)
    return list(value)


def parse(doc: yamlio.YamlDoc) -> Facts:
    """The facts in `doc`, or FactsError naming the key at fault."""
    data = doc.data
    if not isinstance(data, dict):
        raise FactsError("a facts file is a mapping (image:, version:, checked_on:, …)")
    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise FactsError(f"unknown key {unknown[0]!r}", unknown[0])
    for key in REQUIRED:
        if key not in data:
            raise FactsError(f"{key} is missing", None)
    for key in ("image", "version", "found"):
        if not isinstance(data[key], str) or not data[key]:
            raise FactsError(f"{key} must be a non-empty string", key)
    checked = data["checked_on"]
    if isinstance(checked, datetime.date):
        checked = checked.isoformat()
    try:
        datetime.date.fromisoformat(str(checked))
    except ValueError:
        raise FactsError("checked_on must be a date (YYYY-MM-DD)", "checked_on") from None
    sources = _strings(data, "sources")
    if not sources:
        raise FactsError("sources must name where the facts come from", "sources")
    probes: dict[int, list[str]] = {}
    raw = data.get("http_2xx") or {}
    if not isinstance(raw, dict):
        raise FactsError("http_2xx maps a container port to its paths", "http_2xx")
    for port, paths in raw.items():
        if not isinstance(port, int) or not isinstance(paths, list):
            raise FactsError("http_2xx maps a container port to a list of paths", "http_2xx")
        probes[port] = [str(p) for p in paths]
    allow = data.get("host_allowlist")
    if allow is not None and not (
        isinstance(allow, dict) and isinstance(allow.get("variable"), str)
    ):
        raise FactsError(
            "host_allowlist needs variable: NAME (and always: [...])", "host_allowlist"
        )
    env = _strings(data, "env") if "env" in data else None
    return Facts(
        path=doc.path,
        doc=doc,
        image=data["image"],
        version=data["version"],
        checked_on=str(checked),
        sources=sources,
        found=data["found"],
        user=None if data.get("user") is None else str(data["user"]),
        writes=_strings(data, "writes"),
        http_2xx=probes,
        env=env,
        secrets_file=_strings(data, "secrets_file"),
        capabilities=_strings(data, "capabilities"),
        tools=_strings(data, "tools"),
        host_allowlist=allow,
        config=None if data.get("config") is None else str(data["config"]),
        refuses=_strings(data, "refuses"),
    )


def load(service: Service) -> Facts | None:
    """The service's facts, None when it has no facts file; FactsError when it is broken
    (yamlio's own error when it is not YAML)."""
    path = facts_path(service)
    if not path.is_file():
        return None
    return parse(yamlio.load(path))


def split_image(image: str) -> tuple[str, str]:
    """`repo:tag` → (repo, tag); a digest or no tag gives an empty tag."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        return name, ""
    repo, _, tag = name.rpartition(":")
    return repo, tag
