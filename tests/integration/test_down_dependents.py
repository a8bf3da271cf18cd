"""`down STACK` on a real engine also takes down what other stacks run on top of it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.deploy.up import up
from testkit.sites import up_site

pytestmark = pytest.mark.integration

STACKS = {
    "essentials": {"services": {"auth": {}}},
    # no stack depends_on: only `app` needs essentials (a cross-stack x-homestack need)
    "ai": {"services": {"app": {"needs": ["auth"]}, "solo": {"critical": False}}},
}


def _running(prefix: str) -> dict[str, str]:
    """name → id of the running containers under the prefix."""
    done = subprocess.run(
        [
            "docker",
            "ps",
            "--no-trunc",
            "--format",
            "{{.Names}} {{.ID}}",
            "--filter",
            f"name=^/?{prefix}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(line.split() for line in done.stdout.splitlines())


def test_down_a_stack_takes_down_its_dependents_elsewhere_and_no_dependents_refuses(
    tmp_path: Path,
    standin_image: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    prefix = engine_cleanup
    monkeypatch.setenv("HOMESTACK_PREFIX", prefix)
    root = up_site(tmp_path / "site", STACKS)
    assert up(Site.load(root)).ok
    before = _running(prefix)
    assert set(before) == {f"{prefix}essentials-auth-1", f"{prefix}ai-app-1", f"{prefix}ai-solo-1"}
    capfd.readouterr()

    # --no-dependents: refused (exit 2), naming the dependent and the fix; nothing changed
    assert run(["--site", str(root), "down", "essentials", "--no-dependents"]) == 2
    err = capfd.readouterr().err
    assert "ai/app needs essentials/auth (x-homestack depends_on)" in err
    assert "homestack down app" in err
    assert _running(prefix) == before

    # default: the dependent goes first, the unrelated service of its stack keeps running
    assert run(["--site", str(root), "down", "essentials", "--json"]) == 0
    data = json.loads(capfd.readouterr().out)
    assert data["removed"] == ["auth"]
    assert data["stacks"] == ["essentials"]
    assert [(d["service"], d["needs"], d["stack"]) for d in data["dependents"]] == [
        ("app", "auth", "ai")
    ]
    assert data["left"] == []
    assert _running(prefix) == {f"{prefix}ai-solo-1": before[f"{prefix}ai-solo-1"]}
    all_left = subprocess.run(
        ["docker", "ps", "-a", "--format", "{{.Names}}", "--filter", f"name=^/?{prefix}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all_left == [f"{prefix}ai-solo-1"]  # dependents are removed, like the targets

    # again: nothing of essentials is left, and the count says so
    assert run(["--site", str(root), "down", "essentials"]) == 0
    assert "no container to remove" in capfd.readouterr().out


def test_down_volumes_also_removes_what_a_service_disabled_since_left(
    tmp_path: Path, standin_image: str, engine_cleanup: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compose removes orphan containers but only the volumes of the files it reads."""
    from homestack.deploy.down import down

    prefix = engine_cleanup
    monkeypatch.setenv("HOMESTACK_PREFIX", prefix)
    root = up_site(
        tmp_path / "site",
        {"ai": {"services": {"app": {}, "solo": {}}}, "media": {"services": {"player": {}}}},
    )
    assert up(Site.load(root)).ok
    for stack, name in (("ai", "solo"), ("media", "player")):
        stack_file = root / f"{stack}-stack" / "stack.yaml"
        stack_file.write_text(stack_file.read_text().replace(f"  - {name}", f"  # - {name}"))
    down(Site.load(root), ["media"])  # a named stack with nothing enabled is still taken down
    assert _running(prefix).keys() == {f"{prefix}ai-app-1", f"{prefix}ai-solo-1"}
    down(Site.load(root), volumes=True)

    def left(*what: str) -> list[str]:
        done = subprocess.run(
            ["docker", *what, "--format", "{{.Name}}" if what[0] == "volume" else "{{.Names}}"],
            capture_output=True,
            text=True,
            check=True,
        )
        return [n for n in done.stdout.split() if n.startswith(prefix)]

    assert left("ps", "-a") == []
    assert left("volume", "ls") == []
