"""`down STACK` also removes the container of a service renamed or deleted since it ran
(Compose's --remove-orphans); the summary now names it instead of counting only the
services the files describe (found living with a site: mediamtx renamed to mediarelay)."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.deploy.up import up
from homestack.engine import docker as engine
from testkit.sites import up_site

pytestmark = pytest.mark.integration


def test_down_of_a_stack_names_the_container_no_file_describes(
    tmp_path: Path,
    standin_image: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    root = up_site(tmp_path / "site", {"media": {"services": {"keep": {}, "old": {}}}})
    assert up(Site.load(root), timeout=60).ok
    (root / "media-stack" / "services" / "old.docker-compose.yaml").unlink()
    stack_file = root / "media-stack" / "stack.yaml"
    stack_file.write_text(stack_file.read_text().replace("  - old\n", ""))
    capsys.readouterr()
    assert run(["--site", str(root), "down", "media"]) == 0
    out = capsys.readouterr().out
    assert (
        "removed 1 service (stacks: media), and 1 container no service file describes (old)" in out
    )
    project = f"{engine_cleanup}media"
    left = engine.list_containers(labels={"com.docker.compose.project": project})
    assert left == []
