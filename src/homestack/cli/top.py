"""`homestack top`: the status table, live, refreshing in place until q or Ctrl-C.

A terminal view (keys, a Rich Live table, signals), so it lives with the CLI; what it shows
is the library's api.status (or the swarm's collect), sampled in a thread.

A sampler thread collects the status every `interval` seconds and wakes the main loop through a
pipe. When stdin is the foreground terminal, the main loop also reads keys from it (cbreak, no
echo), so a key re-sorts the last sample at once instead of waiting for the engine; the
terminal's attributes are put back on every way out. Without a terminal on stdin (pipes, CI)
there are no keys and the table simply refreshes.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..engine.usage import SAMPLE_INTERVAL_S
from ..errors import BadInput
from ..observe.render import human_bytes, status_table
from ..observe.status import StatusResult, sort_rows

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from ..context import Context

QUIT = "quit"
REFRESH = "refresh"
# top and htop users reach for P (processor) and M; c/m/n are what the header shows
_ACTIONS = {"c": "cpu", "p": "cpu", "m": "mem", "n": "name", "q": QUIT, "r": REFRESH, " ": REFRESH}
KEY_HELP = "keys: c cpu, m mem, n name, r refresh, q quit"


MIN_INTERVAL_S = 0.2
MAX_INTERVAL_S = 86400.0  # a day between samples is not a live view any more


def key_action(key: str) -> str | None:
    """What one key does: a sort order (cpu, mem, name), QUIT, REFRESH, or None (ignored)."""
    return _ACTIONS.get(key.lower())


def keys_in(text: str) -> list[str]:
    """The plain keys in what the terminal sent; escape sequences (arrows, F-keys, Alt+key)
    are dropped whole, so the C ending an arrow's sequence does not sort by CPU."""
    keys: list[str] = []
    i = 0
    while i < len(text):
        if text[i] != "\x1b":
            keys.append(text[i])
            i += 1
            continue
        i += 1  # ESC
        if i < len(text) and text[i] in "[O":
            i += 1  # CSI or SS3: parameters, then one final character in @..~
            while i < len(text) and not "@" <= text[i] <= "~":
                i += 1
        i += 1  # the final character (or the key pressed with Alt)
    return keys


def _frame(result: StatusResult, sort: str, interval: float, *, keys: bool) -> RenderableType:
    from rich.console import Group
    from rich.text import Text

    rows = sort_rows(result.rows, sort)
    running = [r for r in rows if r.state == "running"]
    cpu = sum(r.cpu_percent or 0.0 for r in running)
    memory = sum(r.mem_used or 0 for r in running)
    clock = datetime.now().strftime("%H:%M:%S")
    how = KEY_HELP if keys else "Ctrl-C quits"
    header = Text.from_markup(
        f"[bold]homestack top[/]  {clock}  {len(running)}/{len(rows)} running  "
        f"CPU {cpu:.1f}%  memory {human_bytes(memory)}  "
        f"[dim]sorted by {sort}, every {interval:g}s — {how}[/]"
    )
    return Group(header, status_table(rows, backups_known=False))


@dataclass(frozen=True)
class _Keyboard:
    """stdin in cbreak mode: its descriptor, the attributes it had and the ones top set."""

    fd: int
    saved: list[Any]
    keys: list[Any]


@contextlib.contextmanager
def _keyboard() -> Iterator[_Keyboard | None]:
    """stdin in cbreak mode (keys one at a time, no echo; Ctrl-C still interrupts) when it is
    the foreground terminal; else None. The saved attributes are set back however the block
    ends."""
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):  # replaced or closed stdin (tests, daemons)
        yield None
        return
    if not os.isatty(fd) or not _foreground(fd):
        yield None
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd, termios.TCSANOW)
        yield _Keyboard(fd, saved, termios.tcgetattr(fd))
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextlib.contextmanager
def _suspendable(
    keyboard: _Keyboard, out: Console, on_resume: Callable[[], None]
) -> Iterator[None]:
    """Ctrl-Z hands the shell its terminal back as it was (attributes, cursor) before stopping;
    `fg` takes it again and asks for a redraw."""
    import termios

    def show_cursor(show: bool) -> None:
        if out.is_terminal:
            with contextlib.suppress(OSError, ValueError):
                os.write(out.file.fileno(), b"\x1b[?25h" if show else b"\x1b[?25l")

    def on_tstp(*_: Any) -> None:
        termios.tcsetattr(keyboard.fd, termios.TCSADRAIN, keyboard.saved)
        show_cursor(True)
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTSTP)  # stopped here until `fg`
        signal.signal(signal.SIGTSTP, on_tstp)
        termios.tcsetattr(keyboard.fd, termios.TCSANOW, keyboard.keys)
        show_cursor(False)
        on_resume()

    previous: Any = signal.signal(signal.SIGTSTP, on_tstp)
    try:
        yield
    finally:
        signal.signal(signal.SIGTSTP, previous)


def _foreground(fd: int) -> bool:
    """False when run in the background (`homestack top &`): changing the terminal would stop us."""
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:  # not our controlling terminal: nobody to stop us
        return True


class _Sampler:
    """Collects the status on its own thread, so keys never wait for the engine.

    Each sample (or the error that ended sampling) is announced by one byte on `wake_fd`.
    """

    def __init__(self, collect: Callable[[], StatusResult], pause: float) -> None:
        self._collect = collect
        self._pause = pause
        self._lock = threading.Lock()
        self._now = threading.Event()
        self._closed = False
        self._latest: StatusResult | None = None
        self._error: Exception | None = None
        self.wake_fd, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="homestack-top", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def refresh_now(self) -> None:
        self._now.set()

    def wake(self) -> None:
        """Wake the main loop (from a signal handler: no lock taken)."""
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"!")

    def take(self) -> StatusResult | None:
        """The sample that arrived since the last take, if any; raises the sampler's error."""
        os.read(self.wake_fd, 4096)
        with self._lock:
            if self._error is not None:
                raise self._error
            result, self._latest = self._latest, None
        return result

    def close(self) -> None:
        with self._lock:
            self._closed = True
            os.close(self._wake_w)
            os.close(self.wake_fd)
        self._now.set()

    def _run(self) -> None:
        while not self._closed:
            try:
                result = self._collect()
            except Exception as exc:  # handed to the main thread, raised there
                self._post(None, exc)
                return
            if not self._post(result, None):
                return
            if self._now.wait(self._pause):
                self._now.clear()

    def _post(self, result: StatusResult | None, error: Exception | None) -> bool:
        with self._lock:
            if self._closed:
                return False
            self._latest, self._error = result, error
            os.write(self._wake_w, b".")
            return True


@dataclass
class _View:
    """What the screen shows: the last sample, in the order last asked for."""

    result: StatusResult
    sort: str
    interval: float
    keys: bool

    def frame(self) -> RenderableType:
        return _frame(self.result, self.sort, self.interval, keys=self.keys)

    def press(self, data: bytes, sampler: _Sampler) -> tuple[bool, bool]:
        """Apply what the terminal sent: (quit, redraw)."""
        redraw = False
        actions = [key_action(key) for key in keys_in(data.decode("latin-1"))]
        if QUIT in actions:
            return True, False
        for action in actions:
            if action == REFRESH:
                sampler.refresh_now()
            elif action is not None:
                self.sort, redraw = action, True
        return False, redraw


def run_top(
    ctx: Context,
    names: list[str] | None,
    *,
    sort: str,
    interval: float,
    out: Console,
    frames: int | None = None,
    source: Callable[[], StatusResult] | None = None,
) -> None:
    """Refresh until q, Ctrl-C or SIGTERM (or `frames` samples); the terminal is restored.
    Each sample is api.status through `ctx` (its backend and clock; its sink gets one
    StatusSampled a sample); `source` collects the rows instead (swarm mode)."""
    if not MIN_INTERVAL_S <= interval <= MAX_INTERVAL_S:  # also false for nan
        # inf made the sampler thread die with an OverflowError; nan refreshed nonstop
        raise BadInput(
            f"--interval {interval:g} is not a number of seconds top can wait",
            f"Use --interval between {MIN_INTERVAL_S:g} and {MAX_INTERVAL_S:g}, e.g. -n 5.",
        )
    if source is None:
        from ..api import status

        ctx.engine().ping()  # no engine: say so now, not from the sampler thread

        def collect() -> StatusResult:
            return status(ctx, names, backups=False)
    else:
        collect = source

    sampler = _Sampler(collect, max(0.0, interval - SAMPLE_INTERVAL_S))
    events = _Events(sampler)
    previous: Any = signal.signal(signal.SIGTERM, events.on_sigterm)
    try:
        with _keyboard() as keyboard:
            view = _View(collect(), sort, interval, keys=keyboard is not None)
            if keyboard is None:
                _show(view, sampler, None, events, out, frames)
            else:
                with _suspendable(keyboard, out, events.on_resume):
                    _show(view, sampler, keyboard.fd, events, out, frames)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how top is meant to end; Live has restored the cursor
    finally:
        signal.signal(signal.SIGTERM, previous)
        sampler.close()


class _Events:
    """What signal handlers tell the main loop (they only set a flag and wake it)."""

    def __init__(self, sampler: _Sampler) -> None:
        self._sampler = sampler
        self.stopping = threading.Event()
        self.resumed = threading.Event()

    def on_sigterm(self, *_: Any) -> None:  # SIGTERM quits as cleanly as Ctrl-C
        self.stopping.set()
        self._sampler.wake()

    def on_resume(self) -> None:
        self.resumed.set()
        self._sampler.wake()


def _show(
    view: _View,
    sampler: _Sampler,
    keys_fd: int | None,
    events: _Events,
    out: Console,
    frames: int | None,
) -> None:
    """Redraw on each sample and each sorting key, until a quit key, SIGTERM or `frames`."""
    from rich.live import Live

    live = Live(
        view.frame(),
        console=out,
        auto_refresh=False,
        transient=False,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    with live:
        sampler.start()
        shown = 1
        while not events.stopping.is_set() and (frames is None or shown < frames):
            watched = [sampler.wake_fd] + ([keys_fd] if keys_fd is not None else [])
            ready, _, _ = select.select(watched, [], [])
            if events.stopping.is_set():
                return
            redraw = False
            if events.resumed.is_set():  # back from Ctrl-Z: the shell wrote over the table
                events.resumed.clear()
                out.clear()
                redraw = True
            if sampler.wake_fd in ready:
                sample = sampler.take()
                if sample is not None:
                    view.result, redraw = sample, True
                    shown += 1
            if keys_fd is not None and keys_fd in ready:
                data = os.read(keys_fd, 256)
                if not data:  # the terminal went away: no more keys
                    keys_fd = None
                quit_now, pressed = view.press(data, sampler)
                if quit_now:
                    return
                redraw = redraw or pressed
            if redraw:
                live.update(view.frame(), refresh=True)
