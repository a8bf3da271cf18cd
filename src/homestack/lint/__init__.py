"""Lint rules with stable ids. Rules return findings; they never raise."""

from ..findings import Finding, Severity
from .core import RULES, rule
from .rules import lint_site

__all__ = ["RULES", "Finding", "Severity", "lint_site", "rule"]
