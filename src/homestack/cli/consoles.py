"""The CLI's consoles (Rich, stdout or stderr) and what a closed stdout raises: shared by
cli.app and the event renderer (cli.events) without one importing the other."""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


class OutputClosed(Exception):
    """Whoever read our output has stopped reading: the rest is simply not wanted."""


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 200  # pipes and logs get whole lines
    return _console_class()(stderr=stderr, highlight=False, soft_wrap=False, width=width)


@functools.cache
def _console_class() -> type[Console]:
    from rich.console import Console

    class QuietConsole(Console):
        """Rich's own answer to a closed pipe is exit 1; run() ends it the one way instead."""

        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise OutputClosed

    return QuietConsole
