"""Plain result objects of the backup operations (the CLI renders them, `--json` prints them)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ..backup_record import LastBackup, last_backup, last_path
from ..catalog import Site
from ..serial import Serialised
from .journal import write_atomic


@dataclass(frozen=True)
class BackupResult(Serialised):
    service: str
    stack: str
    ok: bool
    consistency: str = "none"
    repository: str = ""
    snapshot: str | None = None
    files_new: int = 0
    files_changed: int = 0
    bytes_added: int = 0
    bytes_processed: int = 0
    duration_s: float = 0.0
    time: str = ""
    error: str | None = None
    hint: str | None = None
    recovered: list[str] = field(default_factory=list)
    skipped: str | None = None
    warnings: list[str] = field(default_factory=list)  # ok, but the user should know


@dataclass(frozen=True)
class BackupRun(Serialised):
    DATA_EXTRA = ("ok",)
    DATA_ORDER = ("ok", "notices", "results")

    results: list[BackupResult]
    notices: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


@dataclass(frozen=True)
class SnapshotInfo(Serialised):
    id: str
    time: str
    size: int | None
    tags: list[str]
    paths: list[str]


@dataclass(frozen=True)
class ServiceSnapshots(Serialised):
    service: str
    repository: str
    snapshots: list[SnapshotInfo]
    error: str | None = None


@dataclass(frozen=True)
class Listing(Serialised):
    DATA_EXTRA = ("ok",)
    DATA_ORDER = ("ok", "services")

    services: list[ServiceSnapshots]

    @property
    def ok(self) -> bool:
        return all(s.error is None for s in self.services)


@dataclass(frozen=True)
class CheckResult(Serialised):
    service: str
    ok: bool
    mode: str
    output: str = ""
    error: str | None = None
    checked: bool = True  # False: no repository yet, so nothing was checked


@dataclass(frozen=True)
class PruneResult(Serialised):
    service: str
    ok: bool
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    note: str | None = None
    error: str | None = None


Checked = TypeVar("Checked", "CheckResult", "PruneResult")


@dataclass(frozen=True)
class ManyResults(Generic[Checked]):
    """verify / prune over several services."""

    kind: str
    results: list[Checked]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def to_data(self) -> dict[str, Any]:
        return {"ok": self.ok, self.kind: [r.to_data() for r in self.results]}


@dataclass(frozen=True)
class RestoreResult(Serialised):
    service: str
    snapshot: str
    ok: bool
    restored: list[str]
    previous_kept: list[str]
    healthy: bool
    duration_s: float
    recovered: list[str] = field(default_factory=list)
    #: the snapshot of the data the restore replaced (tag before-restore): its undo
    safety_snapshot: str | None = None
    #: files the restore brought back, took away (newer than the snapshot) and replaced
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


def record_last(site: Site, result: BackupResult) -> str | None:
    """Remember the outcome; returns a warning when it cannot be written."""
    previous = last_backup(site, result.service)
    last_success = result.time if result.ok else (previous.last_success if previous else None)
    entry = LastBackup(
        result.service, result.ok, result.time, result.snapshot, result.error, last_success
    )
    try:
        write_atomic(last_path(site, result.service), json.dumps(entry.to_data()).encode())
    except OSError as exc:
        return f"could not record the last backup of {result.service}: {exc}"
    return None
