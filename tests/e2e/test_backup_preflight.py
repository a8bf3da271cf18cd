"""`homestack backup SERVICE` checks what it needs before it writes anything: no password is
generated (nor its KEEP A COPY banner printed) for a backup that cannot run. One error with a
fix, exit 2 for bad input (a setting, a file), 1 for a failed operation (no engine, no restic).
Through the real CLI on the shipped catalog; the engine is made unreachable with DOCKER_HOST."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.sites import copy_catalog

pytestmark = pytest.mark.e2e

CLI = "import sys; from homestack.cli.app import run; sys.exit(run(sys.argv[1:]))"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = copy_catalog(tmp_path / "site")
    (root / "DATA" / "ollama").mkdir(parents=True)
    (root / "DATA" / "ollama" / "model").write_text("weights\n")
    return root


def _backup(root: Path, *argv: str, **env: str) -> tuple[int, str, list[str]]:
    """Run `homestack backup …` in a child; returns exit code, stderr and what it wrote."""
    before = _files(root)
    done = subprocess.run(
        [sys.executable, "-c", CLI, "--site", str(root), "backup", *argv],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    written = sorted(set(_files(root)) - set(before))
    return done.returncode, done.stderr + done.stdout, written


def _files(root: Path) -> list[str]:
    """Every path under the site but the parse cache (.homestack/cache: not site state)."""
    found = (str(p.relative_to(root)) for p in root.rglob("*"))
    return [p for p in found if not p.startswith(".homestack")]


def _no_password(root: Path, output: str) -> None:
    assert not (root / "secrets" / "homestack_backup_password").exists()
    assert "KEEP A COPY" not in output


def test_no_engine_is_one_error_with_its_fix_and_no_password(site: Path, tmp_path: Path) -> None:
    code, output, written = _backup(site, "ollama", DOCKER_HOST=f"unix://{tmp_path}/none.sock")
    assert code == 1, output
    assert "no Docker engine answers at unix://" in output
    assert "fix: Start the Docker engine" in output
    assert "docker compose" not in output  # not compose's bare message
    _no_password(site, output)
    assert written == [], written


def test_data_root_that_is_a_file_is_bad_input_before_the_password(site: Path) -> None:
    data = site / "elsewhere"
    data.write_text("not a folder\n")
    (site / ".env").write_text(f"DATA_ROOT={data}\n")
    code, output, written = _backup(site, "ollama")
    assert code == 2, output
    assert f"DATA_ROOT is {data}, which is a file, not a folder" in output
    assert "fix: Point DATA_ROOT in .env at a folder" in output
    _no_password(site, output)
    assert written == [], written


def test_a_key_given_twice_is_bad_input_naming_the_line_before_the_password(site: Path) -> None:
    service = site / "ai-stack" / "services" / "ollama.docker-compose.yaml"
    text = service.read_text()
    service.write_text(
        text.replace("    image:", "    restart: always\n    restart: always\n    image:", 1)
    )
    code, output, written = _backup(site, "ollama")
    assert code == 2, output
    assert "key services.ollama.restart is given twice in ollama.docker-compose.yaml" in output
    assert "fix: Delete one of the two entries" in output
    _no_password(site, output)
    assert written == [], written
