"""Rules about the files themselves: YAML syntax, duplicate keys, one service per file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from .. import yamlio
from ..catalog import SERVICE_SUFFIX, Service
from ..findings import Finding, Severity
from ..models import NAME_PATTERN
from .core import LintContext, rule


def _extra_docs(context: LintContext) -> Iterator[tuple[yamlio.YamlDoc | Finding, Service | None]]:
    """The files the site does not parse itself: the base file and the overlays."""
    yield context.base, None
    for service in context.site.services():
        for path in sorted(service.overlays.values()):
            yield context.overlay(path), service


@rule("yaml.syntax", "every file is valid YAML (service files, overlays, base, stack.yaml)")
def yaml_syntax(context: LintContext) -> Iterator[Finding]:
    # service files and stack.yaml are reported by the site loader (catalog: error findings)
    for doc, service in _extra_docs(context):
        if isinstance(doc, Finding):
            yield Finding(
                doc.rule,
                doc.severity,
                doc.message,
                doc.file,
                doc.line,
                service.id if service else None,
                doc.hint,
            )


@rule(
    "file.naming",
    "files in services/ are {service}.docker-compose.yaml (lower-case name) or an overlay "
    "{service}.{nvidia|amd|intel|iot}.docker-compose.yaml of an existing service",
)
def file_naming(context: LintContext) -> Iterator[Finding]:
    # wrong suffixes and orphan overlays are reported by the site loader (catalog: error findings)
    for stack in context.site.stacks.values():
        for path in sorted(stack.dir.glob("*compose*.y*ml")):
            yield Finding(
                "file.naming",
                Severity.ERROR,
                f"{path.name} is in {stack.dir.name}/, where homestack does not look for "
                "service files",
                path,
                1,
                path.name.split(".", 1)[0],
                f"Move it to {stack.dir.name}/services/.",
            )
    pattern = re.compile(NAME_PATTERN)
    for service in context.site.services():
        if not pattern.match(service.id):
            yield Finding(
                "file.naming",
                Severity.ERROR,
                f"{service.file.name}: {service.id!r} is not a service name (a-z, 0-9, -) "
                "and not an overlay kind (nvidia, amd, intel, iot)",
                service.file,
                1,
                service.id,
                f"Rename it to <service>{SERVICE_SUFFIX} or "
                f"<service>.<nvidia|amd|intel|iot>{SERVICE_SUFFIX}.",
            )


@rule("yaml.duplicate-key", "no mapping repeats a key (YAML keeps only the last one)")
def duplicate_key(context: LintContext) -> Iterator[Finding]:
    docs: list[tuple[yamlio.YamlDoc, str | None]] = [
        (s.doc, s.id) for s in context.services if s.doc is not None
    ]
    docs += [
        (doc, s.id if s else None)
        for doc, s in _extra_docs(context)
        if not isinstance(doc, Finding)
    ]
    docs += [(doc, None) for doc in context.stack_docs.values()]
    for doc, service_id in docs:
        for path, line in doc.duplicates:
            where = ".".join(str(part) for part in path)
            yield Finding(
                "yaml.duplicate-key",
                Severity.ERROR,
                f"key {where} is given twice; only the last one counts",
                doc.path,
                line,
                service_id,
                "Delete one of the two entries (or merge them into one).",
            )


def _service_keys(doc: yamlio.YamlDoc) -> list[str] | None:
    data = doc.data if isinstance(doc.data, dict) else {}
    services = data.get("services")
    return [str(key) for key in services] if isinstance(services, dict) else None


def _per_file(doc: yamlio.YamlDoc, name: str, path: Path, overlay: bool) -> Finding | None:
    keys = _service_keys(doc)
    kind = "overlay" if overlay else "service file"
    if keys == [name]:
        return None
    if not keys:
        message = f"{kind} {path.name} defines no service (expected services.{name})"
        line = doc.line("services")
    elif name not in keys:
        message = (
            f"{kind} {path.name} defines {', '.join(keys)} but must define exactly "
            f"services.{name} (the file's name)"
        )
        line = doc.line("services", keys[0])
    else:
        extra = [k for k in keys if k != name]
        message = f"{kind} {path.name} defines more than one service: {', '.join(keys)}"
        line = doc.line("services", extra[0])
    return Finding(
        "service.per-file",
        Severity.ERROR,
        message,
        path,
        line,
        name,
        f"Keep exactly one service per file, named after it: services.{name} in "
        f"{name}{SERVICE_SUFFIX}; move others to their own files.",
    )


@rule("service.per-file", "each file defines exactly one service, named after the file")
def service_per_file(context: LintContext) -> Iterator[Finding]:
    for service in context.services:
        if service.doc is None:  # pragma: no cover - context.services are the parsed ones
            continue
        found = _per_file(service.doc, service.id, service.file, overlay=False)
        if found:
            yield found
        for path in sorted(service.overlays.values()):
            doc = context.overlay(path)
            if not isinstance(doc, Finding):
                found = _per_file(doc, service.id, path, overlay=True)
                if found:
                    yield found
