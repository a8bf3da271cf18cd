"""Log parsing: levels from common formats, --since, timestamps, filters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from homestack.errors import BadInput
from homestack.observe.logs import LogLine, LogQuery, parse_level, parse_since, timestamp_seconds


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ('{"level":"error","msg":"boom"}', "error"),
        ('{"severity": "WARNING", "message": "x"}', "warn"),
        ("time=2024-05-01T10:00:00Z level=info msg=started", "info"),
        ('lvl=dbug msg="x" level="debug"', "debug"),
        ("[ERROR] could not open file", "error"),
        ("2024/05/01 10:00:00 [warn] 1#1: conflicting server name", "warn"),
        ("2024-05-01 10:00:00,123 INFO  main - ready", "info"),
        ("ERROR: relation does not exist", "error"),
        ("2024-05-01 10:00:00.000 UTC [1] LOG:  database system is ready", "info"),
        ("WARNING:root:disk almost full", "warn"),
        ("DEBUG connecting to 10.0.0.1", "debug"),
        ("Fatal error: cannot start", "error"),
        ("panic: runtime error: index out of range", None),  # lower-case prose is not a level
        ("just a plain line about information", None),
        ("the error count is zero", None),
    ],
)
def test_parse_level(line: str, level: str | None) -> None:
    assert parse_level(line) == level


def test_parse_since_durations_and_times() -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert parse_since("10m", now) == now.timestamp() - 600
    assert parse_since("2h", now) == now.timestamp() - 7200
    assert parse_since("1d", now) == now.timestamp() - 86400
    assert parse_since("1714564800") == 1714564800.0
    assert parse_since("2024-05-01T12:00:00Z") == now.timestamp()
    with pytest.raises(BadInput) as caught:
        parse_since("yesterday")
    assert caught.value.hint and "10m" in caught.value.hint


def test_docker_timestamps_keep_nanoseconds_order() -> None:
    early = timestamp_seconds("2024-05-01T12:00:00.000000100Z")
    late = timestamp_seconds("2024-05-01T12:00:00.500000000Z")
    assert late - early == pytest.approx(0.4999999, abs=1e-6)
    assert (
        timestamp_seconds("2024-05-01T12:00:00Z")
        == datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp()
    )


def _line(text: str, level: str | None) -> LogLine:
    return LogLine("2024-05-01T12:00:00.000000000Z", "svc", "ai", "c", "stdout", text, level)


def test_query_level_is_a_threshold_and_grep_a_regex() -> None:
    warn_up = LogQuery.build(None, level="warning")
    assert warn_up.level == "warn"
    assert warn_up.keeps(_line("x", "error")) and warn_up.keeps(_line("x", "warn"))
    assert not warn_up.keeps(_line("x", "info")) and not warn_up.keeps(_line("x", None))
    grep = LogQuery.build(None, grep=r"disk \d+")
    assert grep.keeps(_line("disk 42 full", None)) and not grep.keeps(_line("disk full", None))


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"grep": "("}, "regex"), ({"level": "loud"}, "level"), ({"tail": -1}, "tail")],
)
def test_query_rejects_bad_input(kwargs: dict[str, object], word: str) -> None:
    with pytest.raises(BadInput) as caught:
        LogQuery.build(None, **kwargs)  # type: ignore[arg-type]
    assert word in caught.value.message
    assert caught.value.hint  # every bad input says the fix


def test_json_fields() -> None:
    data = _line("boom", "error").to_data()
    assert {"time", "service", "stack", "stream", "line", "level"} <= set(data)


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("10:00AM INF listening addr=:8080", "info"),
        ("10:00AM WRN slow query", "warn"),
        ('time="2024-05-01T10:00:00Z" level=erro msg="x"', "error"),
    ],
)
def test_short_level_words(line: str, level: str) -> None:
    assert parse_level(line) == level
