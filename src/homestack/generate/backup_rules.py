"""Prometheus' view of the backups: when each service's newest good backup was made.

Prometheus cannot read homestack's backup records, so they reach it as a rule file,
`backups.yml`: one recording rule per service holding the time of its last successful backup
(`homestack_backup_last_success_timestamp_seconds`), and the alert `BackupTooOld` when that
time is further back than the daily schedule allows. The time is a constant in the file, so
the alert fires even when homestack never runs again (the timer stopped, the host was off);
`refresh` rewrites the file after every backup run and has Prometheus reread it (SIGHUP,
which needs no `--web.enable-lifecycle`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .files import GeneratedFile
from .view import CatalogView

if TYPE_CHECKING:
    from ..catalog import Site

log = logging.getLogger(__name__)

FILE = "backups.yml"
METRIC = "homestack_backup_last_success_timestamp_seconds"
#: the timer runs daily; a newest backup older than a day and a half was missed
MAX_AGE_S = 36 * 3600


def _timestamp(text: str | None) -> float | None:
    try:
        when = datetime.fromisoformat(text or "")
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def rules(site: Site, view: CatalogView) -> dict[str, Any]:
    from ..backup_record import last_backup

    recorded: list[dict[str, Any]] = []
    for service in view.enabled:
        if service.meta is None or service.meta.stateless:
            continue
        record = last_backup(site, service.id)
        stamp = _timestamp(record.last_success) if record else None
        if stamp is None:
            continue  # never backed up: `doctor` says so; no alert every day
        recorded.append(
            {
                "record": METRIC,
                "expr": f"vector({stamp:.0f})",
                "labels": {"service": service.id, "stack": service.stack},
            }
        )
    if not recorded:
        return {"groups": []}
    alert = {
        "alert": "BackupTooOld",
        "expr": f"time() - {METRIC} > {MAX_AGE_S}",
        "labels": {"severity": "warning"},
        "annotations": {
            "summary": "the newest backup of {{ $labels.service }} is "
            "{{ $value | humanizeDuration }} old",
            "description": "The timer backs up every day. Is it installed "
            "(`homestack backup --install-timer`), and did the last run work (`homestack status`)?",
        },
    }
    return {"groups": [{"name": "backups", "rules": [*recorded, alert]}]}


def generate(site: Site, view: CatalogView) -> list[GeneratedFile]:
    what = "time of each service's newest backup"
    return [view.yaml_file("prometheus", FILE, rules(site, view), what)]


def refresh(site: Site) -> bool:
    """After a backup run: rewrite backups.yml and, when it changed and Prometheus runs,
    have it reread its rules. Never raises (logged): the backups' result is their own.
    True when the file changed."""
    from ..errors import HomestackError
    from .files import state_of, write_all

    try:
        view = CatalogView.of(site)
        if not view.is_on("prometheus"):
            return False
        wanted = [f for f in generate(site, view) if state_of(f) in ("create", "update")]
        if not wanted:
            return False
        write_all(wanted)
        _reread(site)
    except (HomestackError, OSError) as exc:
        log.warning("Prometheus' backup rules not refreshed: %s", exc)
        return False
    return True


def _reread(site: Site) -> None:
    from ..engine.backend import default_backend
    from ..engine.backup_ops import project_for, state

    service = site.service("prometheus")
    if state(site, service).running:  # SIGHUP: Prometheus reloads config and rules
        default_backend().kill(project_for(site, service), [service.id], "SIGHUP")
