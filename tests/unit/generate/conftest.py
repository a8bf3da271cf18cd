"""A copy of the shipped catalog in a temporary site, so generators write under tmp_path."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from homestack.catalog import Site

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def make_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Site]:
    for key in ("DATA_ROOT", "SECRETS_DIR", "DOMAIN", "CADDY_HTTPS_PORT", "HOMESTACK_SITE"):
        monkeypatch.delenv(key, raising=False)
    root = tmp_path / "site"
    root.mkdir()
    shutil.copy(REPO / "base.docker-compose.yaml", root)
    shutil.copy(REPO / ".env.example", root)
    for stack in REPO.glob("*-stack"):
        shutil.copytree(stack, root / stack.name, ignore=shutil.ignore_patterns(".env"))

    def make(**env: str) -> Site:
        if env:
            lines = [f"{key}={value}" for key, value in env.items()]
            (root / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return Site.load(root)

    return make


@pytest.fixture
def site(make_site: Callable[..., Site]) -> Site:
    return make_site()
