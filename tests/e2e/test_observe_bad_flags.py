"""logs --since and top --interval with values that parse as numbers but are no time: a
clear exit 2, not an internal error (OverflowError) or a top that never waits."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from homestack.cli.app import run
from homestack.errors import BadInput
from homestack.observe.logs import parse_since
from testkit.sites import make_site

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["99999999d", "9" * 400 + "w", "1000000w"])
def test_since_longer_ago_than_1970_means_everything(text: str) -> None:
    assert parse_since(text, NOW) == 0.0


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "-5", "1e300", "99999-01-01"])
def test_since_numbers_that_are_no_unix_time_are_bad_input(text: str) -> None:
    with pytest.raises(BadInput, match="is not a duration or a time"):
        parse_since(text, NOW)


def test_since_still_reads_durations_unix_times_and_iso_times() -> None:
    assert parse_since("10m", NOW) == NOW.timestamp() - 600
    assert parse_since("1714564800", NOW) == 1714564800.0
    assert parse_since("2024-05-01T12:00Z", NOW) == NOW.timestamp()


@pytest.mark.parametrize("value", ["inf", "nan", "1e9"])
def test_top_refuses_an_interval_it_cannot_wait(
    tmp_path: Path,
    test_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    value: str,
) -> None:
    """Refused before the engine is asked anything (inf killed the sampler thread with an
    OverflowError traceback; nan sampled without pause)."""
    monkeypatch.setenv("HOMESTACK_PREFIX", test_prefix)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")  # never reached
    site = make_site(tmp_path / "site")
    assert run(["--site", str(site), "top", "-n", value]) == 2
    err = capsys.readouterr().err
    assert "is not a number of seconds top can wait" in err
    assert "Traceback" not in err
