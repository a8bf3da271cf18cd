"""`ls` and `plan` stay instant (< 300 ms at 200 services, benchmarks/cli_latency.py): every
command looks for what a killed backup left, and that look must not pull in the backup
package (restic, restore, timer: ~75 ms of imports) when there is nothing to recover."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from testkit.engine import REPO


def _modules_after(command: str, site: Path) -> set[str]:
    code = (
        "import sys\nfrom homestack.cli.app import run\n"
        f"run(['--site', {str(site)!r}, {command!r}])\n"
        "sys.stderr.write('MODULES=' + ','.join(sorted(sys.modules)) + '\\n')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=site
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES="))
    return set(line.removeprefix("MODULES=").split(","))


def test_ls_and_plan_do_not_import_the_backup_package() -> None:
    for command in ("ls", "plan"):
        loaded = _modules_after(command, REPO)
        heavy = sorted(
            m for m in loaded if m == "homestack.backup" or m.startswith("homestack.backup.")
        )
        assert heavy == [], (command, heavy)
