"""After an `up` that brought something new up: where to open it from any device."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homestack.cli.app import run
from homestack.domain import DEFAULT_DOMAIN as D
from testkit.sites import up_site

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_the_first_up_ends_with_the_summary_and_a_second_does_not(
    tmp_path: Path,
    engine_cleanup: str,
    standin_image: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    monkeypatch.setenv("LAN_ADDRESS", "10.78.0.1")  # resolved and written, never contacted
    for key in ("DOMAIN", "LAN_DNS"):
        monkeypatch.delenv(key, raising=False)
    root = up_site(tmp_path / "site", {"essentials": {"services": {"board": {}}}})
    site = ["--site", str(root)]
    assert run([*site, "up", "--stand-in"]) == 0
    first = capfd.readouterr()
    assert "stand-ins publish no ports" in first.out
    assert f"https://board.{D}" in first.out
    assert "https://10.78.0.1/" in first.out
    assert "homestack secrets show authelia_admin_password" in first.out
    assert "LAN_DNS" in first.out  # what is left: the DNS choice

    assert run([*site, "up", "--stand-in"]) == 0  # nothing new: no summary
    assert "publish no ports" not in capfd.readouterr().out

    assert run([*site, "down"]) == 0
    capfd.readouterr()
    assert run([*site, "up", "--stand-in", "--json"]) == 0
    out = capfd.readouterr().out
    json.loads(out)  # only the result: no summary mixed into --json
