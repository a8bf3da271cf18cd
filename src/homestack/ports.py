"""Published ports in Compose's short and long syntax, after interpolation."""

from __future__ import annotations

import re
from dataclasses import dataclass
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

    def label(self) -> str:
        host = ",".join(str(p) for p in self.published) or "auto"
        ip = f"{self.host_ip}:" if self.host_ip else ""
        return f"{ip}{host}->{self.target}/{self.protocol}"


def _range(text: str) -> tuple[int, ...]:
    if not text:
        return ()
    if "-" in text:
        low, high = text.split("-", 1)
        return tuple(range(int(low), int(high) + 1))
    return (int(text),)


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
