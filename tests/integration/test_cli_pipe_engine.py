"""Engine commands into a closed pipe end quietly (moved from tests/unit/test_cli_pipe.py:
no unit test needs the engine)."""

from __future__ import annotations

import pytest

from testkit.cli import BROKEN_PIPE, closed_early

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "argv", [["status"], ["status", "--json"], ["doctor"], ["doctor", "--json"]]
)
def test_engine_commands_into_a_closed_pipe_are_quiet(docker_engine: str, argv: list[str]) -> None:
    code, err = closed_early(*argv)
    assert "Traceback" not in err and "Exception ignored" not in err
    assert "Broken pipe" not in err and "BrokenPipe" not in err
    assert code == BROKEN_PIPE
