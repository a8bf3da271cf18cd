"""`homestack top` keys without an engine: key → action, escape sequences, the sampler."""

from __future__ import annotations

import io
import os
import select
import signal
import sys
import termios
from pathlib import Path

import pytest
from rich.console import Console

from homestack.catalog import Site
from homestack.cli import top
from homestack.context import Context
from homestack.errors import OperationFailed
from homestack.observe.status import StatusResult


def test_keys_map_to_sort_orders_quit_and_refresh() -> None:
    assert top.key_action("c") == "cpu"
    assert top.key_action("P") == "cpu"  # as in top and htop
    assert top.key_action("m") == "mem"
    assert top.key_action("M") == "mem"
    assert top.key_action("n") == "name"
    assert top.key_action("q") == top.QUIT
    assert top.key_action("Q") == top.QUIT
    assert top.key_action("r") == top.REFRESH
    assert top.key_action(" ") == top.REFRESH
    for other in ("x", "\n", "\t", "1", "\x04"):
        assert top.key_action(other) is None


def test_escape_sequences_are_not_keys() -> None:
    # right arrow ends in C, F1 in P, Alt+m is ESC m: none of them sorts
    assert top.keys_in("\x1b[C") == []
    assert top.keys_in("\x1bOP") == []
    assert top.keys_in("\x1bm") == []
    assert top.keys_in("\x1b[15~m") == ["m"]
    assert top.keys_in("m\x1b[Aq") == ["m", "q"]
    assert top.keys_in("\x1b") == []
    assert top.keys_in("cmn") == ["c", "m", "n"]


def _sampler(results: list[StatusResult]) -> top._Sampler:
    def collect() -> StatusResult:
        if not results:
            raise RuntimeError("engine went away")
        return results.pop(0)

    return top._Sampler(collect, pause=60)


def test_a_sort_key_redraws_the_last_sample_and_q_quits() -> None:
    sampler = _sampler([])
    view = top._View(StatusResult(), "cpu", 2.0, keys=True)
    try:
        assert view.press(b"m", sampler) == (False, True)
        assert view.sort == "mem"
        assert view.press(b"\x1b[C", sampler) == (False, False)  # an arrow: nothing
        assert view.sort == "mem"
        assert view.press(b"nq", sampler) == (True, False)  # quit wins within one read
        assert view.press(b"x", sampler) == (False, False)
    finally:
        sampler.close()


def test_sampler_hands_over_samples_then_its_error() -> None:
    first, second = StatusResult(taken_at="1"), StatusResult(taken_at="2")
    sampler = _sampler([first, second])
    try:
        sampler.start()
        assert select.select([sampler.wake_fd], [], [], 10)[0]
        assert sampler.take() is first
        sampler.refresh_now()  # r: sample again now, not after the 60 s pause
        assert select.select([sampler.wake_fd], [], [], 10)[0]
        assert sampler.take() is second
        sampler.refresh_now()  # the third collect raises: the main thread gets the error
        assert select.select([sampler.wake_fd], [], [], 10)[0]
        with pytest.raises(RuntimeError, match="engine went away"):
            sampler.take()
    finally:
        sampler.close()


def test_keyboard_mode_is_undone_when_an_error_escapes(monkeypatch: pytest.MonkeyPatch) -> None:
    """cbreak on a real pseudo-terminal as stdin; an exception inside still restores it."""
    master, slave = os.openpty()
    try:
        before = termios.tcgetattr(slave)
        monkeypatch.setattr(sys, "stdin", open(slave, closefd=False))  # noqa: SIM115
        with pytest.raises(RuntimeError), top._keyboard() as keyboard:
            assert keyboard is not None and keyboard.fd == slave
            assert keyboard.saved == before
            assert not termios.tcgetattr(slave)[3] & (termios.ECHO | termios.ICANON)
            raise RuntimeError("boom")
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


def test_no_keyboard_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    read, write = os.pipe()
    try:
        monkeypatch.setattr(sys, "stdin", open(read, closefd=False))  # noqa: SIM115
        with top._keyboard() as keyboard:
            assert keyboard is None
    finally:
        os.close(read)
        os.close(write)


def test_an_engine_error_mid_run_is_raised_with_the_terminal_restored_fake(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """run_top on a pty stdin with a fake engine whose second sample fails: the error comes out
    (for the CLI to print with its fix), and terminal and signal handlers are as before. The
    fake is passed in as the status source, not patched over the module's globals."""
    calls: list[int] = []

    def collect_status() -> StatusResult:
        calls.append(1)
        if len(calls) > 1:
            raise OperationFailed("the Docker engine stopped answering", "Start it.")
        return StatusResult()

    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGTSTP)
    master, slave = os.openpty()
    try:
        before = termios.tcgetattr(slave)
        monkeypatch.setattr(sys, "stdin", open(slave, closefd=False))  # noqa: SIM115
        screen = io.StringIO()
        out = Console(file=screen, force_terminal=True, width=120)
        with pytest.raises(OperationFailed, match="stopped answering"):
            top.run_top(
                Context.for_site(Site(Path("/nonexistent"), {})),
                None,
                sort="cpu",
                interval=0.2,
                out=out,
                source=collect_status,
            )
        assert termios.tcgetattr(slave) == before
        assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGTSTP)) == handlers
        assert "keys: c cpu" in screen.getvalue()  # the keys were on
    finally:
        os.close(master)
        os.close(slave)
