"""The rule registry, the Finding type and the lint driver."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..catalog import Site


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    file: Path
    line: int | None = None
    service: str | None = None
    hint: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "file": str(self.file),
            "line": self.line,
            "service": self.service,
            "hint": self.hint,
        }


@dataclass(frozen=True)
class LintContext:
    site: Site
    #: check host ports against sockets open on this machine
    host_ports: bool = True


RuleFunc = Callable[[LintContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    check: RuleFunc


RULES: dict[str, Rule] = {}


def rule(rule_id: str, summary: str) -> Callable[[RuleFunc], RuleFunc]:
    """Register a rule; `rule_id` is stable: users filter and ignore by it."""

    def register(func: RuleFunc) -> RuleFunc:
        RULES[rule_id] = Rule(rule_id, summary, func)
        return func

    return register


def _problems(site: Site) -> Iterator[Finding]:
    for problem in site.all_problems():
        yield Finding(
            problem.rule,
            Severity.ERROR,
            problem.message,
            problem.file,
            problem.line,
            problem.service,
            problem.hint,
        )


def lint_site(
    site: Site, *, host_ports: bool = True, stacks: list[str] | None = None
) -> list[Finding]:
    """Every finding on the site (optionally only those in the named stacks), sorted."""
    from . import rules as _rules  # noqa: F401  (registers the rules)

    context = LintContext(site, host_ports)
    findings = list(_problems(site))
    for registered in RULES.values():
        findings.extend(registered.check(context))
    if stacks is not None:
        folders = [site.stacks[s].dir for s in stacks]
        findings = [
            f
            for f in findings
            if any(f.file.is_relative_to(folder) for folder in folders)
            or f.file.parent == site.root
        ]
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    unique = {(f.rule, str(f.file), f.line, f.service, f.message): f for f in findings}
    return sorted(
        unique.values(), key=lambda f: (order[f.severity], str(f.file), f.line or 0, f.rule)
    )
