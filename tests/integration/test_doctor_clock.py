"""A clock set back (issue 15, clocks): the containers this machine started lie in its
future. doctor names the clock (a warning, not ok and not a failure) and status never shows
a negative uptime. The clock is passed to doctor and status (`now`), never patched."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from homestack.catalog import Site
from homestack.observe.doctor import run_doctor
from homestack.observe.render import status_table
from homestack.observe.status import collect_status
from testkit.engine import create_networks, new_prefix, remove_everything_named, start, wait_for
from testkit.sites import running_site

pytestmark = pytest.mark.integration

LOOP = "command: ['sh', '-c', 'while true; do sleep 1; done']\nstop_grace_period: 1s"


@pytest.fixture(scope="module")
def clock_site(tmp_path_factory: pytest.TempPathFactory, standin_image: str) -> Iterator[Site]:
    prefix = new_prefix()
    try:
        site = running_site(
            tmp_path_factory.mktemp("clock") / "site", prefix, {"ai": {"app": (True, LOOP, "")}}
        )
        create_networks(prefix, ["ai-services", "media-services"])
        start(site, "ai", ["app"])
        yield site
    finally:
        remove_everything_named(prefix)


def _rows(site: Site, now: datetime | None = None):  # type: ignore[no-untyped-def]
    return collect_status(site, with_backups=False, with_usage=False, now=now).rows


def test_doctor_names_the_clock_when_a_container_started_in_its_future(
    clock_site: Site,
) -> None:
    assert wait_for(lambda: [r.state for r in _rows(clock_site)] == ["running"])
    set_back = datetime.now(UTC) - timedelta(days=2)
    checks = run_doctor(clock_site, now=set_back).checks
    clock = [c for c in checks if c.name == "clock"]
    assert [c.status for c in clock] == ["warn"], clock
    assert "this machine's clock reads" in clock[0].detail
    assert "container app started" in clock[0].detail
    # with the clock right, nothing is said of it
    assert not [c for c in run_doctor(clock_site).checks if c.name == "clock"]


def test_status_shows_a_start_in_the_future_as_such_never_a_negative_uptime(
    clock_site: Site,
) -> None:
    set_back = datetime.now(UTC) - timedelta(hours=3)
    (row,) = _rows(clock_site, set_back)
    assert row.uptime_s is not None and row.uptime_s < 0  # the data says what it is
    console = Console(width=250, record=True, color_system=None)
    console.print(status_table([row], backups_known=False))
    shown = console.export_text()
    assert "in the future (clock?)" in shown
    assert "-1" not in shown.replace("(clock?)", "")  # no "-10799s"
