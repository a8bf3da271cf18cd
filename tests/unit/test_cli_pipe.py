"""`homestack … | head -1`: a reader that stops early is not an error.

Each test runs the real console script with its stdout on a pipe whose reader is already
gone (what `head -1` leaves once it has its line), so the first write fails with EPIPE.
Expected as from `ls` or `git`: nothing on stderr, and the shell's SIGPIPE status 141.
"""

from __future__ import annotations

import subprocess

import pytest

from testkit.cli import BROKEN_PIPE, REPO, SCRIPT, closed_early

_closed_early = closed_early


def _head(lines: int, *argv: str) -> tuple[int, str, str]:
    """`homestack ARGV | head -LINES`: a reader that reads a few lines, then closes."""
    command = subprocess.Popen(
        [str(SCRIPT), "--site", str(REPO), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert command.stdout is not None and command.stderr is not None
    head = [command.stdout.readline().decode() for _ in range(lines)]
    command.stdout.close()
    err = command.stderr.read().decode()
    return command.wait(timeout=120), "".join(head), err


@pytest.mark.parametrize(
    "argv",
    [
        ["ls"],  # a Rich table
        ["ls", "--json"],  # emit(): JSON through sys.stdout
        ["plan", "--json"],
        ["schema"],  # a command that writes sys.stdout itself
        ["ls", "--help"],  # a command's help
        ["--help"],  # the top-level help (printed before any command runs)
    ],
)
def test_output_into_a_closed_pipe_is_quiet(argv: list[str]) -> None:
    code, err = _closed_early(*argv)
    assert err == ""
    assert code == BROKEN_PIPE


def test_ls_into_head_gets_its_line_and_ends_quietly() -> None:
    code, head, err = _head(1, "ls")
    assert head.startswith("STACK")
    assert err == ""
    assert code in (0, BROKEN_PIPE)  # 0 when every line fitted in the pipe before it closed


def test_an_error_is_still_an_error_when_stdout_is_closed() -> None:
    # nothing was written to the closed pipe: the usual message and exit status, as `ls`
    code, err = _closed_early("ls", "no-such-thing")
    assert code == 2
    assert "no stack or service named" in err or "no service named" in err


# ---- whole lines into a pipe: what Rich printed was cut at 200 columns, mid-word ----------


def test_an_error_longer_than_the_pipe_width_stays_one_line(
    capfd: pytest.CaptureFixture[str],
) -> None:
    from homestack.cli.app import run

    name = "x" * 230
    assert run(["--site", str(REPO), "ls", name]) == 2
    err = capfd.readouterr().err
    assert f"no service named '{name}'" in err.splitlines()[0]


def _rows(count: int) -> list[object]:
    from homestack.observe.status import no_container_row

    return [
        no_container_row(f"a-service-with-a-rather-long-name-{index}", "media")
        for index in range(count)
    ]


def test_the_flagged_line_of_status_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from homestack.cli.app import console
    from homestack.cli.observe_cmds import _render_status
    from homestack.observe.status import StatusResult

    _render_status(StatusResult(_rows(8)), console())  # type: ignore[arg-type]
    [flagged] = [ln for ln in capsys.readouterr().out.splitlines() if "flagged" in ln]
    assert flagged.count("(enabled-but-missing)") == 8


def test_doctor_lines_are_whole_lines(capsys: pytest.CaptureFixture[str]) -> None:
    from types import SimpleNamespace

    from homestack.cli.app import console
    from homestack.cli.observe_cmds import _render_doctor

    detail = "port 8080 is held by " + ", ".join(f"process-{n}" for n in range(40))
    fix = "Stop " + " or ".join(f"process-{n}" for n in range(40)) + " and run again."
    check = SimpleNamespace(status="fail", name="port 8080", detail=detail, fix=fix)
    _render_doctor(SimpleNamespace(checks=[check]), console())
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(detail) and lines[1].endswith(fix)
    assert len(lines) == 3  # the check, its fix, the counts


def test_a_broken_pipe_that_is_not_stdout_is_reported(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Click ends any EPIPE with a silent exit 1; one from a child process or a socket is a
    # failure to report, not a reader that stopped reading
    from homestack.cli.app import app, run

    @app.command("pipe-test-helper", hidden=True)
    def helper() -> None:
        raise BrokenPipeError(32, "Broken pipe")

    try:
        assert run(["pipe-test-helper"]) == 1
    finally:
        app.registered_commands = [
            c for c in app.registered_commands if c.name != "pipe-test-helper"
        ]
    err = capfd.readouterr().err
    assert "internal error" in err and "Broken pipe" in err
