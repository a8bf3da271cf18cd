"""`up` asks Compose for its config hashes (one process per stack) only when the stack's
inputs changed: a second `up`, plain or `--stand-in`, reads them from the cache under
DATA/.homestack. Under --stand-in the files are checked without the override, then hashed
with it; both readings are cached, so a no-op rehearsal starts no Compose config process."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.context import Context
from homestack.deploy.up import UpResult, up
from homestack.engine.backend import ComposeBackend
from homestack.engine.compose import ComposeProject
from testkit.sites import up_site

pytestmark = pytest.mark.integration


class _Counting(ComposeBackend):
    """The real backend, noting each stack Compose is asked to hash."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def config_hashes(self, project: ComposeProject) -> dict[str, str]:
        self.asked.append(project.name)
        return super().config_hashes(project)


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
    backend = _Counting()

    def run() -> UpResult:
        ctx = Context.for_site(Site.load(root), backend=backend)
        return up(ctx.site, stand_in=stand_in, timeout=60, ctx=ctx)

    assert run().ok
    assert backend.asked  # the first run asks Compose
    backend.asked.clear()
    again = run()
    assert again.ok and not again.changed
    assert backend.asked == []
