"""The backup renderer: a failed service shows its error and its fix once (it printed the fix
line twice). The renderer is typed for BackupRun and given a real one."""

from __future__ import annotations

import io

from rich.console import Console

from homestack.backup.results import BackupResult, BackupRun
from homestack.cli.backup_cmds import _render_backup


def test_a_failed_backup_names_its_fix_once() -> None:
    run = BackupRun(
        [BackupResult("jellyfin", "media", ok=False, error="restic failed", hint="Free space.")]
    )
    screen = io.StringIO()
    _render_backup(run, Console(file=screen, width=200, highlight=False))
    lines = screen.getvalue().splitlines()
    assert lines == ["jellyfin: backup FAILED: restic failed", "  fix: Free space."]
