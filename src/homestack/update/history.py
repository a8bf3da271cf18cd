"""`DATA/.homestack/history.jsonl`: one line per successful deploy of a service.

Each line: time, service, image, digest, config hash, snapshot id (the `pre-update` snapshot
taken before it, when there was one), and what made it (up, update, rollback).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..serial import Serialised

if TYPE_CHECKING:
    from ..catalog import Site

HISTORY = ".homestack/history.jsonl"


@dataclass(frozen=True)
class Deploy(Serialised):
    time: str
    service: str
    image: str
    digest: str | None = None
    config_hash: str | None = None
    snapshot: str | None = None
    by: str = "up"


def history_path(site: Site) -> Path:
    return site.data_root / HISTORY


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def append(site: Site, entry: Deploy) -> None:
    """One line, written with O_APPEND in one write: lines of two writers never mix."""
    path = history_path(site)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(entry.to_data(), sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read(site: Site, service: str | None = None) -> list[Deploy]:
    """The deploys, oldest first (a torn or foreign line is skipped)."""
    try:
        text = history_path(site).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    out: list[Deploy] = []
    fields = set(Deploy.__dataclass_fields__)
    for line in text.splitlines():
        try:
            data = json.loads(line)
            entry = Deploy(**{k: v for k, v in data.items() if k in fields})
        except (ValueError, TypeError):
            continue
        if service is None or entry.service == service:
            out.append(entry)
    return out
