"""docs/lint-rules.md documents every registered rule with its severity."""

from __future__ import annotations

import re
from pathlib import Path

from homestack.lint import RULES
from homestack.lint import rules as _rules  # noqa: F401  (importing it registers the rules)

DOC = Path(__file__).resolve().parents[3] / "docs" / "lint-rules.md"


def _rows() -> dict[str, str]:
    rows: dict[str, str] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `([a-z0-9.-]+)` \| ([^|]+) \|", line)
        if match:
            rows[match.group(1)] = match.group(2).strip()
    return rows


def test_every_registered_rule_is_in_the_doc_table() -> None:
    rows = _rows()
    assert sorted(set(RULES) - set(rows)) == []


def test_the_doc_lists_no_rule_that_does_not_exist() -> None:
    assert sorted(set(_rows()) - set(RULES)) == []


def test_the_doc_gives_each_rule_its_registered_severity() -> None:
    rows = _rows()
    wrong = {
        rule.id: rows[rule.id]
        for rule in RULES.values()
        if not rows[rule.id].startswith(rule.severity.value)
    }
    assert wrong == {}
