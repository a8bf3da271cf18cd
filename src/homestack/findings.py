"""A finding: something wrong (or worth a word) at a place in the site's files.

Loading the site reports what it cannot make sense of as error findings (a missing
stack.yaml, a YAML syntax error, a service listed twice …: `Site.all_problems()`); the lint
rules (homestack.lint) add their own, of any severity. `status`, `doctor` and `validate`
show both kinds the same way.

stdlib only: the site loader needs it before anything else is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """`rule` (its id, docs/lint-rules.md), how bad, what, and where: the file, the line
    (1-based; None: the whole file), the service concerned, and how to fix it."""

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
