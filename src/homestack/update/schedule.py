"""The daily check: `homestack outdated --record` (run by the backup timer after its backups).

It writes what can be updated to `DATA/.homestack/update/outdated.json`, which `status`
shows, prints one line per service for the timer's log, and, where the notification module
(`homestack.notify`, issue 20) is present, sends one "update available" event per new
version (deduplicated there). Light to read: `status` imports only `recorded`.
"""

from __future__ import annotations

import importlib
import json
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..catalog import Site
    from .outdated import OutdatedResult

RECORD = ".homestack/update/outdated.json"
log = logging.getLogger(__name__)


def record(site: Site, result: OutdatedResult) -> list[str]:
    """Save the check for `status`; notify; the log lines (one per service to update)."""
    from ..fsutil import write_atomic
    from .history import now

    lines: list[str] = []
    updates: dict[str, str] = {}
    for row in result.outdated:
        newest = row.patch or row.minor or row.major
        if row.repushed and not newest:
            lines.append(f"{row.service}: {row.image} was pushed again (new digest {row.digest})")
            updates[row.service] = f"{row.tag} re-pushed"
            continue
        levels = ", ".join(
            f"{level} {tag}"
            for level, tag in (("patch", row.patch), ("minor", row.minor), ("major", row.major))
            if tag
        )
        lines.append(f"{row.service}: {row.tag} → {levels}")
        updates[row.service] = f"{row.tag} → {newest}"
        _notify(site, "update_available", row.service, row.tag or "", newest or "")
    data = {"time": now(), "updates": updates, "warnings": result.warnings}
    path = site.data_root / RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(data, indent=2) + "\n", mode=0o644)
    return lines


def recorded(site: Site) -> dict[str, Any]:
    """The last daily check ({} before the first)."""
    try:
        data = json.loads((site.data_root / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _notify(site: Site, event: str, *args: str) -> None:
    """Call homestack.notify.events.`event` when that module exists (it never raises)."""
    try:
        events = importlib.import_module("homestack.notify.events")
    except ImportError:
        return
    send = getattr(events, event, None)
    if send is None:
        return
    try:
        send(site, *args)
    except Exception:  # a notification never fails the operation that sends it
        log.exception("notify %s failed", event)


def notify_rolled_back(site: Site, service: str, tried: str, back_to: str, reason: str) -> None:
    _notify(site, "update_rolled_back", service, tried, back_to, reason)


def pending_updates(site: Site, services: set[str]) -> dict[str, str]:
    """service → "1.0.0 → 1.0.1" of the last daily check, for the services `status` shows."""
    updates = recorded(site).get("updates") or {}
    return {k: str(v) for k, v in updates.items() if k in services}
