"""`ls` fits an 80-column terminal (issue 15): it was ~170 columns and wrapped into a mess.
In a narrow terminal it shows a heading per stack, host ports only and wraps long cells;
`--wide` (and a pipe) keep one whole line per service. The shipped catalog in a real
pseudo-terminal of 80 columns, no engine."""

from __future__ import annotations

import fcntl
import itertools
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

from homestack.catalog import Site
from testkit.engine import REPO

SCRIPT = Path(sys.executable).with_name("homestack")


def _in_terminal(*argv: str, columns: int = 80) -> str:
    """What `homestack ARGV` prints in a terminal `columns` wide."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    child = subprocess.Popen(
        [str(SCRIPT), "--site", str(REPO), *argv],
        stdout=follower,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        env={**env, "TERM": "dumb", "NO_COLOR": "1"},
    )
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    child.wait(timeout=60)
    os.close(leader)
    assert child.returncode == 0
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_ls_fits_80_columns_and_wide_keeps_whole_lines() -> None:
    services = Site.load(REPO).services()
    lines = _in_terminal("ls").splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    assert "essentials" in lines and "ai" in lines  # a heading line per stack
    starts = {line.split()[0] for line in lines if line and not line.startswith(" ")}
    assert {s.id for s in services} <= starts
    # caddy's host ports, on the door's address when LAN_ADDRESS resolves on this host (a
    # long cell wraps onto the lines below its row)
    at = next(i for i, line in enumerate(lines) if line.startswith("caddy *"))
    block = [lines[at], *itertools.takewhile(lambda line: line.startswith(" "), lines[at + 1 :])]
    ports = re.findall(r"(?:[\d.]+:)?(\d+(?:/udp)?)(?:,|\s|$)", " ".join(b[34:60] for b in block))
    assert ports == ["80", "443", "443/udp"], block

    wide = _in_terminal("ls", "--wide").splitlines()
    assert wide[0].split() == ["STACK", "SERVICE", "ON", "GPU", "PORTS", "WEB", "IMAGE"]
    assert any(len(line) > 80 for line in wide)
    assert len(wide) == len(services) + 2  # header, one line each, the summary
