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


def test_progress_lines_are_never_broken_inside(capsys: pytest.CaptureFixture[str]) -> None:
    """A long part line (data: create … and 63 more) stays one line in a pipe or a log:
    the CLI's renderer of a host operation's Progress events (stdout; stderr with --json)."""
    from homestack.cli.events import CliSink
    from homestack.events import Progress

    line = "data: create " + ", ".join(f"/srv/site/DATA/config/service{i}" for i in range(12))
    assert len(line) > 300
    CliSink(as_json=False)(Progress(line, "install all"))
    CliSink(as_json=True)(Progress(line, "install all"))
    captured = capsys.readouterr()
    assert captured.out == line + "\n"
    assert captured.err == line + "\n"
