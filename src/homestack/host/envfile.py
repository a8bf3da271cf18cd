"""The root `.env`, made from `.env.example` on the first run with what the host tells us."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import fsutil
from ..errors import BadInput
from ..fsutil import read_text
from ..serial import Serialised
from ..settings import timezone_problem
from .probe import HostProbe


@dataclass(frozen=True)
class EnvResult(Serialised):
    DATA_EXTRA = ("changed",)
    DATA_ORDER = ("path", "created", "changed", "dry_run")

    path: str
    created: bool
    dry_run: bool = False
    filled: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.created and not self.dry_run


def detect_timezone(probe: HostProbe) -> str | None:
    text = (probe.read("/etc/timezone") or "").strip()
    if text:
        return text.split()[0]
    done = probe.run(["timedatectl", "show", "-p", "Timezone", "--value"], timeout=10)
    if done.ok and done.stdout.strip():
        return done.stdout.strip()
    link = probe.path("/etc/localtime")
    if link.is_symlink():
        target = str(link.readlink())
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    return None


def detect_ids(probe: HostProbe, root: Path) -> tuple[str, str]:
    """PUID/PGID: the sudo caller's, else the repository owner's."""
    uid = probe.env.get("SUDO_UID", "").strip()
    gid = probe.env.get("SUDO_GID", "").strip()
    if uid.isdigit() and gid.isdigit():
        return uid, gid
    info = root.stat()
    return str(info.st_uid), str(info.st_gid)


def lan_interface(probe: HostProbe) -> str | None:
    """The interface of the default route (from /proc/net/route), for IOT_PARENT."""
    for line in (probe.read("/proc/net/route") or "").splitlines()[1:]:
        parts = line.split()
        if len(parts) > 2 and parts[1] == "00000000":
            return parts[0]
    return None


def _set(text: str, key: str, value: str) -> str:
    pattern = re.compile(rf"^{key}=.*$", re.MULTILINE)
    if pattern.search(text):
        return pattern.sub(lambda _: f"{key}={value}", text, count=1)
    return text.rstrip("\n") + f"\n{key}={value}\n"


def ensure_env(root: Path, probe: HostProbe, *, dry_run: bool = False) -> EnvResult:
    """Create `.env` from `.env.example` (TZ, PUID, PGID filled; IOT_* left commented)."""
    target = root / ".env"
    if target.is_file():
        return EnvResult(str(target), created=False, dry_run=dry_run)
    if target.is_symlink():  # never replace the link with a file of our own
        raise BadInput(
            f"{target} is a link to {target.readlink()}, which does not exist",
            "Bring its target back (a mounted disk?), or remove the link so that a new .env "
            "is made from .env.example.",
            file=target,
        )
    if target.exists():
        raise BadInput(
            f"{target} is not a file", "Move it away so that a new .env is made.", file=target
        )
    example = root / ".env.example"
    # its bytes as they are (CRs too: Compose keeps one inside quotes), bad input when unreadable
    text = read_text(example, newline="") if example.is_file() else ""
    filled: dict[str, str] = {}
    notes = []
    tz = detect_timezone(probe)
    problem = timezone_problem(tz) if tz else None
    if tz and problem is not None and problem.severity == "error":
        kept = re.search(r"^TZ=(.*)$", text, re.MULTILINE)
        notes.append(
            f"the host's time zone {tz!r} is not in the tz database, so TZ stays "
            f"{kept.group(1) if kept else 'unset (UTC)'}: set TZ in .env to your zone "
            "(`timedatectl list-timezones` lists them)"
        )
    elif tz:
        filled["TZ"] = tz
    filled["PUID"], filled["PGID"] = detect_ids(probe, root)
    for key, value in filled.items():
        text = _set(text, key, value)
    iface = lan_interface(probe)
    if iface:
        text = re.sub(r"^#\s*IOT_PARENT=.*$", f"# IOT_PARENT={iface}", text, flags=re.MULTILINE)
        notes.append(f"IOT_* left commented; the LAN interface looks like {iface}")
    if not dry_run:
        owner = (int(filled["PUID"]), int(filled["PGID"])) if os.geteuid() == 0 else None
        fsutil.write_atomic(target, text, mode=0o644, owner=owner)
    return EnvResult(str(target), created=True, dry_run=dry_run, filled=filled, notes=tuple(notes))
