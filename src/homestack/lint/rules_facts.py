"""The service file against the upstream facts recorded beside it (services/{id}/facts.yaml).

Each rule compares one kind of fact with what the file does: the image tag the facts were
checked at, where the image writes (for a file that changes its user), which paths answer a
probe, which environment names the app reads, which capabilities its entrypoint needs, which
Host names its API accepts. A service without a facts file is not checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from .. import facts as facts_mod
from ..catalog import Service
from ..errors import BadInput
from ..findings import Finding, Severity
from .core import LintContext, rule


def _facts(context: LintContext) -> list[tuple[Service, facts_mod.Facts | Finding]]:
    """Each service's facts (or the facts.schema finding of a broken file), once per run."""
    cached = context.cache.get("facts")
    if isinstance(cached, list):
        return cached
    out: list[tuple[Service, facts_mod.Facts | Finding]] = []
    for service in context.services:
        path = facts_mod.facts_path(service)
        try:
            found = facts_mod.load(service)
        except BadInput as exc:
            out.append((service, _schema(service, path, exc.line, exc.message)))
            continue
        except facts_mod.FactsError as exc:
            doc = _doc(path)
            line = doc.line(exc.key) if doc is not None and exc.key else None
            out.append((service, _schema(service, path, line, str(exc))))
            continue
        if found is not None:
            out.append((service, found))
    context.cache["facts"] = out
    return out


def _doc(path: Path) -> Any:
    from .. import yamlio

    try:
        return yamlio.load(path)
    except BadInput:
        return None


def _schema(service: Service, path: Path, line: int | None, message: str) -> Finding:
    return Finding(
        "facts.schema",
        Severity.ERROR,
        f"{path.name} of {service.id}: {message}",
        path,
        line,
        service.id,
        "Keys: image, version, checked_on (YYYY-MM-DD), sources, found; optional user, "
        "writes, http_2xx, env, secrets_file, capabilities, tools, host_allowlist, config, "
        "refuses, notes "
        "(docs/lint-rules.md, 'Service facts').",
    )


def _checked(context: LintContext) -> Iterator[tuple[Service, facts_mod.Facts]]:
    for service, found in _facts(context):
        if isinstance(found, facts_mod.Facts):
            yield service, found


@rule("facts.schema", "a service's facts.yaml has the keys and types of the facts format")
def facts_schema(context: LintContext) -> Iterator[Finding]:
    for _service, found in _facts(context):
        if isinstance(found, Finding):
            yield found


def _overlay_images(
    context: LintContext, service: Service
) -> Iterator[tuple[Path, str, int | None]]:
    """(overlay file, image, line) of each overlay of the service that sets an image."""
    for path in sorted(service.overlays.values()):
        overlay = context.overlay(path)
        if isinstance(overlay, Finding) or not isinstance(overlay.data, dict):
            continue
        entry = (overlay.data.get("services") or {}).get(service.id)
        if isinstance(entry, dict) and entry.get("image"):
            yield path, str(entry["image"]), overlay.line("services", service.id, "image")


@rule(
    "facts.version",
    "the image the file pins is the one its facts were checked at",
    Severity.WARNING,
)
def facts_version(context: LintContext) -> Iterator[Finding]:
    """A warning, not an error: `homestack update` moves a pin on a user's site, where the
    facts stay as the catalog shipped them; the shipped catalog itself is held to exact
    facts by tests/unit/test_catalog_facts.py."""
    for service, found in _checked(context):
        release = found.version.removeprefix("v").split("-")[0]
        for path, image, line in _overlay_images(context, service):
            if release in facts_mod.split_image(image)[1]:
                continue
            yield Finding(
                "facts.version",
                Severity.WARNING,
                f"the {path.name.split('.')[1]} overlay of {service.id} runs {image}, not a "
                f"build of {release}, the release its file pins and its facts were checked at",
                path,
                line,
                service.id,
                f"Pin the overlay to the {release} build of the image (its -cuda, -rocm or "
                "gpu- tag of the same release).",
            )
        image = str(service.compose.get("image") or "")
        repo, tag = facts_mod.split_image(image)
        if (repo, tag) == (found.image, found.version):
            continue
        yield Finding(
            "facts.version",
            Severity.WARNING,
            f"{service.id} pins {image} but its facts were checked at "
            f"{found.image}:{found.version}: nothing says the file still fits the new image",
            service.file,
            context.line(service, "image"),
            service.id,
            f"Read the new release's Dockerfile, entrypoint and notes, check every fact in "
            f"{found.path.relative_to(context.site.root)}, then set its image/version, "
            "checked_on and found.",
        )


def _mount_targets(compose: dict[str, Any]) -> list[tuple[str, bool]]:
    """(container path, writable) of every volume and tmpfs of the service."""
    out: list[tuple[str, bool]] = []
    for entry in compose.get("volumes") or []:
        if isinstance(entry, dict):
            target = str(entry.get("target") or "")
            out.append((target, not entry.get("read_only")))
            continue
        parts = str(entry).split(":")
        if len(parts) == 1:
            out.append((parts[0], True))  # an anonymous volume
        else:
            mode = parts[2] if len(parts) > 2 else "rw"
            out.append((parts[1], "ro" not in mode.split(",")))
    tmpfs = compose.get("tmpfs") or []
    for entry in [tmpfs] if isinstance(tmpfs, str) else tmpfs:
        out.append((str(entry).split(":", 1)[0], True))
    return [(t, w) for t, w in out if t.startswith("/")]


def _under(path: str, folder: str) -> bool:
    return PurePosixPath(path) == PurePosixPath(folder) or PurePosixPath(folder) in (
        PurePosixPath(path).parents
    )


@rule("facts.writes", "every path the image writes at run time is on a writable mount")
def facts_writes(context: LintContext) -> Iterator[Finding]:
    """Run as another user than the image's (`user:`), the app cannot write the image's own
    folders and fails there; run as itself, what it writes outside a mount is lost when the
    container is recreated (an update)."""
    for service, found in _checked(context):
        if not found.writes:
            continue
        user = service.compose.get("user")
        mounts = _mount_targets(context.resolved(service))
        for path in found.writes:
            covering = [(t, w) for t, w in mounts if _under(path, t)]
            # the deepest mount over the path decides
            covering.sort(key=lambda tw: len(PurePosixPath(tw[0]).parts))
            if covering and covering[-1][1]:
                continue
            if user:
                why = (
                    f"{service.id} runs as user {user} instead of the image's "
                    f"({found.user or 'its own'}), but the image writes {path}, which no "
                    "writable mount covers: it belongs to the image's user, so the app fails"
                )
                fix = f"Mount a writable folder at {path}, or drop `user:`."
                line = context.line(service, "user")
            else:
                why = (
                    f"{service.id} writes {path} (by its facts), which no writable mount "
                    "covers: what it keeps there is lost when the container is recreated"
                )
                fix = f"Mount a writable folder (or file) at {path}, inside the backup."
                line = context.line(service, "volumes") or context.line(service, "image")
            yield Finding("facts.writes", Severity.ERROR, why, service.file, line, service.id, fix)


@rule("facts.probe", "the web UI's health path is one its facts say answers 2xx")
def facts_probe(context: LintContext) -> Iterator[Finding]:
    for service, found in _checked(context):
        web = service.meta.web if service.meta else None
        if web is None or not found.http_2xx:
            continue
        path = web.health_path or web.path
        answering = found.http_2xx.get(web.port, [])
        if path in answering:
            continue
        keys = ("x-homestack", "web", "health_path" if web.health_path else "port")
        yield Finding(
            "facts.probe",
            Severity.ERROR,
            f"{service.id}'s health probe asks http://{service.id}:{web.port}{path}, which its "
            f"facts do not list as answering 2xx on port {web.port} "
            f"({', '.join(answering) or 'none listed'}): the probe would fail forever",
            service.file,
            context.line(service, *keys),
            service.id,
            "Set x-homestack web.health_path to a path the facts list (or add the path to "
            "http_2xx once upstream's code shows it answers 2xx without a login).",
        )


def _env_names(compose: dict[str, Any]) -> list[str]:
    env = compose.get("environment") or {}
    if isinstance(env, dict):
        return [str(k) for k in env]
    return [str(e).split("=", 1)[0] for e in env]


@rule("facts.env", "every environment name the file sets is one the image reads")
def facts_env(context: LintContext) -> Iterator[Finding]:
    for service, found in _checked(context):
        if found.env is None:
            continue
        for name in _env_names(service.compose):
            if found.reads_env(name):
                continue
            yield Finding(
                "facts.env",
                Severity.ERROR,
                f"{service.id} sets {name}, which {found.image}:{found.version} does not read "
                "(by its facts): the setting does nothing",
                service.file,
                context.line(service, "environment", name),
                service.id,
                "Remove it and set what it meant where the app reads it (its generated config, "
                "or the name the image reads), or add it to the facts' env once upstream's "
                "code shows the image reads it.",
            )


@rule("facts.capabilities", "the file grants the capabilities the image's entrypoint needs")
def facts_capabilities(context: LintContext) -> Iterator[Finding]:
    for service, found in _checked(context):
        compose = service.compose
        dropped = [str(c).upper() for c in compose.get("cap_drop") or []]
        if "ALL" not in dropped:
            continue
        granted = {str(c).upper() for c in compose.get("cap_add") or []}
        missing = [c for c in found.capabilities if c.upper() not in granted]
        if not missing:
            continue
        yield Finding(
            "facts.capabilities",
            Severity.ERROR,
            f"{service.id} drops every capability but its entrypoint needs "
            f"{', '.join(missing)} (by its facts)",
            service.file,
            context.line(service, "cap_add" if "cap_add" in compose else "cap_drop"),
            service.id,
            f"Add {', '.join(missing)} to cap_add, with the reason in the comment above it.",
        )


def _https_port(context: LintContext) -> str:
    for service in context.services:
        if service.id == "caddy":
            return context.service_env(service).get("CADDY_HTTPS_PORT") or "443"
    return "443"


@rule("facts.host-allowlist", "an app that checks the Host header accepts its probe's and URL's")
def facts_host_allowlist(context: LintContext) -> Iterator[Finding]:
    from ..domain import site_domain

    for service, found in _checked(context):
        allow = found.host_allowlist
        web = service.meta.web if service.meta else None
        if allow is None or web is None:
            continue
        variable = str(allow["variable"])
        env = context.resolved(service).get("environment") or {}
        value = str(env.get(variable) or "") if isinstance(env, dict) else ""
        allowed = {h.strip() for h in value.split(",") if h.strip()}
        allowed |= {str(h) for h in allow.get("always") or []}
        host = f"{web.subdomain or service.id}.{site_domain(context.root_env)}"
        port = _https_port(context)
        wanted = [f"{service.id}:{web.port}", host if port == "443" else f"{host}:{port}"]
        missing = [h for h in wanted if h not in allowed]
        if not missing:
            continue
        yield Finding(
            "facts.host-allowlist",
            Severity.ERROR,
            f"{service.id} answers its API only for the Host names in {variable}, which lacks "
            f"{', '.join(missing)}: the health probe or the browser gets 400",
            service.file,
            context.line(service, "environment", variable),
            service.id,
            f"Add {', '.join(missing)} to {variable} (the probe asks {service.id}:{web.port}; "
            "a browser sends the HTTPS port when it is not 443).",
        )


def _health_command(entry: Any) -> str | None:
    """The executable a healthcheck runs: argv[0] of CMD, the first word of CMD-SHELL."""
    check = entry.get("healthcheck") if isinstance(entry, dict) else None
    test = check.get("test") if isinstance(check, dict) else None
    if isinstance(test, str):
        words = test.split()
        return words[0] if words else None
    if isinstance(test, list) and len(test) > 1 and test[0] == "CMD":
        return str(test[1])
    if isinstance(test, list) and len(test) > 1 and test[0] == "CMD-SHELL":
        words = str(test[1]).split()
        return words[0] if words else None
    return None


@rule("facts.health-command", "the healthcheck runs an executable the image ships")
def facts_health_command(context: LintContext) -> Iterator[Finding]:
    for service, found in _checked(context):
        if not found.tools:
            continue
        checks: list[tuple[Path, Any, int | None]] = [
            (service.file, service.compose, context.line(service, "healthcheck", "test"))
        ]
        for path in sorted(service.overlays.values()):
            overlay = context.overlay(path)
            if isinstance(overlay, Finding) or not isinstance(overlay.data, dict):
                continue
            entry = (overlay.data.get("services") or {}).get(service.id)
            line = overlay.line("services", service.id, "healthcheck", "test")
            checks.append((path, entry, line))
        for path, entry, line in checks:
            command = _health_command(entry)
            if command is None or command in found.tools:
                continue
            yield Finding(
                "facts.health-command",
                Severity.ERROR,
                f"{service.id}'s healthcheck runs {command}, which {found.image}:"
                f"{found.version} does not ship (by its facts: {', '.join(found.tools)}): "
                "the check fails and the service never counts as healthy",
                path,
                line,
                service.id,
                f"Probe with one of {', '.join(found.tools)}, or add {command} to the facts' "
                "tools once the image is shown to ship it.",
            )
