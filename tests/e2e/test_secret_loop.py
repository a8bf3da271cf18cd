"""A secret file that is a symbolic link to itself: `install secrets` refuses it naming the
file and the fix (exit 2), and `secrets ls` shows it as a problem. Both ended as an internal
error (RuntimeError "Symlink loop" from Path.resolve on Python 3.11)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testkit.cli import cli_output
from testkit.sites import copy_catalog

pytestmark = pytest.mark.e2e


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [k for k in os.environ if k.startswith("HOMESTACK_")]:
        monkeypatch.delenv(name)
    root = copy_catalog(tmp_path / "site")
    (root / "secrets").mkdir(mode=0o700, exist_ok=True)
    (root / "secrets" / "open-webui_secret_key").symlink_to("open-webui_secret_key")
    return root


def test_install_secrets_refuses_a_looping_secret_file(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = cli_output(capsys, "--site", str(site), "install", "secrets", "--dry-run")
    assert code == 2, out
    assert "open-webui_secret_key is a symlink that loops" in out
    assert "Move " in out and "internal error" not in out


def test_secrets_ls_shows_the_loop_as_a_problem(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = cli_output(capsys, "--site", str(site), "secrets", "ls", "--json")
    assert "internal error" not in out
    assert "symlink that loops" in out
    assert code == 1  # a finding, as for any secret file with a problem
