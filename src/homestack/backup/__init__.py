"""Consistent, encrypted, verified per-service backups with restic (see docs/backup.md)."""

from __future__ import annotations

from ..backup_record import LastBackup, last_backup
from .manage import list_backups, prune, verify
from .restore import restore
from .run import backup, backup_service, select
from .timer import install_timer

__all__ = [
    "LastBackup",
    "backup",
    "backup_service",
    "install_timer",
    "last_backup",
    "list_backups",
    "prune",
    "restore",
    "select",
    "verify",
]
