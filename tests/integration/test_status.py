"""`homestack status` against a real engine: healthy, unhealthy, exited, restarting, missing."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from homestack.cli.app import run
from homestack.engine import usage
from homestack.observe.status import DISABLED_RUNNING, MISSING, STOPPED, collect_status
from testkit.engine import create_networks, new_prefix, remove_everything_named, start, wait_for
from testkit.sites import running_site

pytestmark = pytest.mark.integration

LOOP = "command: ['sh', '-c', 'echo up; while true; do sleep 1; done']"
WEB = """
command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && httpd -f -p 8080 -h /www']
ports: ['127.0.0.1::8080']
healthcheck:
  test: ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/']
  interval: 1s
  retries: 3
"""
SICK = (
    LOOP
    + """
healthcheck:
  test: ['CMD', 'sh', '-c', 'echo probe says database down; exit 1']
  interval: 1s
  retries: 1
"""
)
DONE = "command: ['sh', '-c', 'echo bye; exit 3']\nrestart: 'no'"
FLAPPY = "command: ['sh', '-c', 'exit 1']\nrestart: always"


@pytest.fixture(scope="module")
def status_site(tmp_path_factory: pytest.TempPathFactory, standin_image: str):  # type: ignore[no-untyped-def]
    prefix = new_prefix()
    site = running_site(
        tmp_path_factory.mktemp("status") / "site",
        prefix,
        {
            "ai": {
                "web": (True, WEB, "web: {port: 8080, path: /ui/, subdomain: portal}"),
                "sick": (True, SICK, ""),
                "off": (False, LOOP, ""),
            },
            "media": {
                "done": (True, DONE, ""),
                "flappy": (True, FLAPPY, ""),
                "ghost": (True, LOOP, ""),
            },
        },
    )
    create_networks(prefix, ["ai-services", "media-services"])
    start(site, "ai", ["web", "sick", "off"])
    start(site, "media", ["done", "flappy"])
    yield site
    remove_everything_named(prefix)


def test_status_reports_every_state(status_site, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    site = status_site

    def settled() -> bool:
        rows = {r.service: r for r in collect_status(site, with_backups=False, interval=0.05).rows}
        return (
            rows["web"].health == "healthy"
            and rows["sick"].health == "unhealthy"
            and rows["done"].state == "exited"
            and rows["flappy"].state == "restarting"
        )

    assert wait_for(settled, timeout=60)
    result = collect_status(site)
    rows = {r.service: r for r in result.rows}
    web = rows["web"]
    assert web.state == "running"
    assert web.url == "https://portal.home.test/ui/"
    assert web.ports and web.ports[0].startswith("127.0.0.1:")
    assert web.ports[0].endswith("->8080/tcp")
    assert web.uptime_s is not None and web.uptime_s >= 0
    assert web.mem_used and web.mem_used > 0
    assert web.mem_limit and web.mem_limit >= web.mem_used
    assert web.cpu_percent is not None
    assert web.restarts == 0
    assert web.flag is None
    assert rows["sick"].health == "unhealthy"
    assert "database down" in (rows["sick"].health_output or "")
    assert rows["done"].exit_code == 3
    assert rows["done"].flag == STOPPED and rows["done"].health is None
    assert rows["flappy"].restarts is not None
    assert rows["ghost"].state == "missing"
    assert rows["ghost"].flag == MISSING
    assert rows["off"].flag == DISABLED_RUNNING
    assert not rows["off"].enabled

    # on this host the usage comes from the containers' cgroups (no stats tick to wait for)
    info = json.loads(
        subprocess.run(
            ["docker", "inspect", web.container], capture_output=True, text=True, check=True
        ).stdout
    )[0]
    cgroup_file = Path(f"/proc/{info['State']['Pid']}/cgroup")
    if cgroup_file.exists() and info["Id"][:12] in cgroup_file.read_text():
        local = usage.cgroup_usage({info["Id"]: info["State"]["Pid"]}, 0.05)
        assert local is not None and local[info["Id"]].mem_used

    # the Engine API path (no cgroup reading) gives the same rows
    monkeypatch.setenv("HOMESTACK_STATS", "api")
    api_rows = {r.service: r for r in collect_status(site, ["web"], with_backups=False).rows}
    assert list(api_rows) == ["web"]
    assert api_rows["web"].mem_used and api_rows["web"].cpu_percent is not None
    monkeypatch.delenv("HOMESTACK_STATS")

    # the CLI: selection by stack and by service, --json, and the table
    assert run(["--site", str(site.root), "status", "media", "--json"]) == 0


def test_status_cli_json_and_table(status_site, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    root = str(status_site.root)
    assert run(["--site", root, "status", "web", "ghost", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert sorted(s["service"] for s in data["services"]) == ["ghost", "web"]
    assert run(["--site", root, "status"]) == 0
    table = capsys.readouterr().out
    assert "SERVICE" in table and "enabled-but-missing" in table and "disabled-but-running" in table
    assert "https://portal.home.test/ui/" in table


def test_status_without_engine_says_how_to_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site = running_site(tmp_path / "site", "hstdead_", {"ai": {"web": (True, LOOP, "")}})
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/dead.sock")
    # the process-wide client would still talk to the live engine; restored afterwards
    monkeypatch.setattr("homestack.engine.docker._client", None)
    assert run(["--site", str(site.root), "status"]) == 1
    err = capsys.readouterr().err
    assert "no Docker engine answers" in err and "fix:" in err


def test_top_refreshes_in_place_and_quits_cleanly_on_ctrl_c(status_site) -> None:  # type: ignore[no-untyped-def]
    """`homestack top` in a real pseudo-terminal: frames, sort, SIGINT → exit 0, cursor back."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the console script, as a user runs it
        os.environ.update({"COLUMNS": "220", "LINES": "40", "TERM": "xterm"})
        root = str(status_site.root)
        argv = ["homestack", "--site", root, "top", "--sort", "mem", "--interval", "0.5"]
        # as a terminal's shell starts it: pytest run as a background job (`pytest &`)
        # inherits SIGINT ignored, and so would top
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.execv(str(Path(sys.executable).parent / "homestack"), argv)  # noqa: S606
    output = b""
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and output.count(b"homestack top") < 2:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                output += os.read(fd, 65536)
        os.kill(pid, signal.SIGINT)
        while True:
            ready, _, _ = select.select([fd], [], [], 5)
            if not ready:
                break
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
    finally:
        ended, status = os.waitpid(pid, os.WNOHANG)
        for _ in range(100):  # 10 s for top to end after Ctrl-C
            if ended:
                break
            time.sleep(0.1)
            ended, status = os.waitpid(pid, os.WNOHANG)
        if not ended:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    assert ended, "top did not end within 10 s of SIGINT"
    text = output.decode("utf-8", "replace")
    assert text.count("homestack top") >= 2, text[-2000:]
    assert "sorted by mem" in text and "web" in text and "flappy" in text
    # the cursor Live hid is shown again: the terminal is restored
    assert "\x1b[?25l" in text and text.rindex("\x1b[?25h") > text.rindex("\x1b[?25l")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
