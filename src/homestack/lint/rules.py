"""The lint rules. Each yields Findings for one concern, identified by a stable id.

They live in small modules by topic; importing this module registers all of them.
docs/lint-rules.md lists every id with its severity and fix.
"""

from __future__ import annotations

from . import (
    rules_compose,
    rules_deps,
    rules_domain,
    rules_env,
    rules_facts,
    rules_files,
    rules_lock,
    rules_names,
    rules_ports,
)

__all__ = [
    "rules_compose",
    "rules_deps",
    "rules_domain",
    "rules_env",
    "rules_facts",
    "rules_files",
    "rules_lock",
    "rules_names",
    "rules_ports",
]
