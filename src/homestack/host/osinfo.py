"""Which operating system this is (from /etc/os-release) and whether homestack installs on it."""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import OperationFailed
from .probe import HostProbe

#: (ID, VERSION_ID) homestack installs Docker and drivers on
SUPPORTED: tuple[tuple[str, str], ...] = (
    ("debian", "12"),
    ("debian", "13"),
    ("ubuntu", "22.04"),
    ("ubuntu", "24.04"),
)


@dataclass(frozen=True)
class OsRelease:
    id: str = ""
    version_id: str = ""
    codename: str = ""
    pretty: str = "an unknown system"
    id_like: str = ""

    @property
    def supported(self) -> bool:
        return (self.id, self.version_id) in SUPPORTED

    @property
    def apt(self) -> bool:
        return self.id in ("debian", "ubuntu") or "debian" in self.id_like.split()

    def to_data(self) -> dict[str, Any]:
        return {**asdict(self), "supported": self.supported}


def parse_os_release(text: str) -> OsRelease:
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, raw = line.partition("=")
        if not sep or key.strip().startswith("#"):
            continue
        try:
            parts = shlex.split(raw)
        except ValueError:
            parts = [raw.strip("\"'")]
        values[key.strip()] = parts[0] if parts else ""
    return OsRelease(
        id=values.get("ID", "").lower(),
        version_id=values.get("VERSION_ID", ""),
        codename=values.get("VERSION_CODENAME") or values.get("UBUNTU_CODENAME", ""),
        pretty=values.get("PRETTY_NAME") or values.get("NAME") or "an unknown system",
        id_like=values.get("ID_LIKE", ""),
    )


def read_os(probe: HostProbe) -> OsRelease:
    text = probe.read("/etc/os-release") or probe.read("/usr/lib/os-release") or ""
    return parse_os_release(text)


def refuse_unsupported(release: OsRelease, what: str) -> OperationFailed:
    """The refusal for a system homestack does not install on, naming what to do."""
    names = ", ".join(f"{i.capitalize()} {v}" for i, v in SUPPORTED)
    return OperationFailed(
        f"cannot {what} on {release.pretty}: homestack installs on {names} only",
        f"Install {what.removeprefix('install ')} yourself with your system's own packages "
        "(for Docker: Docker Engine and the Compose v2 plugin, see docs.docker.com/engine/"
        "install), then run ./install-stack.sh again: it skips what is already there.",
    )
