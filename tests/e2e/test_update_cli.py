"""The update commands' refusals through the real entry point: exit codes and one-screen
errors, nothing written (no engine or registry needed for these)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homestack.cli.app import run

SERVICE = """services:
  app:
    x-homestack:
      title: App
      description: e2e
    image: 127.0.0.1:9/h19/app:1.0.0
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    stack = tmp_path / "tst-stack" / "services"
    stack.mkdir(parents=True)
    (tmp_path / "base.docker-compose.yaml").write_text("networks: {}\n")
    (tmp_path / ".env").write_text("DATA_ROOT=./DATA\n")
    (stack.parent / "stack.yaml").write_text("description: t\nservices:\n  - app\n")
    (stack / "app.docker-compose.yaml").write_text(SERVICE)
    return tmp_path


def test_refusals_exit_2_with_the_fix(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (site / "tst-stack" / "services" / "app.docker-compose.yaml").read_text()
    assert run(["--site", str(site), "update", "nope", "--yes"]) == 2
    assert "nope" in capsys.readouterr().err
    assert run(["--site", str(site), "update", "app", "app", "--to", "1.0.1"]) == 2
    assert "--to names one tag" in capsys.readouterr().err
    assert run(["--site", str(site), "update", "app", "--to", "1.0.1"]) == 2  # no tty, no --yes
    assert "Add --yes" in capsys.readouterr().err
    assert run(["--site", str(site), "rollback", "app"]) == 2
    err = capsys.readouterr().err
    assert "no earlier deploy" in err and "homestack history app" in err
    assert run(["--site", str(site), "history", "app"]) == 0
    assert "no deploys of app recorded yet" in capsys.readouterr().out
    assert (site / "tst-stack" / "services" / "app.docker-compose.yaml").read_text() == before
    assert not (site / "homestack.lock").exists()


def test_unreachable_registry(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Port 9 on loopback refuses: outdated warns (exit 0), update and lock fail (exit 1)."""
    assert run(["--site", str(site), "outdated", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["warnings"] and "did not answer" in report["warnings"][0]
    assert run(["--site", str(site), "update", "app", "--yes"]) == 1
    err = capsys.readouterr().err
    assert "127.0.0.1:9" in err and "Traceback" not in err
    assert run(["--site", str(site), "update", "--yes"]) == 1  # every service: none checked
    captured = capsys.readouterr()
    assert "warning: app" in captured.err and "on its newest tag" in captured.out
    assert run(["--site", str(site), "lock"]) == 1
    assert "warning: app" in capsys.readouterr().out
    assert not (site / "homestack.lock").exists()  # nothing resolved: nothing written


def test_a_broken_lockfile_is_bad_input(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "homestack.lock").write_text("{")
    assert run(["--site", str(site), "validate", "--offline", "--json"]) == 1  # a finding
    findings = json.loads(capsys.readouterr().out)["findings"]
    (finding,) = [f for f in findings if f["rule"] == "lock.stale"]
    assert finding["rule"] == "lock.stale" and "not a homestack lockfile" in finding["message"]
    assert run(["--site", str(site), "lock"]) == 2  # an operation on it: bad input
    err = capsys.readouterr().err
    assert "not a homestack lockfile" in err and "homestack lock" in err


def test_an_image_from_a_variable_is_refused_before_the_registry(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = site / "tst-stack" / "services" / "app.docker-compose.yaml"
    path.write_text(path.read_text().replace(":1.0.0", ":${APP_TAG:-1.0.0}"))
    assert run(["--site", str(site), "update", "app", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "set through a variable" in err and "did not answer" not in err
