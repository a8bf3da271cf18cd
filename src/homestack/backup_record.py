"""The last-backup record of each service: what `status` and `doctor` read.

Light on purpose (no restic, engine or catalog loading): `homestack status` imports only this.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .serial import Serialised

if TYPE_CHECKING:
    from .catalog import Site

STATE_DIR = ".homestack/backup"


def state_dir(site: Site) -> Path:
    return site.data_root / STATE_DIR


@dataclass(frozen=True)
class LastBackup(Serialised):
    """The last backup attempt of a service, as `status` and `doctor` show it."""

    service: str
    ok: bool
    time: str
    snapshot: str | None = None
    error: str | None = None
    last_success: str | None = None


def last_path(site: Site, service: str) -> Path:
    return state_dir(site) / f"{service}.last.json"


def last_backup(site: Site, service: str) -> LastBackup | None:
    """The last recorded backup of `service`, or None when it was never backed up."""
    try:
        raw = json.loads(last_path(site, service).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    return LastBackup(
        service=str(raw.get("service", service)),
        ok=bool(raw.get("ok")),
        time=str(raw.get("time", "")),
        snapshot=raw.get("snapshot"),
        error=raw.get("error"),
        last_success=raw.get("last_success"),
    )
