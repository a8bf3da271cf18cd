"""`homestack install dashboard`: a systemd unit that runs `homestack serve` at boot."""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..backup.journal import write_atomic
from ..backup.timer import SYSTEMD_DIR, enable_now, has_systemd, homestack_command
from ..catalog import Site
from ..errors import BadInput

UNIT = "homestack-dashboard"
DEFAULT_PORT = 8765


@dataclass(frozen=True)
class DashboardInstall:
    files: dict[str, str]
    written: bool
    activated: list[str] = field(default_factory=list)
    skipped: str | None = None
    up_to_date: bool = False

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def changed(self) -> bool:
        return self.written


def listen_settings(site: Site) -> tuple[str, int, str | None]:
    """DASHBOARD_ADDRESS (default 127.0.0.1), DASHBOARD_PORT (8765) and
    DASHBOARD_TRUSTED_PROXY (the one peer whose Remote-User is believed) from .env."""
    env = site.root_env
    address = env.get("DASHBOARD_ADDRESS", "").strip() or "127.0.0.1"
    raw = env.get("DASHBOARD_PORT", "").strip() or str(DEFAULT_PORT)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise BadInput(
            f"DASHBOARD_PORT={raw} is not a port number",
            "Set DASHBOARD_PORT to a free TCP port (1-65535) in .env.",
            file=site.root / ".env",
        )
    proxy = env.get("DASHBOARD_TRUSTED_PROXY", "").strip() or None
    return address, int(raw), proxy


def render_unit(site: Site) -> str:
    exe = homestack_command()
    root = shlex.quote(str(site.root))
    return f"""[Unit]
Description=homestack dashboard (homestack serve)
Wants=docker.service
After=docker.service network-online.target

[Service]
Type=simple
WorkingDirectory={site.root}
ExecStart={exe} --site {root} serve
Restart=on-failure
RestartSec=5
NoNewPrivileges=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
"""


def install_dashboard(
    site: Site, *, target: Path | None = None, dry_run: bool = False
) -> DashboardInstall:
    """Write the unit (to /etc/systemd/system, or `target`), then enable and start it."""
    listen_settings(site)  # a bad DASHBOARD_PORT is refused before anything is written
    folder = target or SYSTEMD_DIR
    path = folder / f"{UNIT}.service"
    text = render_unit(site)
    files = {str(path): text}
    if target is None and not has_systemd():
        return DashboardInstall(files, False, skipped="no systemd on this machine: run "
                                "`homestack serve` by hand or from your init system")  # fmt: skip
    if not folder.is_dir():
        raise BadInput(f"{folder} is not a folder", "Point --target at an existing folder.")
    try:
        same = path.read_text(encoding="utf-8") == text
    except OSError:
        same = False
    if dry_run or same:
        return DashboardInstall(files, False, up_to_date=same)
    write_atomic(path, text.encode(), 0o644)
    activated = enable_now(f"{UNIT}.service") if target is None else []
    return DashboardInstall(files, True, activated)
