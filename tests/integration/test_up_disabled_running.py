"""A service disabled while its container runs: `up` leaves it be (it starts only enabled
ones) and now says so, with the command that removes it, instead of a bare 'nothing to do'
that hid it (found living with a site: disable ollama, up, ollama still ran)."""

from __future__ import annotations

from pathlib import Path

import pytest
from up_sitegen import write_site

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.deploy.up import up

pytestmark = pytest.mark.integration


def test_up_names_disabled_services_that_still_run(
    tmp_path: Path,
    standin_image: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    root = write_site(tmp_path / "site", {"media": {"services": {"keep": {}, "gone": {}}}})
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
