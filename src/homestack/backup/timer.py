"""`homestack backup --install-timer`: a systemd timer (or a cron entry) for backup + prune.

Settings: BACKUP_ON_CALENDAR (systemd, default `*-*-* 03:30:00`), BACKUP_CRON (cron,
default `30 3 * * *`).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..catalog import Site
from ..errors import BadInput, CommandFailed, OperationFailed
from .journal import write_atomic

Scheduler = Literal["auto", "systemd", "cron"]
UNIT = "homestack-backup"
SYSTEMD_DIR = Path("/etc/systemd/system")
CRON_DIR = Path("/etc/cron.d")


@dataclass(frozen=True)
class TimerResult:
    scheduler: str
    files: dict[str, str]
    written: bool
    activated: list[str] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        return asdict(self)


def has_systemd() -> bool:
    return Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None


def enable_now(unit: str) -> list[str]:
    """`systemctl daemon-reload`, then `systemctl enable --now UNIT` (a .timer or .service
    just written): the command lines run, in order; CommandFailed on the first that fails."""
    ran: list[str] = []
    for command in (["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", unit]):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise CommandFailed(command, done.returncode, done.stderr)
        ran.append(" ".join(command))
    return ran


def homestack_command() -> str:
    """The installed console script next to this interpreter, else `python -m`."""
    script = Path(sys.executable).parent / "homestack"
    if script.is_file():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -c 'from homestack.cli import main; main()'"


def render_systemd(site: Site) -> dict[str, str]:
    exe = homestack_command()
    root = shlex.quote(str(site.root))
    calendar = site.root_env.get("BACKUP_ON_CALENDAR", "").strip() or "*-*-* 03:30:00"
    service = f"""[Unit]
Description=homestack: back up every service, then prune old snapshots
Wants=docker.service
After=docker.service network-online.target

[Service]
Type=oneshot
WorkingDirectory={site.root}
ExecStart={exe} --site {root} backup --all
ExecStart={exe} --site {root} prune --all
ExecStart=-{exe} --site {root} outdated --record
# doctor, disk and backup age on the site's channel, whether or not the backups worked
ExecStopPost={exe} --site {root} notify check
Nice=10
IOSchedulingClass=idle
"""
    timer = f"""[Unit]
Description=homestack: nightly backups

[Timer]
OnCalendar={calendar}
RandomizedDelaySec=15min
Persistent=true

[Install]
WantedBy=timers.target
"""
    return {f"{UNIT}.service": service, f"{UNIT}.timer": timer}


def render_cron(site: Site) -> dict[str, str]:
    exe = homestack_command()
    root = shlex.quote(str(site.root))
    schedule = site.root_env.get("BACKUP_CRON", "").strip() or "30 3 * * *"
    if len(schedule.split()) != 5:
        raise BadInput(f"BACKUP_CRON={schedule!r} is not five cron fields", "e.g. 30 3 * * *")
    log = "/var/log/homestack-backup.log"
    line = (
        f"{schedule} root {{ {exe} --site {root} backup --all && "
        f"{exe} --site {root} prune --all; {exe} --site {root} outdated --record; "
        f"{exe} --site {root} notify check; }} "
        f">>{log} 2>&1\n"
    )
    return {UNIT: "# homestack: nightly backups, then prune (written by homestack)\n" + line}


def _check_folder(folder: Path, *, given: bool, scheduler: str) -> None:
    """The folder the files go to is one, or one folder away from being one: a --target
    whose parent is missing is taken for a typo, not made as a chain of folders."""
    if folder.is_dir():
        return
    if folder.exists():
        raise BadInput(
            f"{folder} is not a folder",
            "point --target at a folder" if given else f"move {folder} away, then run again",
        )
    if given:
        if not folder.parent.is_dir():
            raise BadInput(
                f"--target {folder}: its parent folder {folder.parent} does not exist",
                f"check the path for a typo, or create it first (mkdir -p {folder.parent})",
            )
        return  # one new folder, as asked
    what = "systemd" if scheduler == "systemd" else "cron"
    raise OperationFailed(
        f"{folder} does not exist: {what} is not installed on this machine",
        "install cron (sudo apt-get install cron) or use --scheduler systemd"
        if what == "cron"
        else "use --scheduler cron, or --target FOLDER to write the units elsewhere",
    )


def install_timer(
    site: Site,
    *,
    target: Path | None = None,
    dry_run: bool = False,
    scheduler: Scheduler = "auto",
) -> TimerResult:
    use = scheduler if scheduler != "auto" else ("systemd" if has_systemd() else "cron")
    files = render_systemd(site) if use == "systemd" else render_cron(site)
    folder = target or (SYSTEMD_DIR if use == "systemd" else CRON_DIR)
    _check_folder(folder, given=target is not None, scheduler=use)
    placed = {str(folder / name): text for name, text in files.items()}
    if dry_run:
        return TimerResult(use, placed, written=False)
    for path, text in placed.items():
        write_atomic(Path(path), text.encode(), 0o644)
    activated = enable_now(f"{UNIT}.timer") if use == "systemd" and target is None else []
    return TimerResult(use, placed, written=True, activated=activated)
