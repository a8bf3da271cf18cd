"""Optional parts of homestack this package uses when they are installed (backup, gpu)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..catalog import Site


def optional_module(name: str) -> ModuleType | None:
    """`homestack.<name>`, or None while that part is not there."""
    try:
        return importlib.import_module(f"homestack.{name}")
    except ModuleNotFoundError as missing:
        if missing.name and not f"homestack.{name}".startswith(missing.name):
            raise
        return None


def as_datetime(value: Any) -> datetime | None:
    """A backup time in whatever shape the backup module gives it."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


@dataclass(frozen=True)
class BackupState:
    """What status and doctor say about one service's backups."""

    known: bool  # the backup module is installed
    last_success: datetime | None = None
    failed: bool = False  # the latest attempt failed
    error: str | None = None


def last_backup(site: Site, service: str) -> BackupState:
    """The service's last successful backup and whether the latest attempt failed."""
    module = optional_module("backup_record")
    fn = getattr(module, "last_backup", None) if module else None
    if fn is None:
        return BackupState(False)
    try:
        entry = fn(site, service)
    except Exception:  # a broken journal must not break status
        return BackupState(True)
    if entry is None:
        return BackupState(True)
    ok = getattr(entry, "ok", True)
    success = getattr(entry, "last_success", None) if hasattr(entry, "last_success") else entry
    if ok and hasattr(entry, "time"):
        success = entry.time
    return BackupState(True, as_datetime(success), not ok, getattr(entry, "error", None))
