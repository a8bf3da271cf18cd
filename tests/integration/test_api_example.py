"""docs/api.md's example, run as written: `up` from Python with its events printed, on a
small stand-in site and the real engine; and the code shown in docs/api.md is that file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.sites import up_site

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples" / "up_events.py"
STACKS = {
    "essentials": {"services": {"db": {"secret": True}}},
    "ai": {"depends_on": ["essentials"], "services": {"app": {"needs": ["db"]}}},
}


def test_the_doc_shows_the_example_file_as_it_is() -> None:
    doc = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    shown = re.search(r"<!-- example: up_events.py -->\n```python\n(.*?)```", doc, re.S)
    assert shown is not None, "docs/api.md lost its example block"
    assert shown.group(1) == EXAMPLE.read_text(encoding="utf-8")


def test_the_example_runs_up_and_prints_its_events(
    tmp_path: Path, standin_image: str, engine_cleanup: str
) -> None:
    root = up_site(tmp_path / "site", STACKS)
    env = {**os.environ, "HOMESTACK_PREFIX": engine_cleanup, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    # each service's changes of state, in the order up made them: db healthy before app starts
    assert "essentials/db: healthy" in lines and "ai/app: healthy" in lines
    assert lines.index("essentials/db: healthy") < lines.index("ai/app: starting")
    assert lines[-1] == "2 services: 2 healthy"
    assert done.stderr == ""  # the library printed nothing of its own
