"""Times relative to this machine's clock, said the same way everywhere (status, top, doctor,
the dashboard): "5m ago", an uptime of "3h2m", and never a negative age. A time further
ahead of the clock than CLOCK_SLACK_S is "in the future (clock?)": either it was recorded
while the clock ran ahead, or this machine's clock is behind now (set back, no NTP), and
doctor says so naming the clock.

Cheap to import (status and the dashboard use it; no engine, no backup module). Every
function takes `now` from its caller, so a test passes the time it wants.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

#: how far ahead of this clock a time may be and still be "just now" (two clocks a hair
#: apart: the engine's and ours, a backup's record written a moment later)
CLOCK_SLACK_S = 300
FUTURE = "in the future (clock?)"


def human_duration(seconds: float | None) -> str:
    """A duration that is not negative: `45s`, `3m`, `2h5m`, `4d1h`, `-` for unknown."""
    if seconds is None:
        return "-"
    whole = int(max(0.0, seconds))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if whole >= size:
            rest = whole % size
            small = {"d": 3600, "h": 60, "m": 1}[unit]
            sub = {"d": "h", "h": "m", "m": "s"}[unit]
            return (
                f"{whole // size}{unit}{rest // small}{sub}"
                if rest >= small
                else f"{whole // size}{unit}"
            )
    return f"{whole}s"


def parse_time(value: datetime | str | None) -> datetime | None:
    """An aware datetime from an ISO text (`Z` or an offset; naive is UTC), or None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def is_future(when: datetime, now: datetime) -> bool:
    """Further ahead of `now` than the slack two clocks are allowed."""
    return (when - now).total_seconds() > CLOCK_SLACK_S


def elapsed(seconds: float | None, *, suffix: str = "") -> str:
    """How long since something happened, given the seconds since: `3m` (`3m ago` with
    suffix " ago"); a little negative (clocks a hair apart) is `0s`; further negative is
    `2d in the future (clock?)`, never `-172800s`."""
    if seconds is None:
        return "-"
    if seconds < -CLOCK_SLACK_S:
        return f"{human_duration(-seconds)} {FUTURE}"
    return human_duration(seconds) + suffix


def time_ago(value: datetime | str | None, now: datetime | None = None) -> str:
    """`never`, `5m ago`, or `3d in the future (clock?)`; text that is no time is shown as
    it is."""
    if value is None or value == "":
        return "never"
    when = parse_time(value)
    if when is None:
        return str(value)
    now = now or datetime.now(UTC)
    return elapsed((now - when).total_seconds(), suffix=" ago")


def uptime(seconds: float | None) -> str:
    """A container's uptime: `2h5m`; a start in the future says so, never a negative."""
    return elapsed(seconds)


def ahead_of(now: datetime, dated: Iterable[tuple[str, datetime | str | None]]) -> list[str]:
    """What of `dated` (what, when) lies in the future of `now`, as `what (date)`, latest
    first: the evidence that this machine's clock is behind."""
    found = []
    for what, value in dated:
        when = parse_time(value)
        if when is not None and is_future(when, now):
            found.append((when, what))
    found.sort(reverse=True)
    return [f"{what} ({when.astimezone(UTC):%Y-%m-%d %H:%M} UTC)" for when, what in found]
