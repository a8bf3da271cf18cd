"""Clocks (issue 15): a backup dated in the future showed "-96847268s ago" and doctor said
"ok" for it. It is now reported as in the future, with a warning naming the clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from homestack.backup_record import last_path
from homestack.catalog import Site
from homestack.observe import doctor_files
from homestack.observe.render import backup_age
from testkit.sites import make_site


def _record(site: Site, service: str, when: datetime) -> None:
    path = last_path(site, service)
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = when.isoformat(timespec="seconds")
    path.write_text(json.dumps({"service": service, "ok": True, "time": stamp}))


def test_a_backup_from_the_future_is_a_clock_warning_never_fresh(tmp_path: Path) -> None:
    site = Site.load(make_site(tmp_path / "site"))
    now = datetime.now(UTC)
    _record(site, "ollama", now + timedelta(days=1121))
    _record(site, "webui", now - timedelta(hours=3))
    services = [site.service("ollama"), site.service("webui")]
    checks = {c.name: c for c in doctor_files.check_backups(site, services)}
    future = checks["backup ollama"]
    assert future.status == "warn", future
    assert "in the future" in future.detail and "clock" in future.detail
    assert future.fix and "timedatectl" in future.fix and "homestack backup ollama" in future.fix
    assert checks["backup webui"].status == "ok"


def test_status_age_of_a_future_time_says_so() -> None:
    ahead = (datetime.now(UTC) + timedelta(days=1121, hours=2)).isoformat()
    shown = backup_age(ahead)
    assert shown.startswith("1121d") and "in the future" in shown and "-" not in shown
    assert backup_age((datetime.now(UTC) - timedelta(minutes=3)).isoformat()) == "3m ago"
    # a few seconds ahead (two clocks a hair apart) is just now, not a clock problem
    assert backup_age((datetime.now(UTC) + timedelta(seconds=20)).isoformat()) == "0s ago"
