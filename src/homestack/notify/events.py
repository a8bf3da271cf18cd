"""homestack's own events, as the operations report them, on the site's one channel.

Every function here is safe to call from an operation: it never raises (a bad setting or a
channel that is down is logged, and the operation's result is unchanged) and returns the
`Delivery` (or None when it could not even be tried).

For other features (issue 19, updates)::

    from homestack.notify.events import update_available, update_rolled_back
    update_available(site, "jellyfin", "10.10.7", "10.11.0")
    update_rolled_back(site, "jellyfin", "10.11.0", "10.10.7", "health check failed")

`send(site, key, title, body, level=..., resolved=...)` is the general form: `key` names the
condition, so the same key firing again is not sent twice (until REPEAT), and a resolved
event is sent only after its failure was.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ..errors import HomestackError
from .channel import Delivery, Event, Level, notify

if TYPE_CHECKING:
    from ..backup.results import BackupResult, CheckResult
    from ..catalog import Site
    from ..observe.checks import Check

log = logging.getLogger(__name__)

#: a backup older than this many schedule periods (a day each) counts as missed
BACKUP_GRACE = 1.5
DISK_PERCENT = 90


def send(
    site: Site,
    key: str,
    title: str,
    body: str,
    *,
    level: Level = "warning",
    resolved: bool = False,
    now: datetime | None = None,
) -> Delivery | None:
    """Send one event; never raises."""
    event = Event(key, title, body, level, resolved)
    try:
        return notify(site, event, now=now)
    except HomestackError as exc:  # a setting (quiet hours, the URLs file) is wrong
        log.warning("notification %r not sent: %s", key, exc.message)
    except OSError as exc:  # the state file's folder cannot be written
        log.warning("notification %r not sent: %s", key, exc)
    return None


def backup_outcome(site: Site, results: Iterable[BackupResult]) -> list[Delivery | None]:
    """One event per failed backup, and one when a failed one works again."""
    out = []
    for result in results:
        if result.skipped:
            continue
        key = f"backup:{result.service}"
        if result.ok:
            out.append(
                send(
                    site,
                    key,
                    f"Backup of {result.service} works again",
                    f"Snapshot {result.snapshot or '?'} at {result.time}.",
                    level="success",
                    resolved=True,
                )
            )
        else:
            hint = f"\nFix: {result.hint}" if result.hint else ""
            out.append(
                send(
                    site,
                    key,
                    f"Backup of {result.service} failed",
                    f"{result.error or 'failed'}{hint}",
                    level="failure",
                )
            )
    return out


def verify_outcome(site: Site, results: Iterable[CheckResult]) -> list[Delivery | None]:
    out = []
    for result in results:
        key = f"verify:{result.service}"
        if result.ok:
            out.append(
                send(
                    site,
                    key,
                    f"Backups of {result.service} verify again",
                    "",
                    level="success",
                    resolved=True,
                )
            )
        else:
            out.append(
                send(
                    site,
                    key,
                    f"Backups of {result.service} failed verification",
                    f"{result.error or 'restic check failed'}\n"
                    f"Run `homestack verify {result.service}` for the details.",
                    level="failure",
                )
            )
    return out


def doctor_outcome(site: Site, checks: Iterable[Check]) -> Delivery | None:
    failing = [c for c in checks if c.status == "fail"]
    if not failing:
        return send(
            site, "doctor", "homestack doctor: all clear again", "", level="success", resolved=True
        )
    lines = "\n".join(f"- {c.name}: {c.detail}" for c in failing[:10])
    return send(
        site, "doctor", f"homestack doctor: {len(failing)} failure(s)", lines, level="failure"
    )


def disk_outcome(site: Site, percent: int = DISK_PERCENT) -> Delivery | None:
    folder = site.data_root
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    usage = shutil.disk_usage(folder)
    used = 100 * (usage.total - usage.free) / usage.total if usage.total else 0.0
    if used < percent:
        return send(
            site,
            "disk",
            "Disk space is fine again",
            f"{used:.0f}% used.",
            level="success",
            resolved=True,
        )
    return send(
        site,
        "disk",
        f"The disk holding DATA is {used:.0f}% full",
        f"{usage.free / 2**30:.1f} GiB free where DATA lives ({site.data_root}). "
        "Old images: `docker image prune`; old backups: `homestack prune --all`.",
        level="warning",
    )


def backup_age_outcome(
    site: Site, services: Iterable[str], *, now: datetime | None = None
) -> list[Delivery | None]:
    """The newest good backup of each service, older than the daily schedule allows."""
    from ..backup_record import last_backup

    now = now or datetime.now(UTC)
    limit = timedelta(days=BACKUP_GRACE)
    out = []
    for service in services:
        record = last_backup(site, service)
        if record is None:
            continue  # never backed up: `doctor` says so; not an alert every day
        try:
            newest = datetime.fromisoformat(record.last_success or "")
        except ValueError:
            newest = None
        if newest is not None and newest.tzinfo is None:
            newest = newest.replace(tzinfo=UTC)
        key = f"backup-age:{service}"
        if newest is not None and now - newest <= limit:
            out.append(
                send(
                    site,
                    key,
                    f"Backups of {service} are current again",
                    "",
                    level="success",
                    resolved=True,
                    now=now,
                )
            )
            continue
        when = newest.isoformat(timespec="minutes") if newest else "never"
        out.append(
            send(
                site,
                key,
                f"The newest backup of {service} is too old",
                f"Last good backup: {when}; the schedule wants one a day. "
                "Is the timer installed (`homestack backup --install-timer`)?",
                level="warning",
                now=now,
            )
        )
    return out


def update_available(site: Site, service: str, current: str, latest: str) -> Delivery | None:
    """Issue 19: a newer image of `service` is out (sent once per new version)."""
    return send(
        site,
        f"update:{service}:{latest}",
        f"Update available: {service} {latest}",
        f"{service} runs {current}; {latest} is out. `homestack update {service}` installs it "
        "with a snapshot first.",
        level="info",
    )


def update_rolled_back(
    site: Site, service: str, tried: str, back_to: str, reason: str
) -> Delivery | None:
    """Issue 19: an update of `service` failed and was rolled back."""
    return send(
        site,
        f"rollback:{service}:{tried}",
        f"Update of {service} to {tried} rolled back",
        f"Back on {back_to}: {reason}",
        level="failure",
    )
