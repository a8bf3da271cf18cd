"""Enable and disable services by editing `stack.yaml` in place.

The services list is edited line by line so every comment, blank line and the order stay
exactly as the user wrote them: disabling comments the entry's line (`  - x` → `  # - x`),
enabling uncomments it, so a round trip gives back the same bytes. The result is parsed again
before it replaces the file, atomically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import fsutil, yamlio
from .catalog import Site, Stack
from .errors import BadInput

if TYPE_CHECKING:
    from .plan import Dependent


@dataclass(frozen=True)
class ToggleResult:
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    #: disable: the enabled services left needing what was disabled (lint.rules_deps)
    needed_by: list[Dependent] = field(default_factory=list)
    #: enable: the disabled services what was enabled needs (lint.rules_deps)
    needs_disabled: list[Dependent] = field(default_factory=list)
    #: disable: the critical services disabled (x-homestack critical: the proxy …)
    critical: list[str] = field(default_factory=list)
    #: disable of a critical one: the enabled services with a web UI (reached through it)
    web_uis: list[str] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "unchanged": self.unchanged,
            "files": self.files,
            "needed_by": [d.to_data() for d in self.needed_by],
            "needs_disabled": [d.to_data() for d in self.needs_disabled],
        }


def _edit(text: str, stack: Stack, name: str, enable: bool) -> str | None:
    """The new text, or None when the service is already in the wanted state."""
    lines = text.splitlines(keepends=True)
    entries = [item for item in stack.listed if item.name == name]
    if entries:
        if any(item.enabled for item in entries) == enable:
            return None
        # enable the first line; disable every enabled one (a name listed twice)
        for entry in [entries[0]] if enable else [e for e in entries if e.enabled]:
            line = lines[entry.line - 1]
            if enable:
                lines[entry.line - 1] = re.sub(r"^(\s*)#\s?(\s*-\s)", r"\1\2", line, count=1)
            else:
                lines[entry.line - 1] = re.sub(r"^(\s*)(-\s)", r"\1# \2", line, count=1)
        return "".join(lines)
    if not enable:
        return None  # not listed means disabled already
    newline = "\r\n" if "\r\n" in text else "\n"  # what the file uses (a CRLF file stays CRLF)
    # append to the services list, after its last entry (or right after `services:`)
    anchor = max((item.line for item in stack.listed), default=None)
    indent = "  "
    if anchor is None:
        for number, line in enumerate(lines, start=1):
            if re.match(r"^services\s*:\s*(\[\s*\])?\s*(#.*)?$", line):
                lines[number - 1] = re.sub(r"\[\s*\]", "", line).rstrip() + newline
                anchor = number
                break
        if anchor is None:
            if lines and not lines[-1].endswith("\n"):
                lines[-1] += newline
            lines.append(f"services:{newline}")
            anchor = len(lines)
    else:
        # the indentation of an enabled entry, else the one before a commented entry's `#`
        enabled = [item.line for item in stack.listed if item.enabled]
        model = lines[(enabled[-1] if enabled else anchor) - 1]
        indent = model[: len(model) - len(model.lstrip(" \t"))] or "  "
    if not lines[anchor - 1].endswith("\n"):
        lines[anchor - 1] += newline
    lines.insert(anchor, f"{indent}- {name}{newline}")
    return "".join(lines)


def _refuse_unclear(text: str, path: Path) -> None:
    """BadInput when the file is not one whose services list can be edited line by line:
    its top level is not a mapping, or a key is written twice (which `services:` counts?)."""
    doc = yamlio.parse(text, path)
    if doc.data is not None and not isinstance(doc.data, dict):
        raise BadInput(
            f"{path}: the top level is a {type(doc.data).__name__}, not a mapping",
            "stack.yaml holds `description:`, `depends_on:` and a `services:` list of names; "
            "see another stack's stack.yaml.",
            file=path,
            line=1,
        )
    if doc.duplicates:
        keys, line = doc.duplicates[0]
        raise BadInput(
            f"{path}: key {'.'.join(str(k) for k in keys)} is given twice",
            "Delete one of the two entries (or merge them into one), then run it again.",
            file=path,
            line=line,
        )


def _check(text: str, path: Path, name: str, enable: bool) -> None:
    """The edited text is still YAML and lists the service as wanted (libyaml: a large file
    is read in a moment, where a pure-Python parser took minutes)."""
    try:
        data = yamlio.parse(text, path).data
    except BadInput:  # pragma: no cover - guards against a bad edit
        data = None
    entries = data.get("services") if isinstance(data, dict) else None
    listed = [str(item) for item in entries] if isinstance(entries, list) else []
    if (name in listed) != enable:  # pragma: no cover - guards against a bad edit
        raise BadInput(
            f"{path}: could not {'enable' if enable else 'disable'} {name} safely",
            "Edit the services list by hand: one `  - name` per line.",
            file=path,
        )


def write_atomic(path: Path, text: str) -> None:
    """Replace a file atomically, keeping its mode (0644 for a new one)."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fsutil.write_atomic(path, text, mode=mode)


def toggle(site: Site, names: list[str], *, enable: bool, dependents: bool = True) -> ToggleResult:
    """Enable or disable services; all names are checked before any file changes.

    Disabling reports the enabled services that need what is disabled (`needed_by`) and
    disables it anyway; with `dependents=False` it refuses instead (BadInput, nothing
    changed), as `down --no-dependents` does. Enabling reports the disabled services the
    enabled ones need (`needs_disabled`)."""
    services = [site.service(name) for name in names]  # raises "did you mean" on a typo
    for service in services:
        stack = site.stacks[service.stack]
        bad = [p for p in stack.problems if p.rule in {"yaml.syntax", "stack.services"}]
        if bad:
            raise BadInput(bad[0].message, bad[0].hint, file=bad[0].file, line=bad[0].line)
        if any(p.rule == "stack.missing" for p in stack.problems):
            raise BadInput(
                f"{stack.file} is missing: there is no services list to edit",
                "Create it with `description:` and a `services:` list of names (copy another "
                "stack's stack.yaml), then run it again.",
                file=stack.file,
            )
    if enable:  # a file `up` would refuse is not "enabled" now and failed only at `up`
        for service in services:
            for problem in service.problems:
                where = f" (line {problem.line})" if problem.line else ""
                raise BadInput(
                    f"{service.id} was not enabled: {problem.message}{where}",
                    (problem.hint or f"Fix {problem.file.name}")
                    + f" Then run `homestack enable {service.id}` again.",
                    file=problem.file,
                    line=problem.line,
                    service=service.id,
                )
    from .lint.rules_deps import disabled_needs, enabled_dependents

    needed_by: list[Dependent] = []
    needs_disabled: list[Dependent] = []
    if enable:
        needs_disabled = disabled_needs(site, [s.id for s in services])
    else:
        needed_by = enabled_dependents(site, [s.id for s in services if s.enabled])
        if needed_by and not dependents:
            raise refusal(names, needed_by)
    critical = (
        [] if enable else [s.id for s in services if s.enabled and s.meta and s.meta.critical]
    )
    proxies = [s for s in services if s.id in critical and _is_proxy(s)]
    web_uis = [
        s.id
        for s in (site.services(enabled_only=True) if proxies else [])
        if s.meta and s.meta.web and s.id not in critical
    ]
    result = ToggleResult(
        needed_by=needed_by, needs_disabled=needs_disabled, critical=critical, web_uis=web_uis
    )
    pending: dict[Path, str] = {}
    for service in services:
        stack = site.stacks[service.stack]
        # bytes, not read_text(): universal newlines would turn CRLF files into LF ones
        text = pending.get(stack.file) or stack.file.read_bytes().decode("utf-8")
        if stack.file not in pending:
            _refuse_unclear(text, stack.file)
        if stack.file in pending:  # re-read the listing from the pending text
            from .catalog import parse_listed

            stack = Stack(stack.id, stack.dir, stack.meta, parse_listed(text), stack.services)
        new = _edit(text, stack, service.id, enable)
        if new is None:
            result.unchanged.append(service.id)
            continue
        _check(new, stack.file, service.id, enable)
        pending[stack.file] = new
        result.changed.append(service.id)
    for path, text in pending.items():
        write_atomic(path, text)
        result.files.append(str(path))
    return result


def _is_proxy(service: Any) -> bool:
    """The reverse proxy: it publishes the web ports (container port 80 or 443)."""
    for entry in service.compose.get("ports") or []:
        target = entry.get("target") if isinstance(entry, dict) else str(entry).split("/")[0]
        if str(target).rsplit(":", 1)[-1] in ("80", "443"):
            return True
    return False


def refusal(names: list[str], needed_by: list[Dependent]) -> BadInput:
    """`disable --no-dependents` when enabled services need what it would disable."""
    count = len(needed_by)
    ids = " ".join(d.service for d in needed_by)
    return BadInput(
        f"`disable {' '.join(names)}` would leave {count} enabled service"
        f"{'s' if count != 1 else ''} without something they need:\n  "
        + "\n  ".join(d.reason() for d in needed_by),
        f"Disable them too (`homestack disable {' '.join(names)} {ids}`), or drop "
        "--no-dependents to disable it anyway (then `up` refuses them until you do).",
    )
