"""Lint rules with stable ids. Rules return findings; they never raise."""

from .core import RULES, Finding, Severity, rule
from .rules import lint_site

__all__ = ["RULES", "Finding", "Severity", "lint_site", "rule"]
