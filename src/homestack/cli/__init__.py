"""The `homestack` command: parse, call one operation, render its result.

Each command module registers its commands on `app` when imported; commands import their
operation lazily so `homestack ls` starts fast. Every error is a HomestackError, turned into
text and an exit code in `app.run` and nowhere else.
"""

from __future__ import annotations

import sys

# imported for their side effect: each registers its commands on `app`, in help order
# isort: off
from . import catalog_cmds
from . import deploy_cmds
from . import generate_cmds
from . import observe_cmds
from . import backup_cmds
from . import install_cmds
from . import host_cmds
from . import swarm_cmds
from . import update_cmds
from . import notify_cmds
from . import web_cmds

# isort: on
from .app import app, state

__all__ = [
    "app",
    "backup_cmds",
    "catalog_cmds",
    "deploy_cmds",
    "generate_cmds",
    "host_cmds",
    "install_cmds",
    "main",
    "notify_cmds",
    "observe_cmds",
    "state",
    "swarm_cmds",
    "update_cmds",
    "web_cmds",
]


def main() -> None:
    from .app import run

    sys.exit(run(sys.argv[1:]))
