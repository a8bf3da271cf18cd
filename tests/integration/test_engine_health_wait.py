"""The one health wait (engine/health.py through ComposeBackend) on a real engine: healthy,
running without a check, unhealthy, a oneshot job's exit, a service that stops while it is
watched. Containers carry Compose's labels, as Compose would set them."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest

from homestack.engine.backend import ComposeBackend
from homestack.engine.health import Watched
from homestack.engine.model import PROJECT_LABEL, SERVICE_LABEL

pytestmark = pytest.mark.integration


def _run(project: str, service: str, image: str, *args: str) -> str:
    done = subprocess.run(
        [
            "docker", "run", "-d", "--name", f"{project}-{service}-1",
            "--label", f"{PROJECT_LABEL}={project}",
            "--label", f"{SERVICE_LABEL}={service}",
            "--label", "homestack.test=1",
            *args,
        ],
        check=True,
        capture_output=True,
        text=True,
    )  # fmt: skip
    return done.stdout.strip()


def test_the_wait_judges_each_service_as_up_does(engine_cleanup: str, standin_image: str) -> None:
    project = engine_cleanup + "hw"
    serve = ("httpd", "-f", "-p", "8080")
    _run(project, "good", standin_image, "--health-cmd", "true", "--health-interval", "1s",
         standin_image, *serve)  # fmt: skip
    _run(project, "plain", standin_image, standin_image, *serve)
    _run(project, "sick", standin_image, "--health-cmd", "false", "--health-interval", "1s",
         "--health-retries", "1", standin_image, *serve)  # fmt: skip
    _run(project, "job", standin_image, standin_image, "sh", "-c", "sleep 1; exit 3")
    _run(project, "done", standin_image, standin_image, "sh", "-c", "sleep 1")
    watched = [
        Watched(project, "good"),
        Watched(project, "plain"),
        Watched(project, "sick"),
        Watched(project, "job", oneshot=True),
        Watched(project, "done", oneshot=True),
        Watched(project, "absent"),
    ]
    started = time.monotonic()
    verdicts = ComposeBackend().wait_healthy(watched, 20)
    states = {service: verdicts[(project, service)].state for _, service in verdicts}
    assert states == {
        "good": "healthy",
        "plain": "running",
        "sick": "unhealthy",
        "job": "exited",
        "done": "completed",
        "absent": "timeout",  # never made: waited for until the deadline
    }
    job = verdicts[(project, "job")].container
    assert job is not None and job.exit_code == 3
    assert (
        verdicts[(project, "sick")]
        .error("sick")
        .message.startswith("sick did not become healthy (state running, health unhealthy)")
    )
    assert time.monotonic() - started < 30


def test_a_watched_service_that_stops_is_reported(engine_cleanup: str, standin_image: str) -> None:
    project = engine_cleanup + "hs"
    cid = _run(project, "web", standin_image, standin_image, "httpd", "-f", "-p", "8080")
    backend = ComposeBackend()
    assert backend.stays_healthy({project}, ["web"], 0.5) is None
    stopper = threading.Timer(1.0, subprocess.run, (["docker", "kill", cid],))
    stopper.start()
    try:
        started = time.monotonic()
        sick = backend.stays_healthy({project}, ["web"], 30)
    finally:
        stopper.cancel()
    assert sick is not None and sick.service == "web" and sick.state == "exited"
    assert time.monotonic() - started < 10  # noticed when it died, not at the end
