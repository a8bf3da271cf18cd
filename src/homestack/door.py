"""The one door to the LAN: the address Caddy publishes 80/443 on (`LAN_ADDRESS`).

`LAN_ADDRESS` is an IPv4/IPv6 address of this machine, `auto` (the address of the interface
the default route leaves through) or unset/empty (loopback: nothing is served to the LAN, as
before this setting existed). It is separate from `BIND_ADDRESS`, the address the services'
own admin ports bind to, which stays on loopback.

Detection reads /proc/net/route and asks the kernel for the interface's address (an ioctl):
no packet is sent, no process is started.
"""

from __future__ import annotations

import fcntl
import functools
import ipaddress
import socket
import struct
from collections.abc import Mapping
from pathlib import Path

from .errors import BadInput

LOOPBACK = "127.0.0.1"
AUTO = "auto"
#: the plain-HTTP path of the local CA's root certificate on the door (first contact)
CA_PATH = "/ca.crt"
_SIOCGIFADDR = 0x8915


def default_interface(route_table: Path = Path("/proc/net/route")) -> str | None:
    """The interface of the IPv4 default route (destination 0, mask 0), lowest metric."""
    try:
        lines = route_table.read_text(encoding="ascii").splitlines()[1:]
    except OSError:
        return None
    best: tuple[int, str] | None = None
    for line in lines:
        fields = line.split()
        if len(fields) < 8 or fields[1] != "00000000" or fields[7] != "00000000":
            continue
        flags, metric = int(fields[3], 16), int(fields[6])
        if not flags & 0x1:  # RTF_UP
            continue
        if best is None or metric < best[0]:
            best = (metric, fields[0])
    return best[1] if best else None


def interface_address(name: str) -> str | None:
    """The first IPv4 address of the interface `name`, from the kernel (SIOCGIFADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            answer = fcntl.ioctl(
                sock.fileno(), _SIOCGIFADDR, struct.pack("256s", name[:15].encode())
            )
        except OSError:
            return None
    return socket.inet_ntoa(answer[20:24])


@functools.cache
def detect() -> str | None:
    """The LAN address `auto` stands for, or None when there is no default route."""
    name = default_interface()
    return interface_address(name) if name else None


def configured(env: Mapping[str, str]) -> str:
    """LAN_ADDRESS as written: '' (unset), 'auto' or an address."""
    return (env.get("LAN_ADDRESS") or "").strip()


def lan_address(env: Mapping[str, str], *, source: Path | None = None) -> str:
    """The address the door is published on: LAN_ADDRESS resolved (loopback when unset, or
    when `auto` finds no default route). A value that is not an address is bad input."""
    value = configured(env)
    if not value:
        return LOOPBACK
    if value.lower() == AUTO:
        return detect() or LOOPBACK
    try:
        return str(ipaddress.ip_address(value.strip("[]")))
    except ValueError:
        raise BadInput(
            f"LAN_ADDRESS={value!r} is not an address of this machine",
            "Set LAN_ADDRESS to this machine's LAN address (e.g. 192.168.1.10), to `auto` "
            "(the address of the default route's interface) or leave it empty (loopback only).",
            file=source,
        ) from None


def is_lan(address: str) -> bool:
    """True when the door is reachable from other devices (not loopback)."""
    try:
        return not ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def url_host(address: str) -> str:
    """The address as a URL host (IPv6 in brackets)."""
    return f"[{address}]" if ":" in address else address
