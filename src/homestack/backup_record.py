"""The last-backup record of each service: what `status` and `doctor` read.

Light on purpose (no restic, engine or catalog loading): `homestack status` imports only this.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .catalog import Site

STATE_DIR = ".homestack/backup"


def state_dir(site: Site) -> Path:
    return site.data_root / STATE_DIR


def lock_holder(site: Site, service: str) -> str | None:
    """Who holds the service's backup lock ('pid N, backup'), or None when it is free.

    Makes no file. `up` and `restart` ask, so they never start a service that a backup or
    restore (backup.lock.ServiceLock) holds stopped or paused on purpose."""
    try:
        fd = os.open(state_dir(site) / f"{service}.lock", os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def refuse_busy(site: Site, services: list[str], what: str) -> None:
    """Refuse (OperationFailed) when a backup or restore holds any of these services."""
    from .errors import OperationFailed

    busy = {name: who for name in services if (who := lock_holder(site, name))}
    if busy:
        raise OperationFailed(
            "a backup or restore holds "
            + ", ".join(f"{name} ({who})" for name, who in busy.items())
            + f": `homestack {what}` would start it in the middle; nothing was started",
            "Wait for it to finish (it starts the service again itself), then run "
            f"`homestack {what}` again.",
            service=next(iter(busy)),
        )


@dataclass(frozen=True)
class LastBackup:
    """The last backup attempt of a service, as `status` and `doctor` show it."""

    service: str
    ok: bool
    time: str
    snapshot: str | None = None
    error: str | None = None
    last_success: str | None = None

    def to_data(self) -> dict[str, Any]:
        return asdict(self)


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
