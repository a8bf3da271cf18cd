"""`homestack validate` and `homestack config`: lint, then Compose's own check."""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import Site, Stack
from .engine.backend import default_backend
from .engine.compose import ComposeProject, require_compose
from .errors import BadInput, CommandFailed
from .lint import Finding, Severity, lint_site


@dataclass
class Validation:
    root: Path
    findings: list[Finding]
    compose: dict[str, str] = field(default_factory=dict)
    offline: bool = False
    #: stacks Compose did not check because one of their files is not valid YAML
    compose_skipped: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR] + [
            Finding("compose.config", Severity.ERROR, status, self.root)
            for status in self.compose.values()
            if status != "ok"
        ]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    def to_data(self) -> dict[str, Any]:
        return {
            "findings": [f.to_data() for f in self.findings],
            "compose": self.compose,
            "offline": self.offline,
            "compose_skipped": self.compose_skipped,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
        }


def _compose_check(site: Site, stack: Stack) -> str:
    project = ComposeProject(site, stack, overlays=all_overlays(stack))
    try:
        default_backend().check_config(project)
    except CommandFailed as failed:
        return failed.stderr.strip() or f"exit {failed.returncode}"
    return "ok"


def all_overlays(stack: Stack) -> dict[str, list[str]]:
    """Every overlay of every enabled service, so validate checks them all merge cleanly."""
    return {s.id: sorted(s.overlays) for s in stack.enabled}


def validate(site: Site, stack_name: str | None = None, *, offline: bool = False) -> Validation:
    stacks = [site.stack(stack_name)] if stack_name else list(site.stacks.values())
    pool: ThreadPoolExecutor | None = None
    checks: dict[str, Future[str]] = {}
    skipped: list[str] = []
    if not offline:
        # Compose's own check runs while we lint: the wait is the longer of the two, not both
        require_compose()
        broken = {p.service for p in site.all_problems() if p.rule == "yaml.syntax"}
        checkable = [s for s in stacks if s.enabled and not broken & set(s.services)]
        skipped = [s.id for s in stacks if s.enabled and s not in checkable]
        pool = ThreadPoolExecutor(max_workers=max(1, len(checkable)))
        checks = {s.id: pool.submit(_compose_check, site, s) for s in checkable}
    try:
        findings = lint_site(
            site, stacks=[s.id for s in stacks] if stack_name else None, engine=not offline
        )
        from .swarm import is_swarm

        if is_swarm(site):  # what a swarm cannot carry, and placements no node can take
            from .swarm.ops import validate_findings

            findings += validate_findings(site, [s.id for s in stacks], engine=not offline)
        result = Validation(site.root, findings, offline=offline, compose_skipped=skipped)
        result.compose = {name: check.result() for name, check in checks.items()}
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return result


@dataclass
class MergedConfig:
    models: dict[str, dict[str, Any]]
    #: stacks asked for that have no enabled service (no model; the text output says so)
    empty: list[str] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        return self.models


def merged_config(site: Site, stack_name: str | None = None) -> MergedConfig:
    stacks = [site.stack(stack_name)] if stack_name else list(site.stacks.values())
    site.require_valid([s.id for s in stacks])  # another stack's broken file does not matter
    from .gpu_choice import overlays_for

    models = {}
    empty = [stack.id for stack in stacks if not stack.enabled]
    for stack in stacks:
        if stack.enabled:
            project = ComposeProject(site, stack, overlays=overlays_for(site, stack))
            try:
                models[stack.id] = project.config()
            except CommandFailed as failed:
                missing = _REQUIRED.search(failed.stderr)
                if missing is None:
                    raise
                where = missing["where"].split(".")
                service = where[1] if where[0] == "services" and len(where) > 1 else "<service>"
                raise BadInput(
                    f"stack {stack.id}: {missing['where']}: required variable {missing['name']} "
                    "is not set"
                    + (f" ({text})" if (text := (missing["message"] or "").strip()) else ""),
                    f"Set {missing['name']}=… in .env, {stack.dir.name}/.env or "
                    f"{stack.dir.name}/services/{service}/.env; `homestack validate --offline "
                    f"{stack.id}` names the file and line.",
                ) from None
    return MergedConfig(models, empty)


#: compose-go's words for an unset ${VAR:?message}
_REQUIRED = re.compile(
    r"interpolating (?P<where>\S+): required variable (?P<name>\w+) is missing a value"
    r"(?::(?P<message>[^\n]*))?"
)
