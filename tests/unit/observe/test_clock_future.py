"""Clocks (issue 15): a backup dated in the future showed "-96847268s ago" and doctor said
"ok" for it. It is now reported as in the future, with a warning naming the clock; a clock
set back (behind what it dated earlier) is named by doctor; no uptime is ever negative.
The clock is passed in (`now`), never patched."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console

from homestack.backup_record import last_path
from homestack.catalog import Site
from homestack.observe import doctor_files
from homestack.observe.render import backup_age, status_table
from homestack.observe.status import StatusRow
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


NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # the machine's clock, as the test sets it


def test_one_time_ago_helper_counts_to_the_now_it_is_given() -> None:
    """status, top, doctor and the dashboard say a time the same way, to the `now` passed."""
    assert backup_age("2026-03-01T11:55:00+00:00", NOW) == "5m ago"
    assert backup_age("2026-03-01T10:00:00Z", NOW) == "2h ago"
    assert backup_age(None, NOW) == "never"
    # a clock set back two days: what it dated before is now in its future
    assert backup_age("2026-03-03T12:00:00+00:00", NOW) == "2d in the future (clock?)"


def _status_row(uptime_s: float | None) -> StatusRow:
    return StatusRow(
        service="app",
        stack="ai",
        container="x_ai-app-1",
        enabled=True,
        state="running",
        health="healthy",
        health_output=None,
        exit_code=None,
        started_at=None,
        uptime_s=uptime_s,
        restarts=0,
        cpu_percent=None,
        mem_used=None,
        mem_limit=None,
        url=None,
        ports=[],
        last_backup=None,
        backup_failed=False,
        flag=None,
    )


def _up_column(uptime_s: float | None) -> str:
    console = Console(width=250, record=True, color_system=None)
    console.print(status_table([_status_row(uptime_s)], backups_known=False))
    header, row = console.export_text().splitlines()[:2]
    start = header.index("UP")
    return row[start : header.index("RESTARTS")].strip()


def test_status_and_top_never_show_a_negative_uptime() -> None:
    """A container started after the machine's clock now reads (the clock was set back):
    its uptime was printed as "-7200s"; status and top share this table."""
    assert _up_column(-7200) == "2h in the future (clock?)"
    assert _up_column(-3) == "0s"  # the engine's clock a hair ahead of ours
    assert _up_column(3725) == "1h2m"
    assert _up_column(None) == "-"


def test_doctor_names_the_clock_when_what_it_dated_lies_in_its_future(tmp_path: Path) -> None:
    """No reference time: a container start or a backup dated after now is the evidence
    of a clock that is behind; one warning, naming the clock, not ok and not a failure."""
    site = Site.load(make_site(tmp_path / "site"))
    _record(site, "ollama", NOW + timedelta(days=3))
    _record(site, "webui", NOW - timedelta(hours=1))
    services = [site.service("ollama"), site.service("webui")]
    started = [("webui", (NOW + timedelta(hours=5)).isoformat()), ("ollama", None)]
    checks = doctor_files.check_clock(site, services, started, NOW)
    assert [c.status for c in checks] == ["warn"]
    detail = checks[0].detail
    assert "this machine's clock reads 2026-03-01 12:00 UTC" in detail
    assert "backup of ollama (2026-03-04 12:00 UTC)" in detail
    assert "container webui started (2026-03-01 17:00 UTC)" in detail
    assert checks[0].fix and "timedatectl" in checks[0].fix
    # the backups' own check says the same of ollama's, and never calls it fresh
    backups = {c.name: c.status for c in doctor_files.check_backups(site, services, NOW)}
    assert backups == {"backup ollama": "warn", "backup webui": "ok"}


def test_doctor_says_nothing_of_the_clock_without_evidence(tmp_path: Path) -> None:
    site = Site.load(make_site(tmp_path / "site"))
    _record(site, "ollama", NOW - timedelta(days=1))
    started = [("webui", (NOW + timedelta(seconds=30)).isoformat())]  # within the slack
    assert doctor_files.check_clock(site, [site.service("ollama")], started, NOW) == []
