"""A Context with no backend of its own answers with the site's: the swarm's on a
DEPLOY_MODE=swarm site (operations then act on the swarm, as the CLI does), else Compose's;
a backend handed in always wins. Nothing here talks to an engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.context import Context
from homestack.engine.backend import ComposeBackend
from homestack.engine.swarm_backend import SwarmBackend
from homestack.errors import BadInput
from testkit.sites import service_file, tiny_site


@pytest.fixture(autouse=True)
def _no_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOMESTACK_PREFIX", raising=False)


def _context(root: Path, env: str) -> Context:
    tiny_site(root, {"app": service_file("app")}, env=env)
    return Context.for_site(Site.load(root))


def test_the_site_decides_the_backend(tmp_path: Path) -> None:
    assert isinstance(_context(tmp_path / "swarm", "DEPLOY_MODE=swarm\n").engine(), SwarmBackend)
    compose = _context(tmp_path / "compose", "").engine()
    assert isinstance(compose, ComposeBackend) and not isinstance(compose, SwarmBackend)
    mine = ComposeBackend()
    site = Site.load(tmp_path / "swarm")
    assert Context.for_site(site, backend=mine).engine() is mine


def test_a_deploy_mode_it_does_not_know_is_bad_input_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="DEPLOY_MODE='kubernetes' is neither") as raised:
        _context(tmp_path, "DEPLOY_MODE=kubernetes\n").engine()
    assert raised.value.file == str(tmp_path / ".env")
