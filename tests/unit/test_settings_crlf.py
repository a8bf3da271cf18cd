"""Carriage returns in .env files, as the real `docker compose config` (v2.40) reads them
(recorded here; tests/integration/test_env_quotes_compose.py compares with Compose itself):
a CR before a line's LF ends nothing but is dropped from an unquoted value; inside quotes it
is kept, also in a value that spans lines; a CR alone is not a line break."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack import settings

RECORDED = [
    # (file bytes, what Compose's config gives)
    (b'A="one\r\ntwo"\r\nB=plain\r\n', {"A": "one\r\ntwo", "B": "plain"}),
    (b"C='s1\r\ns2'\r\nF=\r\n", {"C": "s1\r\ns2", "F": ""}),
    (b'D="x\\r\\ny"\r\nE="end"  \r\n', {"D": "x\r\ny", "E": "end"}),
    (b'A=va\rlue\nB="x\ry"\n', {"A": "va\rlue", "B": "x\ry"}),
    (b"C=one\rD=two\nE=tail \r\n", {"C": "one\rD=two", "E": "tail"}),
    (b'A="a\\\r\nb"\n', {"A": "a\\\r\nb"}),
]


@pytest.mark.parametrize(("raw", "compose"), RECORDED)
def test_carriage_returns_read_as_compose_reads_them(
    tmp_path: Path, raw: bytes, compose: dict[str, str]
) -> None:
    path = tmp_path / ".env"
    path.write_bytes(raw)
    env = settings.read_env(path)
    assert env is not None
    assert env.values == compose


def test_line_numbers_count_line_feeds_only(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b'A="one\r\ntwo"\r\nB=x\rC=y\r\nD=1\r\n')
    env = settings.read_env(path)
    assert env is not None
    assert env.lines == {"A": 1, "B": 3, "D": 4}
