"""Published ports: collisions across every stack, ports busy on this host, bind addresses."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..catalog import Service
from ..findings import Finding, Severity
from ..ports import MAX_PORT, PortBinding, parse_ports, port_variable
from .core import LintContext, rule

_ANY = "*"
_PROC = Path("/proc")


def _docker_proxy_ports(proc: Path = _PROC) -> set[tuple[str, int]]:
    """Host ports Docker's userland proxy holds for running containers."""
    held: set[tuple[str, int]] = set()
    for entry in proc.glob("[0-9]*/cmdline"):
        try:
            args = entry.read_bytes().split(b"\0")
        except OSError:
            continue
        if not args or not args[0].endswith(b"docker-proxy"):
            continue
        words = [a.decode(errors="replace") for a in args]
        options = dict(zip(words[1::2], words[2::2], strict=False))
        try:
            held.add((options.get("-proto", "tcp"), int(options.get("-host-port", ""))))
        except ValueError:
            continue
    return held


def _scope(host_ip: str) -> str:
    ip = host_ip.strip("[]")
    return _ANY if ip in ("", "0.0.0.0", "::") else ip  # noqa: S104 - compared, not bound


def _overlap(one: str, other: str) -> bool:
    return _ANY in (one, other) or one == other


@dataclass(frozen=True)
class Published:
    service: Service
    binding: PortBinding
    line: int | None

    @property
    def where(self) -> str:
        return f"{self.service.file.name}:{self.line}"


def _published(context: LintContext) -> Iterator[Published]:
    for service in context.services:
        bindings, _ = parse_ports(context.resolved(service).get("ports"))
        for binding in bindings:
            yield Published(service, binding, context.line(service, "ports", binding.index))


@rule("ports.invalid", "every ports entry can be read (after interpolation)")
def ports_invalid(context: LintContext) -> Iterator[Finding]:
    for service in context.services:
        _, bad = parse_ports(context.resolved(service).get("ports"))
        for index, text in bad:
            yield Finding(
                "ports.invalid",
                Severity.ERROR,
                f"ports entry {text!r} is not [IP:]HOST:CONTAINER[/PROTOCOL]",
                service.file,
                context.line(service, "ports", index),
                service.id,
                'Write it as "${BIND_ADDRESS:-127.0.0.1}:8080:80" (quoted).',
            )


def _set_at(context: LintContext, service: Service, variable: str) -> str | None:
    """Where the service's env gets `variable` from: `file:line`, the environment, or None
    (no layer sets it: the ports entry's default is used)."""
    if variable in os.environ:
        return "the environment homestack runs in"
    where = context.set_by(service, variable)
    return f"{where[0].relative_to(context.site.root)}:{where[1]}" if where else None


@rule("ports.range", "published host ports and container ports are 1-65535")
def ports_range(context: LintContext) -> Iterator[Finding]:
    for item in _published(context):
        yield from _container_range(item)
        outside = [p for p in item.binding.published if not 0 < p <= MAX_PORT]
        if not outside:
            continue
        shown = str(outside[0]) if len(outside) == 1 else f"{outside[0]}-{outside[-1]}"
        why = (
            "Docker would pick a random free port at each start"
            if outside == [0]
            else "Compose refuses it (invalid hostPort)"
        )
        raw_list = item.service.compose.get("ports")
        raw = raw_list[item.binding.index] if isinstance(raw_list, list) else ""
        variable = port_variable(raw)
        where = _set_at(context, item.service, variable) if variable else None
        if variable and where:
            move = f"Set {variable} (from {where}) to a free port"
        elif variable:
            move = (
                f"Change the default of {variable} in {item.service.file.name} (or set "
                f"{variable} in the service's .env) to a free port"
            )
        else:
            move = f"Change the published port in {item.service.file.name} to a free port"
        yield Finding(
            "ports.range",
            Severity.ERROR,
            f"host port {shown}/{item.binding.protocol} of {item.service.id} is not a port "
            f"(1-{MAX_PORT}): {why}",
            item.service.file,
            item.line,
            item.service.id,
            f"{move} between 1 and {MAX_PORT}.",
        )


def _container_range(item: Published) -> Iterator[Finding]:
    """Compose refuses `8080:70000` (invalid containerPort) and `8080:0` (missing a target
    port); the engine refuses a long-syntax `target: 70000` only when the container is made."""
    outside = [p for p in item.binding.target_ports() if not 0 < p <= MAX_PORT]
    if not outside:
        return
    shown = str(outside[0]) if len(outside) == 1 else f"{outside[0]}-{outside[-1]}"
    why = "a target port is missing" if outside == [0] else "invalid containerPort"
    yield Finding(
        "ports.range",
        Severity.ERROR,
        f"container port {shown}/{item.binding.protocol} of {item.service.id} is not a port "
        f"(1-{MAX_PORT}): Compose refuses it ({why})",
        item.service.file,
        item.line,
        item.service.id,
        f"Change the container port in {item.service.file.name} to the port "
        f"{item.service.id} listens on inside its container (1-{MAX_PORT}).",
    )


@rule("ports.conflict", "no host port is published twice, across all stacks, enabled or not")
def ports_conflict(context: LintContext) -> Iterator[Finding]:
    by_port: dict[tuple[str, int], list[Published]] = {}
    for item in _published(context):
        for port in item.binding.published:
            by_port.setdefault((item.binding.protocol, port), []).append(item)
    for (protocol, port), items in by_port.items():
        if len(items) < 2:
            continue
        for item in items:
            scope = _scope(item.binding.host_ip)
            others = [
                o for o in items if o is not item and _overlap(scope, _scope(o.binding.host_ip))
            ]
            if not others:
                continue
            both_on = item.service.enabled and all(o.service.enabled for o in others)
            names = ", ".join(
                f"{o.service.id} ({o.where}{'' if o.service.enabled else ', disabled'})"
                for o in others
            )
            yield Finding(
                "ports.conflict",
                Severity.ERROR if both_on else Severity.WARNING,
                f"host port {port}/{protocol} of {item.service.id}"
                f"{'' if item.service.enabled else ' (disabled)'} is also published by {names}",
                item.service.file,
                item.line,
                item.service.id,
                "Give one of them another host port (its *_PORT variable in the service's "
                ".env), so both can run at once.",
            )


@rule("ports.in-use", "published host ports are free on this machine", Severity.WARNING)
def ports_in_use(context: LintContext) -> Iterator[Finding]:
    if not context.host_ports:
        return
    listening = context.listening
    proxied: set[tuple[str, int]] | None = None
    for item in _published(context):
        scope = _scope(item.binding.host_ip)
        protocol = item.binding.protocol
        for port in item.binding.published:
            holders = listening.get((protocol, port), set())
            if not any(_overlap(scope, _scope(ip)) for ip in holders):
                continue
            severity = Severity.WARNING if item.service.enabled else Severity.INFO
            containers = context.container_ports
            if containers is not None:
                owners = containers.get((protocol, port), set())
                stack = context.site.stacks[item.service.stack]
                if (context.site.project_name(stack), item.service.id) in owners:
                    continue  # its own running container
                owner = (
                    "container " + ", ".join(sorted(f"{p}/{s}" for p, s in owners))
                    if owners
                    else "another program on this machine"
                )
            else:
                if proxied is None:
                    proxied = _docker_proxy_ports()
                if (protocol, port) in proxied:
                    # without the engine we cannot tell whose container it is; most often
                    # the service's own, already running
                    severity = Severity.INFO
                    owner = (
                        f"a running container (fine if it is {item.service.id} itself; "
                        "`homestack validate` without --offline checks)"
                    )
                else:
                    owner = "another program on this machine"
            yield Finding(
                "ports.in-use",
                severity,
                f"host port {port}/{protocol} of {item.service.id} is in use by {owner} "
                f"(listening on {', '.join(sorted(holders))})",
                item.service.file,
                item.line,
                item.service.id,
                "Stop what holds it (`ss -ltnup`) or give the service another host port.",
            )


@rule("ports.all-interfaces", "ports bind to ${BIND_ADDRESS:-127.0.0.1}, not every interface")
def ports_all_interfaces(context: LintContext) -> Iterator[Finding]:
    for item in _published(context):
        if _scope(item.binding.host_ip) != _ANY:
            continue
        raw_list = item.service.compose.get("ports")
        raw = raw_list[item.binding.index] if isinstance(raw_list, list) else ""
        raw_text = str(raw.get("host_ip", "")) if isinstance(raw, dict) else str(raw)
        if "BIND_ADDRESS" in raw_text:
            continue  # the user chose it in .env (e.g. BIND_ADDRESS=0.0.0.0 for the LAN)
        host_ip = item.binding.host_ip
        # no address at all, or 0.0.0.0 / :: written out: an error; set by another variable
        # (resolved only through the env): a warning
        from_variable = bool(host_ip) and host_ip.strip("[]") not in raw_text
        yield Finding(
            "ports.all-interfaces",
            Severity.WARNING if from_variable else Severity.ERROR,
            f"{item.binding.label()} of {item.service.id} is published on every interface",
            item.service.file,
            item.line,
            item.service.id,
            'Prefix the host ip: "${BIND_ADDRESS:-127.0.0.1}:HOST:CONTAINER" (long syntax: '
            "host_ip: ${BIND_ADDRESS:-127.0.0.1}).",
        )


def _loopback(host_ip: str) -> bool:
    try:
        return ipaddress.ip_address(host_ip.strip("[]")).is_loopback
    except ValueError:
        return False  # every interface (""), or a name: beyond loopback


@rule(
    "ports.signon-bypass",
    "a web UI behind sign-on publishes no host port, unless its file opts in (web.publish)",
)
def ports_signon_bypass(context: LintContext) -> Iterator[Finding]:
    """A port published beside the proxy reaches the UI without Caddy and Authelia: with
    BIND_ADDRESS set to the LAN address, the whole LAN skips sign-on. Without an opt-in
    that is an error; with one, a warning once it binds beyond loopback."""
    for item in _published(context):
        web = item.service.meta.web if item.service.meta else None
        if web is None or not web.auth or web.port not in item.binding.target_ports():
            continue
        if not web.publish:
            yield Finding(
                "ports.signon-bypass",
                Severity.ERROR,
                f"{item.binding.label()} publishes the web UI of {item.service.id} beside the "
                "proxy: it is reached there without sign-on",
                item.service.file,
                item.line,
                item.service.id,
                "Remove the ports entry (the UI is reached through the proxy), or opt in "
                "with x-homestack web.publish: true (docs/security.md).",
            )
        elif not _loopback(item.binding.host_ip):
            yield Finding(
                "ports.signon-bypass",
                Severity.WARNING,
                f"{item.binding.label()}: the web UI of {item.service.id} opted in to a host "
                "port (web.publish) that binds beyond loopback: the network reaches it "
                "without sign-on",
                item.service.file,
                item.line,
                item.service.id,
                "Bind it to 127.0.0.1, or drop web.publish and reach it through the proxy.",
            )
