"""`homestack config STACK` when the real Compose refuses the files (a duplicate key, the base
file's `services:` a list): exit 2 naming the stack, Compose's reason and, where Compose says
it, the file and line, with the fix (`homestack validate STACK`). It was exit 1 with a bare
"`docker compose -p … config` exited 1" and no fix."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from homestack.cli.app import run
from testkit.sites import make_site

pytestmark = pytest.mark.integration

OLLAMA = "ai-stack/services/ollama.docker-compose.yaml"


@pytest.fixture
def site_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, test_prefix: str) -> Path:
    if subprocess.run(
        [shutil.which("docker") or "docker", "compose", "version"],
        capture_output=True,
        check=False,
    ).returncode:  # pragma: no cover - CI installs it
        pytest.skip("docker compose is not installed")
    monkeypatch.setenv("HOMESTACK_PREFIX", test_prefix)
    monkeypatch.setenv("HOMESTACK_NO_CACHE", "1")
    monkeypatch.delenv("HOMESTACK_SITE", raising=False)
    return make_site(tmp_path / "site")


def _config(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = run(["--site", str(root), "config", "ai"])
    return code, capsys.readouterr().err


def test_config_of_a_file_with_a_duplicate_key_is_bad_input_with_the_fix(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = site_root / OLLAMA
    text = path.read_text(encoding="utf-8")
    image = next(line for line in text.splitlines() if line.strip().startswith("image:"))
    path.write_text(text.replace(image, f"{image}\n{image}", 1), encoding="utf-8")
    line = text.splitlines().index(image) + 2
    code, err = _config(site_root, capsys)
    assert code == 2, err
    assert "Compose refuses the files of stack ai:" in err
    assert 'mapping key "image" already defined' in err
    assert f"file: {path}:{line}" in err
    assert "fix: Fix what it names; `homestack validate ai` lists every problem" in err


def test_config_with_base_services_a_list_is_bad_input_with_the_fix(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (site_root / "base.docker-compose.yaml").open("a", encoding="utf-8") as base:
        base.write("services:\n  - ollama\n")
    code, err = _config(site_root, capsys)
    assert code == 2, err
    assert "Compose refuses the files of stack ai:" in err
    assert "services must be a mapping" in err
    assert "`homestack validate ai`" in err


def test_config_of_good_files_still_prints_the_model(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert run(["--site", str(site_root), "config", "ai", "--json"]) == 0
    assert '"ollama"' in capsys.readouterr().out
