"""`up` asks Compose for its config hashes (one process per stack) only when the stack's
inputs changed: a second `up`, plain or `--stand-in`, reads them from the cache under
DATA/.homestack. Under --stand-in the files are checked without the override, then hashed
with it; both readings are cached, so a no-op rehearsal starts no Compose config process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from homestack.catalog import Site
from homestack.deploy import projects
from homestack.deploy.up import up
from testkit.sites import up_site

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("stand_in", [None, ""], ids=["plain", "stand-in"])
def test_a_second_up_reads_the_config_hashes_from_the_cache(
    tmp_path: Path,
    standin_image: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
    stand_in: str | None,
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    root = up_site(tmp_path / "site", {"media": {"services": {"app": {}}}})
    asked: list[str] = []
    real = projects.config_hashes

    def counted(project: Any) -> dict[str, str]:
        asked.append(project.name)
        return real(project)

    monkeypatch.setattr(projects, "config_hashes", counted)
    assert up(Site.load(root), stand_in=stand_in, timeout=60).ok
    assert asked  # the first run asks Compose
    asked.clear()
    again = up(Site.load(root), stand_in=stand_in, timeout=60)
    assert again.ok and not again.changed
    assert asked == []
