"""`up` reaches the engine through the backend of the Context it is handed (issue 16: no
module global), every phase of it: networks and DATA volumes, the live listing, image ids,
the host-port check, the scheduler's create/start, events and inspect. A recording
ComposeBackend (the real one underneath, on the real engine) sees each call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from homestack.api import down, up
from homestack.catalog import Site
from homestack.context import Context
from homestack.engine.backend import ComposeBackend
from testkit.sites import up_site

pytestmark = pytest.mark.integration


class _Recording(ComposeBackend):
    """The real backend, each method's name noted when it is called."""

    def __init__(self) -> None:
        self.calls: set[str] = set()

    def __getattribute__(self, name: str) -> Any:
        found = super().__getattribute__(name)
        if callable(found) and not name.startswith("_"):
            super().__getattribute__("calls").add(name)
        return found


def test_up_uses_the_context_backend_in_every_phase(tmp_path: Path, prefixed_site_env: str) -> None:
    root = up_site(
        tmp_path / "site", {"media": {"services": {"app": {}, "web": {"needs": ["app"]}}}}
    )
    backend = _Recording()

    result = up(Context.for_site(Site.load(root), backend=backend), timeout=60)

    assert result.ok, result.summary()
    phases = {
        "networks",  # install networks' step: what exists
        "create_network",  # … and what it makes
        "containers",  # the live listing before planning, and the scheduler's
        "image_id",  # which images are here
        "events",  # the scheduler's health follower
        "create",  # precreation by Compose
        "start_container",  # a precreated container started by id
        "config_hashes",  # Compose's hashes of each stack (not cached yet on a new site)
    }
    assert phases <= backend.calls, sorted(phases - backend.calls)


def test_down_uses_the_context_backend(tmp_path: Path, prefixed_site_env: str) -> None:
    """down of one service: which run (its dependents), what was there, the removal and
    what is left all go through the context's backend (they went to default_backend())."""
    root = up_site(
        tmp_path / "site", {"media": {"services": {"app": {}, "web": {"needs": ["app"]}}}}
    )
    site = Site.load(root)
    assert up(Context.for_site(site), timeout=60).ok
    backend = _Recording()

    result = down(Context.for_site(site, backend=backend), ["app"])

    assert result.removed == ["app"] and [d.service for d in result.dependents] == ["web"]
    assert {"containers", "remove"} <= backend.calls, sorted(backend.calls)
