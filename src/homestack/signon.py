"""The sign-on proxy network: where the services that trust the proxy's headers meet it.

Grafana (auth proxy), Dozzle (forward-proxy) and Home Assistant (X-Forwarded-For) take the
user from request headers. Any container that reaches them could send those headers, so
they trust one address only: Caddy's fixed address on `signon-proxy`, a small bridge network
that homestack creates with a known subnet. Dynamic addresses come from its upper half
(`ip_range`), so Caddy's (the subnet's second address; the first is the gateway) is never
handed to another container. The subnet is SIGNON_PROXY_SUBNET when set, else derived from
HOMESTACK_PREFIX (a real site: 10.213.0.0/28), so parallel test sites never overlap.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping

SUBNET_SETTING = "SIGNON_PROXY_SUBNET"
#: what compose files and generated configs read: Caddy's address on signon-proxy
ADDRESS_VARIABLE = "HOMESTACK_SIGNON_PROXY"
_POOL = ipaddress.IPv4Network("10.213.0.0/16")
_SIZE = 28


def subnet(env: Mapping[str, str]) -> ipaddress.IPv4Network:
    """The network's subnet; an invalid SIGNON_PROXY_SUBNET raises ValueError."""
    given = env.get(SUBNET_SETTING, "").strip()
    if given:
        net = ipaddress.ip_network(given, strict=True)
        if not isinstance(net, ipaddress.IPv4Network) or net.prefixlen > 29:
            raise ValueError(f"{SUBNET_SETTING}={given} must be an IPv4 network of /29 or wider")
        return net
    prefix = env.get("HOMESTACK_PREFIX", "")
    count = 2 ** (_SIZE - _POOL.prefixlen)
    index = (
        0 if not prefix else 1 + int(hashlib.sha256(prefix.encode()).hexdigest(), 16) % (count - 1)
    )
    start = _POOL.network_address + index * 2 ** (32 - _SIZE)
    return ipaddress.IPv4Network(f"{start}/{_SIZE}")


def proxy_address(net: ipaddress.IPv4Network) -> str:
    """Caddy's fixed address: the second of the subnet (the first is the bridge gateway)."""
    return str(net.network_address + 2)


def ip_range(net: ipaddress.IPv4Network) -> str:
    """Where Docker picks the other containers' addresses: the upper half of the subnet."""
    return str(list(net.subnets(prefixlen_diff=1))[1])
