"""The `homestack` command: parse, call one operation, render its result.

Each command module registers its commands on `app`; commands import their operation lazily so
`homestack ls` starts fast. Every error is a HomestackError, turned into text and an exit code
here and nowhere else.
"""

from __future__ import annotations

import sys

from . import catalog_cmds, optional_cmds
from .app import app, state

__all__ = ["app", "catalog_cmds", "main", "optional_cmds", "state"]


def main() -> None:
    from .app import run

    sys.exit(run(sys.argv[1:]))
