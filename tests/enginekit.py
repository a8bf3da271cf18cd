"""What tests share beside their fixtures: where the repository is, the label on what they
create, and the clean-up by name prefix. A module of its own, not conftest.py: `from conftest
import …` finds whichever conftest.py was imported first (tests/unit/host has one too), so a
run of `pytest tests/unit tests/e2e` failed to collect."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEST_LABEL = "homestack.test"


def remove_everything_named(prefix: str) -> None:
    """Remove containers, networks and volumes whose names start with prefix."""

    def ids(*args: str) -> list[str]:
        done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
        return [line for line in done.stdout.split() if line]

    # compose names containers {project}-{service}-N, and every project starts with prefix
    for cid in ids("ps", "-aq", "--filter", f"name=^/?{prefix}"):
        subprocess.run(["docker", "rm", "-f", "-v", cid], capture_output=True, check=False)
    for net in ids("network", "ls", "-q", "--filter", f"name={prefix}"):
        subprocess.run(["docker", "network", "rm", net], capture_output=True, check=False)
    for vol in ids("volume", "ls", "-q", "--filter", f"name={prefix}"):
        subprocess.run(["docker", "volume", "rm", "-f", vol], capture_output=True, check=False)
