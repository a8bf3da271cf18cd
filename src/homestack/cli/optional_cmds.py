"""Registers the command modules other parts of homestack add, when present."""

from __future__ import annotations

import importlib

for _name in (
    "install_cmds",
    "deploy_cmds",
    "observe_cmds",
    "backup_cmds",
    "host_cmds",
    "generate_cmds",
):
    try:
        importlib.import_module(f"{__package__}.{_name}")
    except ModuleNotFoundError as _missing:
        if _missing.name != f"{__package__}.{_name}":
            raise
