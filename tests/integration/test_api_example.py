"""docs/api.md's example, run as written: `up` from Python with its events printed, on a
small stand-in site and the real engine; and the code shown in docs/api.md is that file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from homestack import api
from homestack.catalog import Site
from homestack.context import Context, SiteLock
from homestack.events import Collected, WaveDone
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


class _Clock:
    """A clock the test sets: monotonic() gives the next of `readings` (fake time, real
    engine; passed in through the Context, not patched over a module)."""

    def __init__(self, *readings: float) -> None:
        self.readings = list(readings)

    def now(self) -> datetime:
        return datetime(2026, 1, 1, tzinfo=UTC)

    def monotonic(self) -> float:
        return self.readings.pop(0)

    def sleep(self, seconds: float) -> None:
        raise AssertionError("nothing here should sleep on the context's clock")


def test_restart_and_down_report_their_waves_and_time_the_contexts_clock(
    tmp_path: Path,
    standin_image: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    site = Site.load(up_site(tmp_path / "site", STACKS))
    assert api.up(Context.for_site(site), None).ok
    heard = Collected()
    ctx = Context(
        site, SiteLock(site.root, site.prefix), heard, _Clock(100.0, 107.5, 200.0, 203.25)
    )
    restarted = api.restart(ctx, ["db", "app"])
    assert restarted.restarted == ["db", "app"] and restarted.elapsed == 7.5
    assert [(w.command, w.services) for w in heard.of(WaveDone)] == [
        ("restart", ("db",)),
        ("restart", ("app",)),
    ]
    heard.clear()
    gone = api.down(ctx.with_sink(heard), ["db"])  # app needs db: it goes first
    assert gone.removed == ["db"] and [d.service for d in gone.dependents] == ["app"]
    assert gone.elapsed == 3.25
    assert [(w.command, w.services) for w in heard.of(WaveDone)] == [
        ("down", ("app",)),
        ("down", ("db",)),
    ]
