"""Lint rules with stable ids. Rules return findings; they never raise."""

from .core import RULES, Finding, Severity, lint_site, rule

__all__ = ["RULES", "Finding", "Severity", "lint_site", "rule"]
