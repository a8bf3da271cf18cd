"""The shipped catalog, rehearsed: every enabled service of all four stacks comes up healthy
under `--stand-in`, a second `up` changes nothing, and `down` leaves no container behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.deploy.down import down
from homestack.deploy.up import GOOD, up
from testkit.engine import container_names
from testkit.sites import copy_catalog

pytestmark = pytest.mark.integration


def test_shipped_catalog_comes_up_under_stand_in_and_down_leaves_nothing(
    tmp_path: Path,
    standin_image: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    site = Site.load(copy_catalog(tmp_path / "site"))
    assert set(site.stacks) == {"ai", "essentials", "management", "media"}

    result = up(site, stand_in="", timeout=180)
    bad = {
        r.service: (r.state, r.detail, r.health_log[-1:])
        for r in result.services
        if r.state not in GOOD
    }
    assert result.ok, bad
    assert {r.stack for r in result.services} == set(site.stacks)
    enabled = {s.id for s in site.services(enabled_only=True)}
    assert {r.service for r in result.services} == enabled
    # the override lives under DATA/, never in a stack folder
    for path in result.override_files:
        assert Path(path).is_relative_to(site.data_root)
    assert not list(site.root.glob("*-stack/**/*standin*"))

    again = up(Site.load(site.root), stand_in="")
    assert not again.changed, again.summary()

    gone = down(Site.load(site.root))
    assert gone.left == []
    assert container_names(engine_cleanup) == []
