"""Doctor check: a running container still uses a DATA folder or secret deleted on the host.

A container keeps the folder or file it was started with. When `DATA/{service}` or a secret
is deleted (by mistake, or by hand to start over) and made again (`homestack up` does that),
the running container still holds the deleted one: what it writes goes nowhere anyone can see,
and a new secret is not what it reads. Docker reports nothing; the container stays healthy.
A restart mounts what is on the host now.

Seen from the host as root through /proc/PID/root: a mount whose target has no link left
(st_nlink 0) was deleted. Where /proc/PID/root cannot be read (not root, a remote engine) the
check says it was not done.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..catalog import Site
from ..engine import docker as engine
from ..errors import HomestackError
from .checks import Check, ok, warn

PROC = Path("/proc")


def deleted_mounts(pid: int, mounts: list[dict[str, Any]], proc: Path = PROC) -> list[str] | None:
    """The targets, inside the container, of mounts whose host folder or file was deleted;
    None when this process cannot look into the container."""
    root = proc / str(pid) / "root"
    gone: list[str] = []
    seen = False
    for mount in mounts:
        target = str(mount.get("Destination") or "")
        if mount.get("Type") not in ("bind", "volume") or not target.startswith("/"):
            continue
        try:
            info = (root / target.lstrip("/")).stat()
        except OSError:  # not root, another host's engine, or the container just stopped
            continue
        seen = True
        if info.st_nlink == 0:
            gone.append(target)
    return gone if seen else None


def _what(mount: dict[str, Any]) -> str:
    if mount.get("Type") == "volume":
        return f"volume {mount.get('Name')}"
    return str(mount.get("Source") or "?")


def check_mounts(site: Site, api: Any) -> list[Check]:
    """One warning per running container of the site that uses a deleted folder or file."""
    projects = {site.project_name(stack) for stack in site.stacks.values()}
    try:
        rows = [
            row
            for row in engine.project_containers(api, projects)
            if str(row.get("State") or "") == "running"
        ]
        inspected = engine.inspect_many(api, [str(row.get("Id")) for row in rows])
    except HomestackError as exc:
        return [warn("mounts", "mounts", exc.message, exc.hint)]
    checks: list[Check] = []
    looked = 0
    for raw in inspected.values():
        pid = raw.get("State", {}).get("Pid")
        mounts = [m for m in raw.get("Mounts") or [] if isinstance(m, dict)]
        if not isinstance(pid, int) or pid <= 0:
            continue
        gone = deleted_mounts(pid, mounts)
        if gone is None:
            continue
        looked += 1
        if not gone:
            continue
        labels = raw.get("Config", {}).get("Labels") or {}
        service = str(labels.get(engine.SERVICE_LABEL) or raw.get("Name", "").lstrip("/"))
        by_target = {str(m.get("Destination")): m for m in mounts}
        listed = ", ".join(f"{t} ({_what(by_target[t])})" for t in gone)
        checks.append(
            warn(
                "mounts",
                f"mounts {service}",
                f"{service} still uses what was deleted on the host since it started: {listed}; "
                "what it writes there is lost and a secret made again is not what it reads",
                f"Restart it so it uses the folder and files there now: "
                f"`homestack restart {service}`. If its data was lost, "
                f"`homestack restore {service}` puts back the last backup.",
            )
        )
    if checks:
        return checks
    if looked == 0:
        return (
            [ok("mounts", "mounts", "not checked: the containers' files cannot be seen from here")]
            if inspected
            else []
        )
    detail = f"{looked} running container(s) use the folders and files on the host now"
    return [ok("mounts", "mounts", detail)]
