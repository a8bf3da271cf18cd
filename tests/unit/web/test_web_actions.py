"""The dashboard's action runner without an engine: enable/disable edit stack.yaml under the
site lock, confirmations, one action at a time, and the audit log."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pytest

from homestack.errors import BadInput
from homestack.sitelock import site_lock
from testkit.sites import write_tree

pytest.importorskip("fastapi", reason="the web extra is not installed")
from homestack.web.actions import Action, Busy, Runner


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HOMESTACK_PREFIX", raising=False)
    service = (
        "services:\n  {name}:\n    image: busybox:1\n    x-homestack:\n      title: {name}\n"
        "      description: a service\n      critical: {critical}\n"
    )
    return write_tree(
        tmp_path / "site",
        {
            "base.docker-compose.yaml": "networks: {}\n",
            ".env": "DATA_ROOT=./DATA\n",
            "ai-stack/stack.yaml": "# my services\nservices:\n  - core\n  - extra\n",
            "ai-stack/services/core.docker-compose.yaml": service.format(
                name="core", critical="true"
            ),
            "ai-stack/services/extra.docker-compose.yaml": service.format(
                name="extra", critical="false"
            ),
        },
    )


def _finish(runner: Runner, action: Action, timeout: float = 20) -> Action:
    deadline = time.monotonic() + timeout
    while not action.done and time.monotonic() < deadline:
        time.sleep(0.05)
    assert action.done
    return action


def _audit(root: Path) -> list[dict[str, str]]:
    text = (root / "DATA" / ".homestack" / "audit.log").read_text()
    return [json.loads(line) for line in text.splitlines()]


def test_disabling_a_critical_service_needs_its_name(root: Path) -> None:
    runner = Runner(root)
    with pytest.raises(BadInput, match="critical"):
        runner.submit("disable", "core", "ann", {})
    assert "  - core\n" in (root / "ai-stack" / "stack.yaml").read_text()
    done = _finish(runner, runner.submit("disable", "core", "ann", {"confirm": "core"}))
    assert done.ok, done.summary
    text = (root / "ai-stack" / "stack.yaml").read_text()
    assert "# - core" in text and text.startswith("# my services")  # comments kept
    assert _audit(root)[-1] | {"time": ""} == {
        "time": "",
        "user": "ann",
        "action": "disable",
        "target": "core",
        "result": "ok",
        "detail": "disabled core",
    }


def test_an_unknown_service_or_action_is_refused_before_anything_runs(root: Path) -> None:
    runner = Runner(root)
    with pytest.raises(BadInput):
        runner.submit("disable", "nope", "ann", {})
    with pytest.raises(BadInput, match="unknown action"):
        runner.submit("format-disk", "extra", "ann", {})
    assert runner.current is None


def test_one_action_at_a_time_and_the_lock_holder_is_named(root: Path) -> None:
    runner = Runner(root)
    # a lock held by another thread of this process is re-entrant: hold it from a child,
    # as a CLI command in another process holds it
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    stop = context.Event()

    def child() -> None:
        with site_lock(root, "up media"):
            ready.set()
            stop.wait(20)

    process = context.Process(target=child)
    process.start()
    try:
        assert ready.wait(10)
        first = runner.submit("disable", "extra", "ann", {})
        deadline = time.monotonic() + 5
        while not first.lines and time.monotonic() < deadline:
            time.sleep(0.05)
        assert first.lines and "waiting for the site lock" in first.lines[0]
        assert "homestack up media" in first.lines[0]
        with pytest.raises(Busy, match="busy: disable extra"):
            runner.submit("enable", "extra", "bob", {})
        assert _audit(root)[-1]["result"] == "refused"
    finally:
        stop.set()
        process.join(10)
    assert _finish(runner, first).ok
    assert [e["action"] for e in _audit(root)] == ["enable", "disable"]


def test_each_kind_of_operation_event_has_its_progress_line() -> None:
    from homestack.backup.results import BackupResult
    from homestack.deploy.up import ServiceRun
    from homestack.events import BackupStarted, LockWaiting, ServiceBackedUp, WaveDone
    from homestack.events import ServiceChanged as Changed
    from homestack.web.actions import progress_line

    seen: dict[str, str] = {}
    run = ServiceRun("web", "ai", state="starting")
    assert progress_line(Changed(run), seen) == "web: starting"
    run.elapsed = 3.0
    assert progress_line(Changed(run), seen) is None  # the time alone is not news
    run.state, run.detail = "unhealthy", "exit 1"
    assert progress_line(Changed(run), seen) == "web: unhealthy: exit 1"
    assert progress_line(WaveDone("stop", ("a", "b")), seen) == "stopped: a, b"
    assert progress_line(WaveDone("down", ()), seen) is None
    assert progress_line(LockWaiting("the site", "pid 4"), seen) == (
        "waiting for the site: pid 4 …"
    )
    assert progress_line(BackupStarted("db", "stop"), seen) == ("stopping db, then backing it up …")
    ok = BackupResult("db", "ai", True, "stop", snapshot="abc123")
    assert progress_line(ServiceBackedUp(ok), seen) == "db: snapshot abc123 (stop)"
    failed = BackupResult("db", "ai", False, error="repository locked")
    assert progress_line(ServiceBackedUp(failed), seen) == "db: backup failed: repository locked"
