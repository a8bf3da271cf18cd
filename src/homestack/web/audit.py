"""The dashboard's audit log: DATA/.homestack/audit.log, one JSON object a line.

Every action a browser (or an API client) asks for is recorded once it has ended: the time,
the user, the action, its target, the result (ok, failed, refused) and a short detail.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..catalog import Site

AUDIT_FILE = Path(".homestack") / "audit.log"


def audit_path(site: Site) -> Path:
    return site.data_root / AUDIT_FILE


def record(site: Site, *, user: str, action: str, target: str, result: str, detail: str) -> None:
    """Append one line; opened with O_NOFOLLOW and O_APPEND, so a planted symlink is refused
    and lines from concurrent writers never interleave."""
    path = audit_path(site)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "user": user,
        "action": action,
        "target": target,
        "result": result,
        "detail": detail[:500],
    }
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, (json.dumps(line) + "\n").encode())
    finally:
        os.close(fd)


def read(site: Site, last: int = 50) -> list[dict[str, Any]]:
    """The last `last` entries, newest first (lines that do not parse are skipped)."""
    try:
        text = audit_path(site).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    entries = []
    for line in text.splitlines()[-last:]:
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    return entries[::-1]
