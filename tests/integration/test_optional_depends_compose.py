"""What the real Compose (v2.40) does with `depends_on: {X: {required: false}}` when X is
disabled (its file is not passed): it refuses the project, "depends on undefined service".
So validate --offline (lint) must report it as Compose's own check does, and `up` refusing
it is right; it is not the 'optional' it looks like."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.engine.compose import ComposeProject
from homestack.errors import CommandFailed
from homestack.lint import lint_site
from testkit.sites import make_site, service_yaml, stack_yaml

pytestmark = pytest.mark.integration


def test_compose_refuses_an_optional_dependency_on_a_disabled_service_and_lint_agrees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, test_prefix: str
) -> None:
    done = subprocess.run(
        [shutil.which("docker") or "docker", "compose", "version"],
        capture_output=True,
        check=False,
    )
    if done.returncode:  # pragma: no cover - CI installs it
        pytest.skip("docker compose is not installed")
    monkeypatch.setenv("HOMESTACK_PREFIX", test_prefix)
    monkeypatch.setenv("HOMESTACK_NO_CACHE", "1")
    root = make_site(
        tmp_path / "site",
        {
            "ai-stack/stack.yaml": stack_yaml(["webui"], ["ollama", "whisper"]),
            "ai-stack/services/webui.docker-compose.yaml": service_yaml(
                "webui",
                body="depends_on:\n  ollama:\n    condition: service_healthy\n    required: false",
            ),
        },
    )
    site = Site.load(root)
    with pytest.raises(CommandFailed) as refused:
        ComposeProject(site, site.stacks["ai"]).config()
    assert 'depends on undefined service "ollama"' in refused.value.stderr
    found = [f for f in lint_site(site, host_ports=False) if f.rule == "depends.unknown"]
    assert [(f.service, f.severity.value) for f in found] == [("webui", "error")]
