"""`homestack top` on a real engine and a real pseudo-terminal: keys, quitting, the terminal."""

from __future__ import annotations

import fcntl
import io
import os
import re
import select
import signal
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.console import Console

from homestack.catalog import Site
from homestack.cli.top import run_top
from homestack.context import Context
from homestack.events import Collected, StatusSampled
from homestack.observe.status import collect_status
from testkit.engine import create_networks, new_prefix, remove_everything_named, start, wait_for
from testkit.sites import running_site

pytestmark = pytest.mark.integration

# one busy container (held to a quarter of a core) and one holding 24 MiB in /dev/shm:
# by CPU the spinner comes first, by memory the hoarder
SPINNER = "command: ['sh', '-c', 'while :; do :; done']\ncpus: 0.25"
HOARDER = (
    "command: ['sh', '-c', 'dd if=/dev/zero of=/dev/shm/fill bs=1048576 count=24 2>/dev/null;"
    " while true; do sleep 1; done']"
)
ANSI = re.compile(r"\x1b(\[[0-9;?]*[@-~]|[()][0-9A-Za-z]|[=>78])")
HEADER = "homestack top"


@pytest.fixture(scope="module")
def top_site(tmp_path_factory: pytest.TempPathFactory, standin_image: str) -> Iterator[Site]:
    prefix = new_prefix()
    site = running_site(
        tmp_path_factory.mktemp("top") / "site",
        prefix,
        {"ai": {"spinner": (True, SPINNER, ""), "hoarder": (True, HOARDER, "")}},
    )
    try:
        create_networks(prefix, ["ai-services"])
        start(site, "ai", ["spinner", "hoarder"])

        def apart() -> bool:
            rows = {r.service: r for r in collect_status(site, with_backups=False).rows}
            spinner, hoarder = rows["spinner"], rows["hoarder"]
            return (
                (spinner.cpu_percent or 0) > 5
                and (hoarder.cpu_percent or 0) < 5
                and (hoarder.mem_used or 0) > 4 * (spinner.mem_used or 1)
            )

        assert wait_for(apart, timeout=60), "the stand-ins never told CPU and memory apart"
        yield site
    finally:
        remove_everything_named(prefix)


HOMESTACK = str(Path(sys.executable).parent / "homestack")


class Terminal:
    """A program with a pseudo-terminal as its controlling terminal, as a user runs it.

    The test keeps the terminal's slave end open, so its attributes can be read after the
    process is gone (the kernel resets them when the last user closes it).
    """

    def __init__(self, script: str, argv: list[str]) -> None:
        self.master, self.slave = os.openpty()
        self.before = termios.tcgetattr(self.slave)
        self.output = b""
        env = os.environ | {"COLUMNS": "200", "LINES": "40", "TERM": "xterm", "PS1": "PROMPT> "}
        self.pid = os.fork()
        if self.pid == 0:  # the child: a new session whose controlling terminal is the pty
            try:
                os.setsid()
                fcntl.ioctl(self.slave, termios.TIOCSCTTY, 0)
                for fd in (0, 1, 2):
                    os.dup2(self.slave, fd)
                # as a terminal starts a shell: a background `pytest &` has SIGINT ignored
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                os.execve(script, argv, env)  # noqa: S606
            finally:
                os._exit(127)
        self.status: int | None = None

    @property
    def text(self) -> str:
        return ANSI.sub("", self.output.decode("utf-8", "replace"))

    def frames(self) -> list[str]:
        """Each screenful drawn, from its header line to the next one."""
        return [HEADER + chunk for chunk in self.text.split(HEADER)[1:]]

    def tail(self) -> str:
        return self.text[-3000:]

    def shows(self, *words: str) -> bool:
        """Whether the last screenful drawn so far holds all these words (rows come in chunks)."""
        frames = self.frames()
        return bool(frames) and all(word in frames[-1] for word in words)

    def read_until(self, done: Callable[[], bool], timeout: float = 20) -> bool:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            if select.select([self.master], [], [], 0.2)[0]:
                self.output += os.read(self.master, 65536)
        return done()

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def exited(self) -> bool:
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
        return self.status is not None

    def close(self) -> None:
        if not self.exited():
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def terminal(top_site: Site) -> Iterator[Callable[..., Terminal]]:
    opened: list[Terminal] = []

    def open_top(*args: str) -> Terminal:
        argv = ["homestack", "--site", str(top_site.root), "top", *args]
        opened.append(Terminal(HOMESTACK, argv))
        return opened[-1]

    yield open_top
    for term in opened:
        term.close()


def _order(frame: str) -> list[str]:
    return sorted(("spinner", "hoarder"), key=frame.index)


def test_keys_resort_at_once_and_q_restores_the_terminal(
    terminal: Callable[..., Terminal],
) -> None:
    # a 30 s interval: every frame after the first within this test comes from a key
    term = terminal("--sort", "cpu", "--interval", "30")
    assert term.read_until(lambda: term.shows("spinner", "hoarder")), term.tail()
    first = term.frames()[-1]
    assert "sorted by cpu" in first and "m mem" in first and "q quit" in first
    assert _order(first) == ["spinner", "hoarder"]
    during = termios.tcgetattr(term.slave)
    assert not during[3] & (termios.ECHO | termios.ICANON)  # cbreak, no echo
    assert during[3] & termios.ISIG  # Ctrl-C still interrupts

    term.send(b"m")
    assert term.read_until(lambda: term.shows("sorted by mem", "spinner", "hoarder")), term.tail()
    by_memory = term.frames()[-1]
    assert _order(by_memory) == ["hoarder", "spinner"]

    count = len(term.frames())
    term.send(b" ")  # refresh now: a new sample, still sorted by memory
    assert term.read_until(
        lambda: len(term.frames()) > count and term.shows("spinner", "hoarder")
    ), term.tail()
    assert "sorted by mem" in term.frames()[-1]
    assert _order(term.frames()[-1]) == ["hoarder", "spinner"]

    term.send(b"q")
    assert term.read_until(term.exited, timeout=10), "q did not end top"
    assert term.status is not None and os.waitstatus_to_exitcode(term.status) == 0
    assert termios.tcgetattr(term.slave) == term.before
    assert "\x1b[?25h" in term.output.decode("utf-8", "replace")  # the cursor is shown again


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_ctrl_c_and_sigterm_quit_with_the_terminal_restored(
    terminal: Callable[..., Terminal], how: str
) -> None:
    term = terminal("--interval", "30")
    assert term.read_until(lambda: term.shows("spinner", "hoarder")), term.tail()
    assert termios.tcgetattr(term.slave) != term.before
    if how == "ctrl-c":
        term.send(b"\x03")  # the terminal turns it into SIGINT for top's process group
    else:
        os.kill(term.pid, signal.SIGTERM)
    assert term.read_until(term.exited, timeout=10), f"{how} did not end top"
    assert term.status is not None and os.waitstatus_to_exitcode(term.status) == 0
    assert termios.tcgetattr(term.slave) == term.before


def test_ctrl_z_hands_the_shell_its_terminal_and_fg_takes_it_back(top_site: Site) -> None:
    """Under a job-control shell (bash -i on the pty): Ctrl-Z stops top with the cursor shown
    and the terminal as the shell had it; after `fg` keys act at once again; q exits 0."""
    shell = Terminal("/bin/bash", ["bash", "--norc", "--noprofile", "-i"])
    try:
        assert shell.read_until(lambda: "PROMPT> " in shell.text), shell.tail()

        def run(line: str, until: str) -> str:
            start = len(shell.text)
            shell.send(line.encode() + b"\n")
            assert shell.read_until(lambda: until in shell.text[start:]), shell.tail()
            return shell.text[start:]

        def stty() -> str:  # the shell's view of the terminal, as `stty -g` prints it
            said = run("stty -g; echo done-$((6*7))", "done-42")
            return [word for word in said.split() if word.count(":") > 20][-1]

        sane = stty()
        shell.send(f"{HOMESTACK} --site {top_site.root} top --interval 30\n".encode())
        assert shell.read_until(lambda: shell.shows("spinner", "hoarder")), shell.tail()

        shell.send(b"\x1a")  # Ctrl-Z
        assert shell.read_until(lambda: "Stopped" in shell.text), shell.tail()
        raw = shell.output.decode("utf-8", "replace")
        assert raw.rindex("\x1b[?25h") > raw.rindex("\x1b[?25l")  # the cursor is back
        assert stty() == sane

        frames = len(shell.frames())
        shell.send(b"fg\n")
        assert shell.read_until(lambda: len(shell.frames()) > frames), shell.tail()
        shell.send(b"n")  # no Enter: only a terminal in cbreak mode hands it over now
        assert shell.read_until(lambda: shell.shows("sorted by name")), shell.tail()
        shell.send(b"q")  # what is typed along with q goes to top: wait for the prompt
        assert shell.read_until(lambda: shell.text.split(HEADER)[-1].endswith("PROMPT> "))
        assert "exit0=0" in run('echo "exit$((1-1))=$?"', "exit0=")  # (not in the echoed line)
        assert stty() == sane
    finally:
        shell.send(b"exit\n")
        shell.read_until(shell.exited, timeout=5)
        shell.close()


def test_without_a_terminal_top_just_refreshes(top_site: Site) -> None:
    """stdin is not a terminal under pytest: no keys, the terminal left alone, frames as before."""
    buffer = io.StringIO()
    out = Console(file=buffer, width=200, force_terminal=False)
    samples = Collected()
    run_top(
        Context.for_site(top_site, sink=samples), None, sort="mem", interval=0.3, out=out, frames=2
    )
    text = buffer.getvalue()
    assert "sorted by mem" in text and "Ctrl-C quits" in text and "keys:" not in text
    assert _order(text) == ["hoarder", "spinner"]
    # each sample went to the context's sink too: what a live view (the dashboard) listens to
    sampled = samples.of(StatusSampled)
    assert len(sampled) >= 2
    assert {row.service for row in sampled[-1].result.rows} == {"hoarder", "spinner"}
