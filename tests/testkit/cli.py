"""The CLI from a test: in this process (`cli_output`), or the console script with its stdout
on a pipe whose reader has gone (`homestack … | head`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BROKEN_PIPE = 141  # 128 + SIGPIPE: what `ls | head` leaves in the shell's PIPESTATUS
SCRIPT = Path(sys.executable).parent / "homestack"


def closed_early(*argv: str) -> tuple[int, str]:
    """Run homestack with stdout on a pipe whose reader closed first; (exit code, stderr)."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the command writes a byte
    try:
        done = subprocess.run(
            [str(SCRIPT), "--site", str(REPO), *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=120,
            env={**os.environ, "COLUMNS": "80"},
        )
    finally:
        os.close(write_end)
    return done.returncode, done.stderr


def cli_output(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run the CLI in this process: (exit code, what it printed on stdout and stderr)."""
    from homestack.cli.app import run

    capsys.readouterr()
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err
