"""Naming rules: networks from the seed's set, `{stack}_{service}_data` volumes,
`{service}_{secret}` secrets that match the x-homestack block."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from ..catalog import IOT_NETWORK, SIGNON_NETWORK, Service
from ..findings import Finding, Severity
from .core import LintContext, rule
from .rules_compose import base_views, file_networks, service_networks

PREFIX = "${HOMESTACK_PREFIX:-}"


def _network_keys(compose: dict[str, Any], name: str, index: int) -> tuple[str | int, ...]:
    networks = compose.get("networks")
    return ("networks", name) if isinstance(networks, dict) else ("networks", index)


@rule("network.unknown", "services join only the seed networks or internal ones their file defines")
def network_unknown(context: LintContext) -> Iterator[Finding]:
    bases = base_views(context)
    seed_networks = context.site.networks
    for view in context.views:
        defined = file_networks(view, bases.get(view.service.id) if view.overlay else None)
        for index, name in enumerate(service_networks(view.compose)):
            if name in seed_networks:
                continue
            spec = defined.get(name)
            if name in defined:
                spec = spec if isinstance(spec, dict) else {}
                if spec.get("internal") is True and not spec.get("external"):
                    continue
                message = (
                    f"network {name!r} is defined in this file but is not internal: a service "
                    "may add only internal networks of its own"
                )
                hint = f"Add `internal: true` under networks.{name}, or join a seed network."
            else:
                close = difflib.get_close_matches(name, seed_networks, n=1, cutoff=0.6)
                message = f"network {name!r} is not one of the seed networks"
                hint = (
                    (f"Did you mean {close[0]}? " if close else "")
                    + "Join one of "
                    + ", ".join(seed_networks)
                    + ", or define an internal network in this file."
                )
            yield Finding(
                "network.unknown",
                Severity.ERROR,
                message,
                view.file,
                view.line(*_network_keys(view.compose, name, index)),
                view.service.id,
                hint,
            )


@rule("network.stack", "a service that joins seed networks joins its own stack's network")
def network_stack(context: LintContext) -> Iterator[Finding]:
    for service in context.services:
        names = service_networks(service.compose)
        # iot_macvlan and signon-proxy are joined beside a stack network, or (Dozzle) alone
        shared = context.site.networks
        seed = [n for n in names if n in shared and n not in (IOT_NETWORK, SIGNON_NETWORK)]
        own = context.site.stacks[service.stack].network
        if not seed or own in names:
            continue  # no seed network at all (network.none, or internal only): fine here
        yield Finding(
            "network.stack",
            Severity.ERROR,
            f"{service.id} joins {', '.join(seed)} but not {own}, the network of its "
            f"{service.stack} stack: the other {service.stack} services cannot reach it",
            service.file,
            context.line(service, *_network_keys(service.compose, names[0], 0)),
            service.id,
            f"Add {own} to its networks (keep another stack's network only if it must "
            "talk to that stack).",
        )


@rule("network.none", "every service names its networks", Severity.WARNING)
def network_none(context: LintContext) -> Iterator[Finding]:
    for service in context.services:
        compose = service.compose
        if compose and not service_networks(compose) and not compose.get("network_mode"):
            stack_net = context.site.stacks[service.stack].network
            yield Finding(
                "network.none",
                Severity.WARNING,
                f"{service.id} names no network, so it lands on a private default network",
                service.file,
                context.line(service),
                service.id,
                f"Add `networks: [{stack_net}]` (its stack's network).",
            )


@rule(
    "network.iot-outside-overlay",
    "iot_macvlan is joined from the {service}.iot overlay only",
    Severity.WARNING,
)
def iot_outside_overlay(context: LintContext) -> Iterator[Finding]:
    for service in context.services:
        for index, name in enumerate(service_networks(service.compose)):
            if name == IOT_NETWORK:
                yield Finding(
                    "network.iot-outside-overlay",
                    Severity.WARNING,
                    f"{service.id} joins {IOT_NETWORK} in its base file; that network exists "
                    "only when IOT_PARENT/IOT_SUBNET are set, so `up` fails without it",
                    service.file,
                    context.line(service, *_network_keys(service.compose, name, index)),
                    service.id,
                    f"Move the {IOT_NETWORK} network to {service.id}.iot.docker-compose.yaml.",
                )


def _top(service: Service, key: str) -> dict[str, Any]:
    data = service.doc.data if service.doc else None
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _named_volume_sources(compose: dict[str, Any]) -> Iterator[tuple[int, str]]:
    volumes = compose.get("volumes")
    for index, entry in enumerate(volumes if isinstance(volumes, list) else []):
        if isinstance(entry, dict):
            if entry.get("type", "volume") == "volume" and entry.get("source"):
                yield index, str(entry["source"])
            continue
        parts = str(entry).split(":")
        if len(parts) > 1 and parts[0] and not parts[0].startswith(("/", ".", "~", "$")):
            yield index, parts[0]


@rule("volume.name", "volumes are `{stack}_{service}_data`, named `${HOMESTACK_PREFIX:-}` + key")
def volume_name(context: LintContext) -> Iterator[Finding]:
    for service in context.services:
        yield from _volumes_of(context, service)


def _volumes_of(context: LintContext, service: Service) -> Iterator[Finding]:
    volumes = _top(service, "volumes")
    wanted = service.volume_name
    doc = service.doc
    if doc is None:  # pragma: no cover - context.services are the parsed ones
        return

    def finding(message: str, line: int | None, hint: str, sev: Severity) -> Finding:
        return Finding("volume.name", sev, message, service.file, line, service.id, hint)

    for raw_key, raw_spec in volumes.items():
        spec = raw_spec if isinstance(raw_spec, dict) else {}
        key = str(raw_key)
        if spec.get("external"):
            continue
        if key != wanted and not key.startswith(f"{service.stack}_{service.id}_"):
            yield finding(
                f"volume {key!r} does not follow {{stack}}_{{service}}_data ({wanted})",
                doc.line("volumes", key),
                f"Rename it to {wanted} (and its mounts); extra volumes are "
                f"{service.stack}_{service.id}_<what>.",
                Severity.ERROR,
            )
            continue
        name = spec.get("name")
        if name is None:
            yield finding(
                f"volume {key} has no name:, so Compose calls it <project>_{key}",
                doc.line("volumes", key),
                f"Add `name: {PREFIX}{key}`.",
                Severity.WARNING,
            )
        elif str(name) != PREFIX + key:
            yield finding(
                f"volume {key} is named {name!r}, expected {PREFIX}{key}",
                doc.line("volumes", key, "name"),
                f"Write `name: {PREFIX}{key}` so tests and real sites never share volumes.",
                Severity.ERROR,
            )
    for index, source in _named_volume_sources(context.resolved(service)):
        if source not in volumes:
            yield finding(
                f"{service.id} mounts volume {source!r}, which its file does not define",
                context.line(service, "volumes", index),
                f"Define it under top-level volumes as {wanted} (or use a bind path).",
                Severity.ERROR,
            )


def _secret_refs(compose: dict[str, Any]) -> Iterator[tuple[int, str]]:
    secrets = compose.get("secrets")
    for index, entry in enumerate(secrets if isinstance(secrets, list) else []):
        source = entry.get("source") if isinstance(entry, dict) else entry
        if source:
            yield index, str(source)


@rule("secret.name", "secrets are `{service}_{name}` and match x-homestack secrets both ways")
def secret_name(context: LintContext) -> Iterator[Finding]:
    for service in context.services:
        yield from _secrets_of(context, service)


def _secrets_of(context: LintContext, service: Service) -> Iterator[Finding]:
    doc = service.doc
    if doc is None:  # pragma: no cover - context.services are the parsed ones
        return
    sid = service.id
    top = _top(service, "secrets")
    refs = {source: index for index, source in _secret_refs(service.compose)}
    specs = service.meta.secrets if service.meta else []
    generated: dict[str, int] = {}

    def finding(message: str, line: int | None, hint: str) -> Finding:
        return Finding("secret.name", Severity.ERROR, message, service.file, line, sid, hint)

    for index, entry in enumerate(specs):
        if f"{sid}_{entry.name}" in generated:  # which length and alphabet would win?
            yield finding(
                f"x-homestack secrets lists {entry.name} twice",
                context.line(service, "x-homestack", "secrets", index, "name"),
                "Delete one of the two entries.",
            )
        generated.setdefault(f"{sid}_{entry.name}", index)

    for raw_key, raw_spec in top.items():
        key = str(raw_key)
        spec = raw_spec if isinstance(raw_spec, dict) else {}
        line = doc.line("secrets", key)
        if not key.startswith(f"{sid}_"):
            yield finding(
                f"secret {key!r} does not follow {{service}}_{{secret_name}}",
                line,
                f"Rename it to {sid}_<name> (and the x-homestack secret to <name>).",
            )
            continue
        if key not in generated:
            yield finding(
                f"secret {key} is not listed in x-homestack secrets, so nothing creates it",
                line,
                f"Add `- name: {key.removeprefix(sid + '_')}` to x-homestack secrets.",
            )
        if key not in refs:
            yield finding(
                f"secret {key} is declared but {sid} does not use it",
                line,
                f"Add `- {key}` to services.{sid}.secrets, or remove the declaration.",
            )
        file = str(spec.get("file", ""))
        if "file" in spec and not file.endswith(f"/{key}"):
            yield finding(
                f"secret {key} reads {file!r}, not the generated file secrets/{key}",
                doc.line("secrets", key, "file"),
                f"Write `file: ${{SECRETS_DIR:-./secrets}}/{key}`.",
            )
    for key, index in generated.items():
        if key not in top:
            yield finding(
                f"x-homestack secret {key.removeprefix(sid + '_')} is generated but not "
                f"declared under top-level secrets as {key}",
                context.line(service, "x-homestack", "secrets", index, "name"),
                f"Add `secrets: {{{key}: {{file: ${{SECRETS_DIR:-./secrets}}/{key}}}}}` at "
                f"the top level and `- {key}` under the service.",
            )
    for source, index in refs.items():
        if source not in top:
            yield finding(
                f"{sid} uses secret {source!r}, which its file does not declare",
                context.line(service, "secrets", index),
                f"Declare it under top-level secrets (named {sid}_<name>).",
            )


def _subdomain_line(context: LintContext, service: Service) -> int | None:
    web = service.meta.web if service.meta else None
    if web is not None and web.subdomain:
        return context.line(service, "x-homestack", "web", "subdomain")
    return context.line(service, "x-homestack", "web")


@rule("web.subdomain", "each enabled web UI has its own valid subdomain (the proxy's host name)")
def web_subdomain(context: LintContext) -> Iterator[Finding]:
    from ..generate.view import is_host_name  # what generate refuses in DOMAIN

    hosts: dict[str, list[Service]] = {}
    for service in context.services:
        web = service.meta.web if service.meta else None
        if web is None or not service.enabled:
            continue  # the proxy routes enabled services only
        host = web.subdomain or service.id
        if not is_host_name(host):
            yield Finding(
                "web.subdomain",
                Severity.ERROR,
                f"subdomain {host!r} of {service.id} is not a host name: the generated "
                "Caddyfile would not load",
                service.file,
                _subdomain_line(context, service),
                service.id,
                "Use letters, digits and '-' (dots between parts), e.g. `subdomain: chat`.",
            )
            continue
        hosts.setdefault(host.lower(), []).append(service)
    # like ports.conflict: each claimant gets a finding at its own line naming the others,
    # so the fix can be made in whichever file the user prefers
    for host, claimants in hosts.items():
        if len(claimants) < 2:
            continue
        for service in claimants:
            others = ", ".join(
                f"{o.id} ({o.file.name}:{_subdomain_line(context, o)})"
                for o in claimants
                if o is not service
            )
            yield Finding(
                "web.subdomain",
                Severity.ERROR,
                f"{service.id} wants the host {host}.<DOMAIN>, as does {others}: the proxy "
                "cannot route both (caddy refuses the Caddyfile)",
                service.file,
                _subdomain_line(context, service),
                service.id,
                "Give all but one of them another `subdomain:` under x-homestack.web (a "
                "service without one uses its id).",
            )


@rule("web.access", "each web UI says who may open it (x-homestack.web.access)")
def web_access(context: LintContext) -> Iterator[Finding]:
    for service in context.services:
        web = service.meta.web if service.meta else None
        if web is None:
            continue
        if web.access is None:
            yield Finding(
                "web.access",
                Severity.WARNING,
                f"{service.id} does not say who may open its web UI: the proxy treats it as "
                f"`{web.level}`",
                service.file,
                context.line(service, "x-homestack", "web"),
                service.id,
                "Add `access: admin` (group admins, two factors), `access: user` (household, "
                "one factor) or `access: public` (no sign-on; its own login) under "
                "x-homestack.web.",
            )
        elif web.access != "public" and not web.auth:
            yield Finding(
                "web.access",
                Severity.ERROR,
                f"{service.id}: `auth: false` and `access: {web.access}` contradict each other",
                service.file,
                context.line(service, "x-homestack", "web", "access"),
                service.id,
                "Remove `auth:` (access says who may open it), or set `access: public`.",
            )
