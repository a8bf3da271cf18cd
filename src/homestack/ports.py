"""Published ports in Compose's short and long syntax, after interpolation, and the ports
this machine listens on (/proc/net)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SHORT = re.compile(
    r"^(?:(?P<ip>\[[^\]]*\]|[^:\[\]]*):)??(?:(?P<published>[\d-]*):)?(?P<target>[\d-]+)"
    r"(?:/(?P<proto>\w+))?$"
)


@dataclass(frozen=True)
class PortBinding:
    host_ip: str  # "" means every interface
    published: tuple[int, ...]  # host ports; empty when Docker picks one
    target: str
    protocol: str
    index: int  # position in the service's ports list

    @property
    def all_interfaces(self) -> bool:
        return self.host_ip in ("", "0.0.0.0", "::", "[::]")  # noqa: S104 - we detect, not bind

    def target_ports(self) -> tuple[int, ...]:
        """The container ports (`80`, `8000-8002`); empty when the text is none."""
        try:
            return _range(self.target)
        except ValueError:
            return ()

    def label(self) -> str:
        host = ",".join(str(p) for p in self.published) or "auto"
        ip = f"{self.host_ip}:" if self.host_ip else ""
        return f"{ip}{host}->{self.target}/{self.protocol}"


#: the highest port number; a host or container port outside 1-MAX_PORT is lint's ports.range
MAX_PORT = 65535


def _range(text: str) -> tuple[int, ...]:
    """The host ports of `8080`, `8000-8002` (or `-5`, `70000`: kept for ports.range to
    name); ValueError for text that is no port or range, or a range wider than every port
    (1-4294967295 would have been four billion numbers)."""
    if not text:
        return ()
    if text.startswith("-"):  # a negative number (ValueError for -5-10)
        return (int(text),)
    low, dash, high = text.partition("-")
    first = int(low)
    last = int(high) if dash else first
    if not 0 <= last - first <= MAX_PORT:
        raise ValueError(f"not a port range: {text}")
    return tuple(range(first, last + 1))


def port_variable(raw: Any) -> str | None:
    """The variable a ports entry (as written, before interpolation) takes its host port
    from, e.g. WEB_PORT in "${BIND_ADDRESS:-127.0.0.1}:${WEB_PORT:-8080}:80"."""
    from .settings import variables_in

    text = str(raw.get("published", "")) if isinstance(raw, dict) else str(raw)
    names = [name for name, _ in variables_in(text) if name != "BIND_ADDRESS"]
    return names[0] if names else None


def parse_ports(entries: Any) -> tuple[list[PortBinding], list[tuple[int, str]]]:
    """Bindings, and (index, text) for entries that cannot be read."""
    bindings: list[PortBinding] = []
    bad: list[tuple[int, str]] = []
    if not isinstance(entries, list):
        return bindings, bad
    for index, entry in enumerate(entries):
        try:
            if isinstance(entry, dict):
                published = str(entry.get("published", "") or "")
                bindings.append(
                    PortBinding(
                        str(entry.get("host_ip", "") or ""),
                        _range(published),
                        str(entry.get("target", "")),
                        str(entry.get("protocol", "tcp") or "tcp"),
                        index,
                    )
                )
                continue
            text = str(entry)
            match = _SHORT.match(text)
            if not match:
                bad.append((index, text))
                continue
            ip = (match["ip"] or "").strip("[]")
            bindings.append(
                PortBinding(
                    ip,
                    _range(match["published"] or ""),
                    match["target"],
                    match["proto"] or "tcp",
                    index,
                )
            )
        except ValueError:
            bad.append((index, str(entry)))
    return bindings, bad


_PROC = Path("/proc")


def _hex_ip(text: str) -> str:
    raw = bytes.fromhex(text)
    # the kernel prints each 32-bit word in host (little-endian) order
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(words)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(address)


@dataclass(frozen=True)
class ProcSocket:
    """One socket of /proc/net: a TCP one in LISTEN, or a UDP one."""

    protocol: str  # tcp or udp (the IPv6 files included)
    address: str  # the local address as the kernel prints it (hex)
    port: int
    connected: bool  # UDP with a remote end: a client's socket, not a server's
    inode: str


def proc_sockets(proc: Path = _PROC) -> Iterator[ProcSocket]:
    """The listening TCP and the UDP sockets of /proc/net/{tcp,tcp6,udp,udp6} (binds
    nothing); an unreadable file or line is passed over."""
    for name, protocol in (("tcp", "tcp"), ("tcp6", "tcp"), ("udp", "udp"), ("udp6", "udp")):
        try:
            lines = (proc / "net" / name).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if protocol == "tcp" and state != "0A":  # TCP_LISTEN
                continue
            try:
                ip_hex, port_hex = local.split(":")
                port = int(port_hex, 16)
            except ValueError:
                continue
            connected = protocol == "udp" and not remote.endswith(":0000")
            yield ProcSocket(protocol, ip_hex, port, connected, inode)


def listening_sockets(proc: Path = _PROC) -> dict[tuple[str, int], set[str]]:
    """(protocol, port) → local addresses listening, read from /proc/net (binds nothing)."""
    found: dict[tuple[str, int], set[str]] = {}
    for sock in proc_sockets(proc):
        if sock.connected:
            continue  # a connected UDP socket, not a server
        try:
            found.setdefault((sock.protocol, sock.port), set()).add(_hex_ip(sock.address))
        except ValueError:
            continue
    return found
