"""TZ is checked against the tz database: a name it lacks is the lint error env.timezone
(validate exits 1), `install` refuses it (exit 2), and the .env install writes never gets a
host time zone the database lacks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from lintkit import Case, lint

from homestack.cli.app import run
from homestack.errors import BadInput
from homestack.host.envfile import ensure_env
from homestack.host.install_all import check_site
from homestack.host.probe import CommandResult, HostProbe, no_nvml
from homestack.settings import known_timezones, timezone_problem
from testkit.sites import copy_catalog

pytestmark = pytest.mark.skipif(not known_timezones(), reason="no tz database on this machine")

ROOT = "BIND_ADDRESS=127.0.0.1\nDATA_ROOT=./DATA\n"


@pytest.fixture(autouse=True)
def _no_tz_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("TZ", "HOMESTACK_SITE", "DATA_ROOT", "SECRETS_DIR"):
        monkeypatch.delenv(key, raising=False)


@pytest.mark.parametrize("value", ["Not/AZone", "garbage", "europe/berlin"])
def test_a_zone_the_database_lacks_is_an_error_at_its_line(value: str, tmp_path: Path) -> None:
    root = Case("env.timezone", {".env.example": ROOT + f"TZ={value}\n"}).write(tmp_path)
    found = [f for f in lint(root) if f.rule == "env.timezone"]
    assert [(f.file, f.line, f.severity.value) for f in found] == [
        (root / ".env.example", 3, "error")
    ]
    assert found[0].hint and "timedatectl list-timezones" in found[0].hint
    if value == "europe/berlin":
        assert "Did you mean Europe/Berlin?" in found[0].hint


def test_a_service_layer_is_checked_where_it_sets_tz(tmp_path: Path) -> None:
    files: dict[str, str | None] = {"ai-stack/services/web/.env": "WEB_PORT=18080\nTZ=Mars/Base\n"}
    root = Case("env.timezone", files).write(tmp_path)
    found = [f for f in lint(root) if f.rule == "env.timezone"]
    assert [(f.file.name, f.line, f.service) for f in found] == [(".env", 2, "web")]


def test_tz_from_the_process_environment_wins_and_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Case("env.timezone", {".env.example": ROOT + "TZ=Europe/Berlin\n"}).write(tmp_path)
    monkeypatch.setenv("TZ", "Nowhere/Town")
    found = [f for f in lint(root) if f.rule == "env.timezone"]
    assert len(found) == 1 and "from the environment" in found[0].message


def test_valid_names_and_glibc_forms_pass_and_a_posix_rule_is_a_warning() -> None:
    for value in ("Europe/Berlin", "Etc/UTC", "UTC", "", ":/etc/localtime", "America/New_York"):
        assert timezone_problem(value) is None, value
    posix = timezone_problem("CET-1CEST,M3.5.0,M10.5.0/3")
    assert posix is not None and posix.severity == "warning"


def test_validate_fails_on_the_shipped_catalog_with_a_bad_tz(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_catalog(tmp_path / "site")
    (root / ".env").write_text("TZ=Not/AZone\n", encoding="utf-8")
    assert run(["--site", str(root), "validate", "--offline", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    hits = [f for f in data["findings"] if f["rule"] == "env.timezone"]
    assert [(f["file"], f["line"], f["severity"]) for f in hits] == [
        (str(root / ".env"), 1, "error")
    ]


def test_install_refuses_a_bad_tz_before_changing_the_host(tmp_path: Path) -> None:
    root = copy_catalog(tmp_path / "site")
    (root / ".env").write_text("PUID=1000\nPGID=1000\nTZ=garbage\n", encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        check_site(root, None)
    assert caught.value.exit_status == 2
    assert caught.value.file == str(root / ".env") and caught.value.line == 3
    assert caught.value.hint and "timedatectl" in caught.value.hint


def _no_timedatectl(argv: Sequence[str], *, timeout: float = 60.0) -> CommandResult:
    return CommandResult(tuple(argv), 127, "", "timedatectl: command not found")


@pytest.mark.parametrize(
    ("host_tz", "written"), [("Europe/Paris", "Europe/Paris"), ("Garbage/Zone", "Etc/UTC")]
)
def test_fake_host_time_zone_is_written_only_when_the_database_has_it(
    host_tz: str, written: str, tmp_path: Path
) -> None:
    host = tmp_path / "host"
    (host / "etc").mkdir(parents=True)
    (host / "etc/timezone").write_text(host_tz + "\n")
    site = tmp_path / "site"
    site.mkdir()
    (site / ".env.example").write_text("TZ=Etc/UTC\nPUID=1000\nPGID=1000\n")
    probe = HostProbe(root=host, env={}, nvml=no_nvml, run=_no_timedatectl)
    result = ensure_env(site, probe)
    assert f"TZ={written}\n" in (site / ".env").read_text()
    if written != host_tz:
        assert "TZ" not in result.filled
        assert any(host_tz in note and "timedatectl" in note for note in result.notes)
