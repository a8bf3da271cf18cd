"""Doctor checks that need the network: host ports, networks, segregation, name resolution."""

from __future__ import annotations

import errno
import os
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..catalog import Service, Site
from ..engine import docker as engine
from ..engine.model import SERVICE_LABEL
from ..errors import HomestackError
from ..ports import MAX_PORT, PortBinding, port_variable, proc_sockets
from ..resolved import Resolved, resolve
from .checks import Check, fail, ok, warn

if TYPE_CHECKING:
    from ..engine.backend import Backend

PROBE_TIMEOUT_S = 1


# ---- ports --------------------------------------------------------------------------------


def _listening_inodes(protocol: str, port: int) -> set[str]:
    """The inodes of the sockets on this host port: TCP listening, UDP any (a client's
    socket bound to it holds the port too)."""
    return {s.inode for s in proc_sockets() if s.protocol == protocol and s.port == port}


def port_holder(protocol: str, port: int) -> str | None:
    """`name (pid N)` of the process listening on a host port, when /proc tells."""
    inodes = {f"socket:[{inode}]" for inode in _listening_inodes(protocol, port)}
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fds = list((proc / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if str(fd.readlink()) in inodes:
                    comm = (proc / "comm").read_text().strip()
                    return f"{comm} (pid {proc.name})"
            except OSError:
                continue  # closed meanwhile
    return None


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _bind_error(host_ip: str, port: int, protocol: str) -> int | None:
    """None when the port could be bound now (it is free), else the errno."""
    address = host_ip or "0.0.0.0"  # noqa: S104 - a test bind, closed at once
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
    with socket.socket(family, kind) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except socket.gaierror:  # not an IP address at all: a typo in BIND_ADDRESS
            return errno.EADDRNOTAVAIL
        except OSError as exc:
            return exc.errno
    return None


def service_bindings(
    site: Site, service: Service, resolved: Resolved | None = None
) -> list[tuple[PortBinding, Any]]:
    """Its published ports as Compose reads them (resolved once by the caller, if given),
    each with the entry as written."""
    raw = service.compose.get("ports") or []
    bindings = (resolved or resolve(site, [service])).of(service).ports
    return [(b, raw[b.index] if b.index < len(raw) else None) for b in bindings]


def _setting_place(site: Site, service: Service, variable: str) -> str:
    """Where setting `variable` takes effect for the service: the process environment when
    it is exported there (it wins), else the .env of the last layer that sets it (a
    service's own .env overrides the stack's and the root's), else the root .env."""
    from ..settings import read_env

    if variable in os.environ:
        return "the environment (exported there, it wins over every .env)"
    for path in reversed(site.env_files(site.stacks[service.stack], [service])):
        layer = read_env(path)
        if layer is None or variable not in layer.lines:
            continue
        target = path.with_name(".env")  # a .env.example is read only while .env is missing
        try:
            shown = str(target.relative_to(site.root))
        except ValueError:
            shown = str(target)
        if path.parent == site.root:
            return shown
        return f"{shown} (set there, it wins over the root .env)"
    return ".env"


def check_ports(
    site: Site,
    services: list[Service],
    backend: Backend | None,
    resolved: Resolved | None = None,
) -> list[Check]:
    """Each enabled service's host ports: free, or held by that same service (the engine's
    containers asked through `backend`; None: no engine answers, only this host's sockets).
    `resolved`: the services resolved once by the caller (`up`)."""
    held = backend.port_holders() if backend is not None else {}
    checks: list[Check] = []
    for service in services:
        project = site.project_name(site.stacks[service.stack])
        notes: list[str] = []
        problems: list[tuple[str, str]] = []
        for binding, raw in service_bindings(site, service, resolved):
            variable = port_variable(raw)
            move = (
                f"set {variable} to a free port in {_setting_place(site, service, variable)}"
                if variable
                else f"change the published port in {service.file.name}"
            )
            for port in binding.published:
                label = f"{binding.host_ip or '*'}:{port}/{binding.protocol}"
                if not 0 < port <= MAX_PORT:  # bind() raised OverflowError: doctor crashed
                    bad = f"{label}: {port} is not a port (1-{MAX_PORT})"
                    problems.append((bad, _sentence(move)))
                    continue
                owners = held.get((binding.protocol, port), [])
                if any(o[0] == project and o[1] == service.id for o in owners):
                    notes.append(f"{label} held by {service.id}")
                    continue
                if owners:
                    problems.append(
                        (
                            f"{label} is taken by container {owners[0][2]}",
                            f"Stop {owners[0][2]}, or {move}.",
                        )
                    )
                    continue
                error = _bind_error(binding.host_ip, port, binding.protocol)
                if error is None:
                    notes.append(f"{label} free")
                elif error == errno.EADDRINUSE:
                    who = port_holder(binding.protocol, port) or "another process"
                    problems.append((f"{label} is taken by {who}", f"Stop {who}, or {move}."))
                elif error == errno.EADDRNOTAVAIL:
                    problems.append(
                        (
                            f"{binding.host_ip} is not an address of this host",
                            "Set BIND_ADDRESS in .env to 127.0.0.1 or this host's LAN address.",
                        )
                    )
                else:
                    notes.append(f"{label} not tested ({os.strerror(error)})")
        if problems:
            checks.append(
                fail(
                    "ports",
                    f"ports {service.id}",
                    "; ".join(p[0] for p in problems),
                    " ".join(dict.fromkeys(p[1] for p in problems)),
                )
            )
        elif notes:
            checks.append(ok("ports", f"ports {service.id}", ", ".join(notes)))
    return checks


# ---- networks -----------------------------------------------------------------------------


def check_networks(
    site: Site, services: list[Service], backend: Backend
) -> tuple[list[Check], list[str]]:
    """The networks the enabled services join: present, right driver and subnet.

    Returns the checks and the engine names of the bridge networks that are present and right.
    """
    from ..deploy.networks import drift, wanted_specs

    try:
        specs = wanted_specs(site, services)
    except HomestackError as exc:
        return [fail("networks", "networks", exc.message, exc.hint)], []
    checks: list[Check] = []
    good: list[str] = []
    for spec in specs:
        found = backend.network(spec.name)
        if found is None:
            checks.append(
                fail(
                    "networks",
                    f"network {spec.name}",
                    "missing",
                    "Run `homestack install networks`.",
                )
            )
            continue
        differs = drift(spec, found)
        if differs:
            setting = f", or set {spec.setting} in .env to match" if spec.setting else ""
            checks.append(
                fail(
                    "networks",
                    f"network {spec.name}",
                    "; ".join(differs),
                    f"Stop the services on it, `docker network rm {spec.name}`, then "
                    f"`homestack install networks`{setting}.",
                )
            )
            continue
        subnets = ", ".join(found.subnets) or "no subnet"
        checks.append(ok("networks", f"network {spec.name}", f"{found.driver}, {subnets}"))
        if found.driver == "bridge":
            good.append(spec.name)
    return checks, good


# ---- segregation and name resolution ------------------------------------------------------


@dataclass(frozen=True)
class Member:
    container: str
    service: str
    networks: dict[str, str]  # network name → IPv4 address


def site_members(site: Site, backend: Backend) -> list[Member]:
    """Running containers of the site's projects with their addresses."""
    projects = {site.project_name(stack) for stack in site.stacks.values()}
    return [
        Member(
            box.name or "?",
            box.labels.get(SERVICE_LABEL, "?"),
            {name: address for name, address in box.networks.items() if address},
        )
        for box in backend.containers(projects)
        if box.state == "running"
    ]


def probe_script(reach: list[tuple[str, str]], names: list[str]) -> str:
    """Shell for the probe: ping each (key, ip) and look up each name, all at once."""
    limit = PROBE_TIMEOUT_S
    parts = [
        f"(ping -c1 -W{limit} {ip} >/dev/null 2>&1 && echo 'REACH {key}' || echo 'BLOCK {key}') &"
        for key, ip in reach
    ]
    parts += [
        f"(timeout {limit + 1} nslookup {name} >/dev/null 2>&1 && echo 'NAME-OK {name}' "
        f"|| echo 'NAME-FAIL {name}') &"
        for name in names
    ]
    return " ".join([*parts, "wait"])


def _probe_network(
    api: Any, image: str, network: str, members: list[Member], prefix: str
) -> list[Check]:
    inside = [m for m in members if network in m.networks]
    outside = [m for m in members if network not in m.networks]
    reach: list[tuple[str, str]] = []
    if inside:
        reach.append(("control", inside[0].networks[network]))
    for member in outside:
        other_net, ip = next(iter(sorted(member.networks.items())))
        reach.append((f"{member.container}@{other_net}", ip))
    names = sorted({m.service for m in inside})
    if not reach and not names:
        return []
    name = f"{prefix}homestack-probe-{uuid.uuid4().hex[:8]}"
    _, output = engine.run_probe(api, image, network, probe_script(reach, names), name=name)
    seen: dict[str, str] = {}
    for line in output.splitlines():
        verdict, _, key = line.strip().partition(" ")
        if key:
            seen[key] = verdict
    checks: list[Check] = []
    if outside:
        reached = [key for key, _ in reach if key != "control" and seen.get(key) == "REACH"]
        if inside and seen.get("control") != "REACH":
            checks.append(
                warn(
                    "segregation",
                    f"segregation {network}",
                    "cannot judge: the probe could not ping a container on its own network",
                    "Allow ICMP inside Docker networks (NET_RAW for the probe) and run again.",
                )
            )
        elif reached:
            checks.append(
                fail(
                    "segregation",
                    f"segregation {network}",
                    "from this network a probe reached " + ", ".join(reached),
                    'Keep Docker\'s network isolation on (no `"iptables": false` in '
                    "/etc/docker/daemon.json; restart dockerd) and make sure those services "
                    "join only the networks their compose files declare.",
                )
            )
        else:
            checks.append(
                ok(
                    "segregation",
                    f"segregation {network}",
                    f"cannot reach the {len(outside)} container(s) of other networks",
                )
            )
    if names:
        failed = [n for n in names if seen.get(n) != "NAME-OK"]
        if failed:
            checks.append(
                fail(
                    "dns",
                    f"names on {network}",
                    "do not resolve: " + ", ".join(failed),
                    "Recreate them with `homestack up` so Compose attaches them with their "
                    "service name; check their `networks:` in the compose file.",
                )
            )
        else:
            checks.append(ok("dns", f"names on {network}", "resolve: " + ", ".join(names)))
    return checks


def check_segregation(site: Site, networks: list[str], backend: Backend) -> list[Check]:
    """A probe container per stack network: others' services unreachable, own ones named."""
    if not networks:
        return []
    members = site_members(site, backend)
    if not members:
        return [ok("segregation", "segregation", "nothing is running; nothing to probe")]
    try:
        from ..standin_image import ensure_image

        image = ensure_image()
    except HomestackError as exc:
        return [warn("segregation", "segregation", f"no probe image: {exc.message}", exc.hint)]
    api = engine.api_client()  # the probe container: no Backend method (a diagnosis)
    with ThreadPoolExecutor(max_workers=len(networks)) as pool:
        parts = pool.map(
            lambda net: _probe_network(api, image, net, members, site.prefix), networks
        )
        return [check for part in parts for check in part]
