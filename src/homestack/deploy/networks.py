"""`homestack install networks`: the seed's bridge networks and the optional iot_macvlan.

Each network is checked against what already exists before anything is created: a network
with the same name but another driver, subnet or parent is drift (an error with the fix),
and a requested subnet that overlaps another Docker network is refused. Only then are the
missing networks created, labelled as homestack's. Networks are never removed or replaced.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..catalog import IOT_NETWORK, SIGNON_NETWORK, Service, Site
from ..engine.params import NetworkParams
from ..errors import BadInput
from ..plan import networks_for
from ..serial import entry
from .report import StepReport

if TYPE_CHECKING:
    from ..engine.backend import Backend
    from ..engine.docker import NetworkInfo

IOT_KEYS = ("IOT_PARENT", "IOT_SUBNET", "IOT_GATEWAY")
Net = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class NetworkSpec:
    """What one network must look like."""

    key: str  # the seed's name, e.g. ai-services
    name: str  # the engine's name (with the site prefix)
    driver: str = "bridge"
    subnet: str | None = None
    gateway: str | None = None
    ip_range: str | None = None
    parent: str | None = None
    setting: str | None = None  # the env variable that sets the subnet, for hints

    def options(self) -> dict[str, str]:
        return {"parent": self.parent} if self.parent else {}

    def params(self, labels: dict[str, str]) -> NetworkParams:
        """What the engine is asked to make for it, labelled with these."""
        return NetworkParams(
            self.driver, self.subnet, self.gateway, self.ip_range, self.options(), labels
        )


@dataclass(frozen=True)
class NetworkChange:
    name: str
    action: str  # create, unchanged
    driver: str
    subnet: str | None = None
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class NetworksReport(StepReport):
    changes: list[NetworkChange] = field(default_factory=list, metadata=entry(key="networks"))

    DATA_ORDER = ("created", "unchanged", "changed", "dry_run", "networks")


#: what `install networks` says on a swarm site (DEPLOY_MODE=swarm)
SWARM_NOTE = (
    "DEPLOY_MODE=swarm: each stack's network is an attachable overlay that `homestack up` "
    "makes on the swarm; no bridge network is made here"
)


def subnet_setting(network: str) -> str:
    """The optional env variable that pins a bridge network's subnet: AI_SERVICES_SUBNET …"""
    return network.upper().replace("-", "_") + "_SUBNET"


def _span(net: Net) -> tuple[int, int, int]:
    return net.version, int(net.network_address), int(net.broadcast_address)


def _inside(inner: Net, outer: Net) -> bool:
    v1, low1, high1 = _span(inner)
    v2, low2, high2 = _span(outer)
    return v1 == v2 and low2 <= low1 and high1 <= high2


def _overlap(one: Net, two: Net) -> bool:
    v1, low1, high1 = _span(one)
    v2, low2, high2 = _span(two)
    return v1 == v2 and low1 <= high2 and low2 <= high1


def _parse_net(value: str, setting: str, root: Path) -> Net:
    try:
        return ipaddress.ip_network(value.strip(), strict=True)
    except ValueError as exc:
        raise BadInput(
            f"{setting}={value} is not a network in CIDR form: {exc}",
            f"Write {setting} like 172.30.0.0/24 (host bits zero) in .env.",
            file=root / ".env",
        ) from None


def iot_spec(site: Site) -> NetworkSpec | None:
    """The macvlan spec from IOT_* in the root env, or None when IOT_* is not set at all."""
    env = site.root_env
    given = {key: env.get(key, "").strip() for key in (*IOT_KEYS, "IOT_IP_RANGE")}
    if not any(given[key] for key in IOT_KEYS):
        return None
    missing = [key for key in IOT_KEYS if not given[key]]
    if missing:
        raise BadInput(
            f"iot_macvlan is half configured: {', '.join(missing)} not set",
            "Set IOT_PARENT, IOT_SUBNET and IOT_GATEWAY together in .env (IOT_IP_RANGE is "
            "optional), or comment all of them out to skip the network.",
            file=site.root / ".env",
        )
    subnet = _parse_net(given["IOT_SUBNET"], "IOT_SUBNET", site.root)
    try:
        gateway = ipaddress.ip_address(given["IOT_GATEWAY"])
    except ValueError:
        raise BadInput(
            f"IOT_GATEWAY={given['IOT_GATEWAY']} is not an IP address",
            "Set IOT_GATEWAY to your LAN router's address, e.g. 192.168.1.1.",
            file=site.root / ".env",
        ) from None
    if gateway not in subnet:
        raise BadInput(
            f"IOT_GATEWAY={gateway} is outside IOT_SUBNET={subnet}",
            "The gateway is the LAN router's address inside IOT_SUBNET.",
            file=site.root / ".env",
        )
    ip_range = None
    if given["IOT_IP_RANGE"]:
        parsed = _parse_net(given["IOT_IP_RANGE"], "IOT_IP_RANGE", site.root)
        if not _inside(parsed, subnet):
            raise BadInput(
                f"IOT_IP_RANGE={parsed} is not inside IOT_SUBNET={subnet}",
                "Pick a small range of IOT_SUBNET that the LAN's DHCP server does not hand "
                "out, e.g. the top /27.",
                file=site.root / ".env",
            )
        ip_range = str(parsed)
    parent = given["IOT_PARENT"]
    if not (Path("/sys/class/net") / parent).exists():
        raise BadInput(
            f"IOT_PARENT={parent}: no such network interface on this host",
            "Set IOT_PARENT to the LAN interface (see `ip -br link`).",
            file=site.root / ".env",
        )
    return NetworkSpec(
        IOT_NETWORK,
        site.network_name(IOT_NETWORK),
        "macvlan",
        str(subnet),
        str(gateway),
        ip_range,
        parent,
        "IOT_SUBNET",
    )


def wanted_specs(site: Site, services: list[Service] | None) -> list[NetworkSpec]:
    """The networks these services join (every shared bridge when services is None)."""
    every = [n for n in site.networks if n != IOT_NETWORK]
    keys = every if services is None else networks_for(site, services)
    # IOT_* is read only when needed: a stale IOT_PARENT does not block the other networks
    iot = iot_spec(site) if services is None or IOT_NETWORK in keys else None
    if services is None and iot is not None:
        keys.append(IOT_NETWORK)
    specs: list[NetworkSpec] = []
    env = site.root_env
    for key in keys:
        if key == IOT_NETWORK:
            if iot is None:
                raise BadInput(
                    "a service joins iot_macvlan but IOT_PARENT, IOT_SUBNET and IOT_GATEWAY "
                    "are not set",
                    "Set them in .env, or remove iot_macvlan from the service's networks.",
                    file=site.root / ".env",
                )
            specs.append(iot)
            continue
        if key == SIGNON_NETWORK:
            specs.append(_signon_spec(site))
            continue
        setting = subnet_setting(key)
        subnet = env.get(setting, "").strip() or None
        if subnet:
            subnet = str(_parse_net(subnet, setting, site.root))
        specs.append(NetworkSpec(key, site.network_name(key), "bridge", subnet, setting=setting))
    return specs


def _signon_spec(site: Site) -> NetworkSpec:
    """signon-proxy: a known subnet, dynamic addresses from its upper half, so Caddy's fixed
    address (the one the header-trusting services trust) is never another container's."""
    from .. import signon

    try:
        net = signon.subnet(site.root_env)
    except ValueError as exc:
        raise BadInput(
            f"{signon.SUBNET_SETTING}: {exc}",
            f"Write {signon.SUBNET_SETTING} like 10.213.0.0/28 in .env, or remove it (a "
            "default is derived from HOMESTACK_PREFIX).",
            file=site.root / ".env",
        ) from None
    return NetworkSpec(
        SIGNON_NETWORK,
        site.network_name(SIGNON_NETWORK),
        "bridge",
        str(net),
        ip_range=signon.ip_range(net),
        setting=signon.SUBNET_SETTING,
    )


def drift(spec: NetworkSpec, found: NetworkInfo) -> list[str]:
    """How an existing network differs from the spec (empty: it is fine to use)."""
    differs: list[str] = []
    if found.driver != spec.driver:
        differs.append(f"driver is {found.driver}, expected {spec.driver}")
    if spec.subnet:
        want = ipaddress.ip_network(spec.subnet)
        have = [ipaddress.ip_network(s, strict=False) for s in found.subnets]
        if want not in have:
            shown = ", ".join(found.subnets) or "none"
            differs.append(f"subnet is {shown}, expected {spec.subnet}")
        pool = next((p for p in found.pools if p.subnet == spec.subnet), None)
        if pool and spec.gateway and pool.gateway and pool.gateway.split("/")[0] != spec.gateway:
            differs.append(f"gateway is {pool.gateway}, expected {spec.gateway}")
        if pool and spec.ip_range and pool.ip_range != spec.ip_range:
            differs.append(f"ip range is {pool.ip_range or 'unset'}, expected {spec.ip_range}")
    if spec.parent and found.parent != spec.parent:
        differs.append(f"parent is {found.parent or 'unset'}, expected {spec.parent}")
    return differs


def _drift_error(spec: NetworkSpec, found: NetworkInfo, differs: list[str]) -> BadInput:
    users = f" (used by {', '.join(found.containers)})" if found.containers else ""
    setting = f", or change {spec.setting} in .env to match" if spec.setting else ""
    return BadInput(
        f"network {spec.name} exists but differs: {'; '.join(differs)}{users}",
        f"homestack never replaces a network: stop what uses it, remove it with "
        f"`docker network rm {spec.name}` and run `homestack install networks` again"
        f"{setting}.",
    )


def _overlaps(specs: list[NetworkSpec], existing: list[NetworkInfo]) -> None:
    requested: list[tuple[NetworkSpec, Net]] = [
        (s, ipaddress.ip_network(s.subnet)) for s in specs if s.subnet
    ]
    for index, (spec, net) in enumerate(requested):
        for other, other_net in requested[index + 1 :]:
            if _overlap(net, other_net):
                raise BadInput(
                    f"subnet {net} of {spec.name} overlaps {other_net} of {other.name}",
                    f"Give {spec.setting} and {other.setting} separate ranges in .env.",
                )
        for found in existing:
            if found.name == spec.name:
                continue
            for text in found.subnets:
                try:
                    have = ipaddress.ip_network(text, strict=False)
                except ValueError:
                    continue
                if _overlap(have, net):
                    raise BadInput(
                        f"subnet {net} for {spec.name} overlaps {have} of the existing Docker "
                        f"network {found.name}; nothing was created",
                        f"Pick a free range for {spec.setting} in .env (`docker network "
                        "inspect` shows what each network uses).",
                    )


def ensure_networks(
    site: Site,
    services: list[Service] | None = None,
    *,
    dry_run: bool = False,
    backend: Backend | None = None,
) -> NetworksReport:
    """Create the missing seed networks; check the existing ones. Idempotent. On a swarm
    site nothing: the stacks' networks are overlays `up` makes (a note says so).
    `backend`: the context's (default: engine.backend.default_backend())."""
    from ..engine.backend import default_backend
    from ..engine.model import MANAGED_LABEL, SITE_LABEL
    from ..swarm import is_swarm

    if is_swarm(site):
        return NetworksReport(notes=[SWARM_NOTE], dry_run=dry_run)
    engine = backend or default_backend()
    specs = wanted_specs(site, services)
    existing = engine.networks()
    by_name = {n.name: n for n in existing}
    missing: list[NetworkSpec] = []
    changes: list[NetworkChange] = []
    notes: list[str] = []
    unchanged: list[str] = []
    for spec in specs:
        found = by_name.get(spec.name)
        if found is None:
            missing.append(spec)
            continue
        differs = drift(spec, found)
        if differs:  # inspect once more: the list does not say who uses the network
            raise _drift_error(spec, engine.network(spec.name) or found, differs)
        unchanged.append(spec.name)
        changes.append(
            NetworkChange(spec.name, "unchanged", found.driver, ", ".join(found.subnets) or None)
        )
        owner_site = found.labels.get(SITE_LABEL)
        if found.labels.get(MANAGED_LABEL) != "1":
            notes.append(f"{spec.name} was not created by homestack; it matches and is used")
        elif owner_site and owner_site != str(site.root):
            notes.append(f"{spec.name} was created for the site at {owner_site}; it is shared")
    _overlaps(missing, existing)
    created: list[str] = []
    labels = {MANAGED_LABEL: "1", SITE_LABEL: str(site.root)}
    for spec in missing:
        detail = f"parent {spec.parent}" if spec.parent else ""
        if not dry_run:
            made = engine.create_network(spec.name, spec.params(labels))
            subnet = ", ".join(made.subnets) or spec.subnet
        else:
            subnet = spec.subnet
        created.append(spec.name)
        changes.append(NetworkChange(spec.name, "create", spec.driver, subnet, detail))
    return NetworksReport(
        created=created, unchanged=unchanged, changes=changes, notes=notes, dry_run=dry_run
    )
