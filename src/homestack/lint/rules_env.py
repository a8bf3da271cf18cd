"""Variables the files need and the env layers (root → stack → service) must provide."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast

from .. import settings, yamlio
from ..catalog import Service
from ..findings import Finding, Severity
from .core import LintContext, rule

KeyPath = tuple[str | int, ...]


def _strings(data: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, str]]:
    """Every string Compose interpolates, with its key path (x- blocks are homestack's)."""
    if isinstance(data, str):
        if "$" in data:
            yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and key.startswith("x-"):
                continue
            yield from _strings(value, (*path, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _strings(item, (*path, index))


def _documents(
    context: LintContext,
) -> Iterator[tuple[yamlio.YamlDoc, Mapping[str, str], Service | None]]:
    base = context.base
    if isinstance(base, yamlio.YamlDoc):
        yield base, context.root_env, None
    for service in context.services:
        env = context.service_env(service)
        if service.doc is not None:
            yield service.doc, env, service
        for path in sorted(service.overlays.values()):
            overlay = context.overlay(path)
            if isinstance(overlay, yamlio.YamlDoc):
                yield overlay, env, service


Use = tuple[yamlio.YamlDoc, KeyPath, str, str | None, Mapping[str, str], Service | None]


def _uses(context: LintContext) -> list[Use]:
    """Every variable reference in every file, once per lint run (two rules read them)."""
    cached = context.cache.get("env.uses")
    if cached is None:
        cached = [
            (doc, path, name, op, env, service)
            for doc, env, service in _documents(context)
            for path, text in _strings(doc.data)
            for name, op in settings.variables_in(text)
        ]
        context.cache["env.uses"] = cached
    return cast(list[Use], cached)


def _missing(name: str, op: str | None, env: Mapping[str, str]) -> bool:
    if op is not None and op.startswith(":"):
        return env.get(name, "") == ""
    return name not in env


def _layer_hint(service: Service | None, name: str) -> str:
    where = f"{service.stack}-stack/.env or services/{service.id}/.env" if service else ".env"
    return f"Set {name}=… in {where} (or the root .env)."


@rule("env.required", "required variables (${VAR:?…}, .env.example entries) are set")
def env_required(context: LintContext) -> Iterator[Finding]:
    for doc, path, name, op, env, service in _uses(context):
        if op in (":?", "?") and _missing(name, op, env):
            yield Finding(
                "env.required",
                Severity.ERROR,
                f"{name} is required here but no env layer sets it"
                + (" (or it is empty)" if op == ":?" else ""),
                doc.path,
                doc.line(*path),
                service.id if service else None,
                _layer_hint(service, name),
            )
    yield from _examples(context)


def _example_layers(
    context: LintContext,
) -> Iterator[tuple[Path, Mapping[str, str], Service | None]]:
    yield context.site.root, context.root_env, None
    for stack in context.site.stacks.values():
        yield stack.dir, context.stack_env(stack), None
    for service in context.services:
        yield service.env_dir, context.service_env(service), service


def _examples(context: LintContext) -> Iterator[Finding]:
    """A user's .env that lacks what its .env.example lists (the example is the contract)."""
    for folder, env, service in _example_layers(context):
        user = folder / ".env"
        if not user.is_file():
            continue  # the .env.example itself is the layer
        example = context.env_file(folder / ".env.example")
        mine = context.env_file(user)
        if example is None or mine is None:
            continue
        for name, line in example.lines.items():
            if name in mine.values or name in env:
                continue
            yield Finding(
                "env.required",
                Severity.ERROR,
                f"{name} is listed in {example.path.name} but missing from {user}",
                example.path,
                line,
                service.id if service else None,
                f"Add {name}=… to {user} (copy it from {example.path.name}:{line}).",
            )


@rule("env.unset", "every ${VAR} without a default is set somewhere", Severity.WARNING)
def env_unset(context: LintContext) -> Iterator[Finding]:
    for doc, path, name, op, env, service in _uses(context):
        if op is None and name not in env:
            hint = _layer_hint(service, name)
            yield Finding(
                "env.unset",
                Severity.WARNING,
                f"{name} is not set in any env layer; Compose substitutes an empty string",
                doc.path,
                doc.line(*path),
                service.id if service else None,
                f"Give it a default (${{{name}:-value}}) or {hint[0].lower()}{hint[1:]}",
            )


@rule("env.timezone", "TZ names a zone of the tz database (else containers run on UTC)")
def env_timezone(context: LintContext) -> Iterator[Finding]:
    """TZ as each service's containers get it: from the last env layer that sets it, or from
    the process environment, which wins (reported on the root layer)."""
    root_layer = settings.layer_file(context.site.root) or context.site.root / ".env"
    for service in context.services:
        value = context.service_env(service).get("TZ")
        if value is None:
            continue
        problem = settings.timezone_problem(value)
        if problem is None:
            continue
        file, line, source = root_layer, None, " (from the environment homestack runs in)"
        where = context.set_by(service, "TZ") if "TZ" not in os.environ else None
        if where is not None:
            (file, line), source = where, ""
        yield Finding(
            "env.timezone",
            Severity(problem.severity),
            problem.message + source,
            file,
            line,
            service.id if file.parent == service.env_dir else None,
            problem.hint,
        )


@rule("env.domain", "DOMAIN is set in the root .env only: the proxy serves one domain")
def env_domain(context: LintContext) -> Iterator[Finding]:
    """A DOMAIN in a stack's or a service's .env reaches that stack's services through
    Compose (their own URLs: WEBUI_URL, GF_SERVER_ROOT_URL, …) but not the proxy: caddy (in
    essentials), sign-on, DNS and the start page are generated for the root .env's DOMAIN,
    one Caddyfile for the site. Reported where it differs, at the layer that sets it."""
    from ..domain import site_domain as _domain  # DOMAIN as generate reads it

    if "DOMAIN" in os.environ:
        return  # the process environment wins in every stack: one domain
    site_domain = _domain(context.root_env)
    root_layer = settings.layer_file(context.site.root)
    reported: set[Path] = set()
    for service in context.services:
        value = _domain(context.service_env(service))
        if value == site_domain:
            continue
        where = context.set_by(service, "DOMAIN")
        if where is None or where[0] == root_layer or where[0] in reported:
            continue
        path, line = where
        reported.add(path)
        relative = path.relative_to(context.site.root)
        yield Finding(
            "env.domain",
            Severity.ERROR if service.enabled else Severity.WARNING,
            f"DOMAIN in {relative} gives the {service.stack} stack {value!r} while the "
            f"proxy serves {site_domain!r} (the root .env's): generate writes one "
            "Caddyfile, sign-on and DNS for the root DOMAIN, so the URLs these services "
            "are given name hosts the proxy does not serve",
            path,
            line,
            service.id if path.parent == service.env_dir else None,
            f"Delete DOMAIN from {relative} and set the site's domain once, in the root "
            ".env (DOMAIN=…); every stack gets it from there.",
        )


@rule("env.backup-repository", "BACKUP_REPOSITORY names one repository per service ({service})")
def env_backup_repository(context: LintContext) -> Iterator[Finding]:
    """A repository every service shares puts each one's backups a tag away from the
    others' (a restore, a prune); `homestack backup` refuses it, so lint says it first."""
    value = context.root_env.get("BACKUP_REPOSITORY", "").strip()
    if not value or "{service}" in value:
        return
    layer = settings.layer_file(context.site.root)
    line = None
    if layer is not None:
        parsed = context.env_file(layer)
        line = parsed.lines.get("BACKUP_REPOSITORY") if parsed is not None else None
    yield Finding(
        "env.backup-repository",
        Severity.ERROR,
        f"BACKUP_REPOSITORY={value} has no {{service}}: every service would share one "
        "repository (and `homestack backup` refuses it)",
        layer or context.site.root / ".env",
        line,
        None,
        "Put {service} in it, e.g. BACKUP_REPOSITORY=/mnt/backups/{service}.",
    )
