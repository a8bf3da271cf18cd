"""`restart` on a real engine when a chosen service has no container."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.deploy.down import down, restart
from homestack.deploy.stopstart import start
from homestack.deploy.up import up
from homestack.errors import OperationFailed
from testkit.sites import up_site

pytestmark = pytest.mark.integration


def _started_at(name: str) -> str:
    done = subprocess.run(
        ["docker", "inspect", "--format", "{{.State.StartedAt}}", name],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_restart_of_a_service_without_container_is_refused_at_once_restarting_nothing(
    tmp_path: Path, standin_image: str, engine_cleanup: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = engine_cleanup
    monkeypatch.setenv("HOMESTACK_PREFIX", prefix)
    root = up_site(tmp_path / "site", {"ai": {"services": {"app": {}, "solo": {}}}})
    assert up(Site.load(root)).ok
    down(Site.load(root), ["solo"])
    started = _started_at(f"{prefix}ai-app-1")

    # compose restarts nothing without a container; this used to wait out the whole timeout
    with pytest.raises(OperationFailed) as refused:
        restart(Site.load(root), ["app", "solo"], timeout=20)
    assert refused.value.message == (
        "cannot restart solo: no container (never started, or taken down); nothing was restarted"
    )
    assert refused.value.hint == "Start it with `homestack up solo`."
    assert _started_at(f"{prefix}ai-app-1") == started  # refused before anything restarted
    with pytest.raises(OperationFailed) as refused:  # start refuses it the same way
        start(Site.load(root), ["app", "solo"], timeout=20)
    assert refused.value.message == (
        "cannot start solo: no container (never started, or taken down); nothing was started"
    )
    assert refused.value.hint == "Create it with `homestack up solo`."
    assert _started_at(f"{prefix}ai-app-1") == started

    assert restart(Site.load(root), ["app"]).restarted == ["app"]
    assert _started_at(f"{prefix}ai-app-1") != started


def test_restart_runs_a_oneshot_job_again_and_succeeds_when_it_exits_0(
    tmp_path: Path, standin_image: str, engine_cleanup: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    prefix = engine_cleanup
    monkeypatch.setenv("HOMESTACK_PREFIX", prefix)
    root = up_site(tmp_path / "site", {"ai": {"services": {"job": {"script": "true"}}}})
    path = root / "ai-stack" / "services" / "job.docker-compose.yaml"
    doc = json.loads(path.read_text())
    doc["services"]["job"]["x-homestack"]["oneshot"] = True
    del doc["services"]["job"]["x-homestack"]["web"]
    del doc["services"]["job"]["healthcheck"]
    path.write_text(json.dumps(doc))
    assert up(Site.load(root)).ok
    finished = _started_at(f"{prefix}ai-job-1")

    # a job that ran to completion is not "unhealthy": restart runs it again and waits for exit 0
    assert restart(Site.load(root), ["job"], timeout=60).restarted == ["job"]
    assert _started_at(f"{prefix}ai-job-1") != finished
