"""A copy of the shipped catalog in a temporary site, so generators write under tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from homestack.catalog import Site
from testkit.sites import copy_catalog

DOOR = "10.78.0.1"  # an address no network here uses; nothing is sent to it


@pytest.fixture
def make_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Site]:
    for key in (
        "DATA_ROOT",
        "SECRETS_DIR",
        "DOMAIN",
        "CADDY_HTTPS_PORT",
        "HOMESTACK_SITE",
        "LAN_ADDRESS",
    ):
        monkeypatch.delenv(key, raising=False)
    root = copy_catalog(tmp_path / "site")

    def make(**env: str) -> Site:
        if env:
            lines = [f"{key}={value}" for key, value in env.items()]
            (root / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return Site.load(root)

    return make


@pytest.fixture
def site(make_site: Callable[..., Site]) -> Site:
    # a fixed door address: `auto` (the shipped .env.example) depends on the machine's route
    return make_site(LAN_ADDRESS=DOOR)
