"""What the install commands print: help, errors and progress lines, through the real CLI."""

from __future__ import annotations

import pytest

from homestack.cli.app import run


def test_unknown_repo_names_every_choice(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["install", "docker", "--repo", "bogus", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "--repo bogus is not one of auto, distro, docker" in err
    assert "auto (the default), distro or docker" in err


def test_install_all_help_says_stack_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["install", "all", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--stack ID" in out and "<str>" not in out
