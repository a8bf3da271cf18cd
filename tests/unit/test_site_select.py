"""Site.select: STACK|SERVICE… arguments, stacks and services named together."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from testkit.sites import make_site


@pytest.fixture(autouse=True)
def _no_site_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOMESTACK_SITE", raising=False)
    monkeypatch.delenv("HOMESTACK_PREFIX", raising=False)


def test_a_stack_named_beside_a_service_keeps_its_enabled_services(tmp_path: Path) -> None:
    site = Site.load(make_site(tmp_path))
    stacks, only = site.select(["ai", "proxy"])
    assert [s.id for s in stacks] == ["ai", "essentials"]
    assert only is not None
    # whisper is disabled in ai: naming the stack means its enabled services
    assert sorted(s.id for s in only) == ["ollama", "proxy", "webui"]


def test_stack_alone_and_service_alone_are_unchanged(tmp_path: Path) -> None:
    site = Site.load(make_site(tmp_path))
    stacks, only = site.select(["ai"])
    assert [s.id for s in stacks] == ["ai"] and only is None
    stacks, only = site.select(["webui", "ollama"])
    assert [s.id for s in stacks] == ["ai"]
    assert [s.id for s in only or []] == ["webui", "ollama"]


def test_a_name_given_twice_counts_once(tmp_path: Path) -> None:
    site = Site.load(make_site(tmp_path))
    stacks, only = site.select(["ai", "ai-stack", "ai"])
    assert [s.id for s in stacks] == ["ai"] and only is None
    stacks, only = site.select(["proxy", "proxy", "essentials"])
    assert [s.id for s in stacks] == ["essentials"]
    assert [s.id for s in only or []] == ["proxy"]
