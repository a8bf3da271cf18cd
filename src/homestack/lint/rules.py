"""The lint rules. Each yields Findings for one concern, identified by a stable id.

They live in small modules by topic; importing this module registers all of them, and
`lint_site` here runs them (lint.core, the framework they register with, never imports a
rule). docs/lint-rules.md lists every id with its severity and fix.
"""

from __future__ import annotations

from ..catalog import Site
from ..findings import Finding
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
from .core import ORDER, RULES, LintContext, problem_findings

__all__ = [
    "lint_site",
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


def lint_site(
    site: Site,
    *,
    host_ports: bool = True,
    stacks: list[str] | None = None,
    engine: bool = False,
) -> list[Finding]:
    """Every finding on the site (optionally only those in the named stacks), sorted.

    With `engine`, a busy host port is checked against the running containers, so a
    service's own running container is not reported; the engine is asked only then.
    """
    context = LintContext(site, host_ports, engine)
    findings = list(problem_findings(site))
    for registered in RULES.values():
        if registered.check is not None:
            findings.extend(registered.check(context))
    findings.extend(context.env_problems)
    if stacks is not None:
        folders = [site.stacks[s].dir for s in stacks]
        findings = [
            f
            for f in findings
            if any(f.file.is_relative_to(folder) for folder in folders)
            or f.file.parent == site.root
        ]
    unique = {(f.rule, str(f.file), f.line, f.service, f.message): f for f in findings}
    return sorted(
        unique.values(), key=lambda f: (ORDER[f.severity], str(f.file), f.line or 0, f.rule)
    )
