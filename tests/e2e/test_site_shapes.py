"""A missing stack.yaml and a stack.yaml that is not a mapping (or whose services is not a
list): exit 2 naming the file (and line) with the fix, never an internal error or a stack
silently without services."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.cli.app import run
from sitekit import make_site


@pytest.fixture
def site_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HOMESTACK_SITE", raising=False)
    monkeypatch.setenv("HOMESTACK_NO_CACHE", "1")
    return make_site(tmp_path / "site")


def _hs(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("command", ["plan", "up"])
def test_missing_stack_yaml_says_the_fix(
    site_root: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    (site_root / "ai-stack" / "stack.yaml").unlink()
    code, said = _hs(capsys, "--site", str(site_root), command, "ai")
    assert code == 2
    assert "ai-stack/stack.yaml is missing" in said
    assert "fix: Create stack.yaml" in said
