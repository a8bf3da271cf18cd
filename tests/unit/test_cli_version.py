"""`homestack --version` exists (issue 15)."""

from __future__ import annotations

import pytest

from homestack import __version__
from testkit.cli import cli_output


def test_version_prints_the_version_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli_output(capsys, "--version")
    assert code == 0 and out == f"homestack {__version__}\n"
