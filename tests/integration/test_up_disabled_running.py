"""A service disabled while its container runs: `up` leaves it be (it starts only enabled
ones) and now says so, with the command that removes it, instead of a bare 'nothing to do'
that hid it (found living with a site: disable ollama, up, ollama still ran)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.deploy.up import up
from testkit.sites import up_site

pytestmark = pytest.mark.integration


def test_up_names_disabled_services_that_still_run(
    tmp_path: Path,
    standin_image: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    root = up_site(tmp_path / "site", {"media": {"services": {"keep": {}, "gone": {}}}})
    first = up(Site.load(root), timeout=60)
    assert first.ok and first.disabled_running == []
    stack_file = root / "media-stack" / "stack.yaml"
    stack_file.write_text(stack_file.read_text().replace("  - gone\n", "  # - gone\n"))
    again = up(Site.load(root), timeout=60)
    assert again.ok and not again.changed
    assert again.disabled_running == ["gone"]
    assert again.to_data()["disabled_running"] == ["gone"]
    capsys.readouterr()
    assert run(["--site", str(root), "up"]) == 0
    out = capsys.readouterr().out
    assert "1 disabled service still runs: gone" in out
    assert "homestack down gone" in out
    assert "nothing to do" in out


def test_up_names_a_running_service_whose_deleted_folder_and_secret_it_made_again(
    tmp_path: Path,
    standin_image: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """rm -rf DATA/app (or its secret) by mistake: up makes them again, but the running
    container keeps the deleted ones; up now says so and how to remount (a restart)."""
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    root = up_site(tmp_path / "site", {"media": {"services": {"app": {"secret": True}}}})
    assert up(Site.load(root), timeout=60).ok
    shutil.rmtree(root / "DATA" / "app")
    (root / "secrets" / "app_password").unlink()
    capsys.readouterr()
    assert run(["--site", str(root), "up", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert sorted(data["remade"]["app"]) == sorted(
        [str(root / "DATA" / "app"), str(root / "secrets" / "app_password")]
    )
    assert run(["--site", str(root), "up"]) == 0  # nothing made this time
    assert "still uses the deleted" not in capsys.readouterr().out
    shutil.rmtree(root / "DATA" / "app")
    assert run(["--site", str(root), "up"]) == 0
    out = capsys.readouterr().out
    assert f"app still uses the deleted {root / 'DATA' / 'app'}" in out
    assert "homestack restart app" in out
