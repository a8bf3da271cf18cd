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

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..catalog import Site
from ..engine.model import SERVICE_LABEL, Mount
from ..errors import HomestackError
from .checks import Check, ok, warn

if TYPE_CHECKING:
    from ..engine.backend import Backend

PROC = Path("/proc")


def deleted_mounts(pid: int, mounts: Iterable[Mount], proc: Path = PROC) -> list[str] | None:
    """The targets, inside the container, of mounts whose host folder or file was deleted;
    None when this process cannot look into the container."""
    root = proc / str(pid) / "root"
    gone: list[str] = []
    seen = False
    for mount in mounts:
        target = mount.destination
        if mount.type not in ("bind", "volume") or not target.startswith("/"):
            continue
        try:
            info = (root / target.lstrip("/")).stat()
        except OSError:  # not root, another host's engine, or the container just stopped
            continue
        seen = True
        if info.st_nlink == 0:
            gone.append(target)
    return gone if seen else None


def _what(mount: Mount) -> str:
    if mount.type == "volume":
        return f"volume {mount.name}"
    return mount.source or "?"


def check_mounts(site: Site, backend: Backend) -> list[Check]:
    """One warning per running container of the site that uses a deleted folder or file."""
    projects = {site.project_name(stack) for stack in site.stacks.values()}
    try:
        running = [c.id for c in backend.containers(projects) if c.state == "running"]
        inspected = backend.inspect_many(running)
    except HomestackError as exc:
        return [warn("mounts", "mounts", exc.message, exc.hint)]
    checks: list[Check] = []
    looked = 0
    for box in inspected.values():
        if box.pid <= 0:
            continue
        gone = deleted_mounts(box.pid, box.mounts)
        if gone is None:
            continue
        looked += 1
        if not gone:
            continue
        service = box.labels.get(SERVICE_LABEL) or box.name
        by_target = {m.destination: m for m in box.mounts}
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
