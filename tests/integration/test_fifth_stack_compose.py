"""A fifth stack, added as data only (stack.yaml + a service file), passes Compose's own check
and comes up on the network its stack.yaml names (issue 16, part 4)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.deploy.down import down
from homestack.deploy.up import up
from testkit.sites import copy_catalog, up_service, up_site

pytestmark = pytest.mark.integration

#: the fifth stack: a folder of data (stack.yaml, services/gnome.docker-compose.yaml)
GARDEN = Path(__file__).resolve().parents[1] / "fixtures" / "fifth-stack" / "garden-stack"


def test_validate_with_compose_config_accepts_a_fifth_stack(
    compose_cli: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_catalog(tmp_path / "site")
    shutil.copytree(GARDEN, root / "garden-stack")
    assert run(["--site", str(root), "validate", "garden"]) == 0
    out = capsys.readouterr().out
    assert "compose config garden: ok" in out


def test_up_brings_a_fifth_stack_up_on_its_own_network(
    tmp_path: Path,
    standin_image: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prefix = engine_cleanup
    monkeypatch.setenv("HOMESTACK_PREFIX", prefix)
    root = up_site(tmp_path / "site", {"essentials": {"services": {"door": {}}}})
    folder = root / "garden-stack"
    (folder / "services").mkdir(parents=True)
    (folder / "stack.yaml").write_text(
        "description: Plants\ntitle: Garden\nnetwork: garden-net\n"
        "depends_on: [essentials]\nservices:\n  - gnome\n"
    )
    doc = json.loads(up_service("garden", "gnome", {}))
    doc["services"]["gnome"]["networks"] = ["garden-net"]
    doc["networks"] = {"garden-net": {"name": "${HOMESTACK_PREFIX:-}garden-net", "external": True}}
    (folder / "services" / "gnome.docker-compose.yaml").write_text(json.dumps(doc, indent=2))

    site = Site.load(root)
    result = up(site, ["garden"])
    assert result.ok, result
    inspected = subprocess.run(
        [
            "docker",
            "inspect",
            f"{prefix}garden-gnome-1",
            "--format",
            "{{json .NetworkSettings.Networks}}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert list(json.loads(inspected.stdout)) == [f"{prefix}garden-net"]
    down(Site.load(root), ["garden"])
