"""`update` and `rollback` on a swarm site are refused before anything (they recreate
containers through Compose on this machine: a second copy beside the swarm's service)."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.errors import BadInput
from homestack.update.apply import rollback, update
from testkit.cli import cli_output
from testkit.sites import write_tree

SERVICE = "services:\n  app:\n    image: example/app:1.0.0\n"


@pytest.fixture
def swarm_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HOMESTACK_PREFIX", raising=False)
    return write_tree(
        tmp_path / "site",
        {
            "base.docker-compose.yaml": "networks: {}\n",
            ".env": "DATA_ROOT=./DATA\nDEPLOY_MODE=swarm\n",
            "media-stack/stack.yaml": "services:\n  - app\n",
            "media-stack/services/app.docker-compose.yaml": SERVICE,
        },
    )


def test_update_and_rollback_on_a_swarm_site_are_refused_and_change_nothing(
    swarm_site: Path,
) -> None:
    site = Site.load(swarm_site)
    before = {p: p.read_bytes() for p in swarm_site.rglob("*") if p.is_file()}
    with pytest.raises(BadInput, match=r"`homestack update` is not available in swarm mode"):
        update(site, "app", to="1.0.1")
    with pytest.raises(BadInput, match=r"`homestack rollback` is not available in swarm mode"):
        rollback(site, "app")
    assert {p: p.read_bytes() for p in swarm_site.rglob("*") if p.is_file()} == before


def test_the_cli_says_why_with_exit_2(swarm_site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = cli_output(
        capsys, "--site", str(swarm_site), "update", "app", "--to", "1.0.1", "--yes"
    )
    assert code == 2, text
    assert "not available in swarm mode" in text and "homestack up" in text
    assert "Traceback" not in text
