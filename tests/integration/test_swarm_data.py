"""backup, restore and `logs --follow` in swarm mode, on the real 3-node lab
(tests/swarmlab.sh): restic runs in a one-off swarm task on the service's data node, with
the real restic binary; the service is scaled to 0 for the copy and back.

One lab for the module; the lab's nodes share this machine's filesystem (only their
networks are namespaced), so the site's DATA is the same path on every node.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from swarmkit import Lab, homestack, lab_for_module
from testkit.sites import copy_catalog

pytestmark = pytest.mark.integration
PREFIX = "hf21t_"


@pytest.fixture(scope="module")
def lab(standin_image: str) -> Iterator[Lab]:
    yield from lab_for_module(3, [standin_image], also=("/usr/bin/restic",))


@pytest.fixture(scope="module")
def site(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = copy_catalog(tmp_path_factory.mktemp("swarmdata"))
    (root / ".env").write_text(f"DEPLOY_MODE=swarm\nHOMESTACK_PREFIX={PREFIX}\n")
    _ok(homestack(root, "nodes", "label", "hs21n1", "data=true", lab=lab))
    _ok(homestack(root, "up", "--stand-in", "ollama", lab=lab))
    try:
        yield root
    finally:
        homestack(root, "down", lab=lab)


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _status(site: Path, lab: Lab) -> dict[str, dict[str, object]]:
    data = json.loads(_ok(homestack(site, "status", "--json", "ollama", lab=lab)))
    return {row["service"]: row for row in data["services"]}


def _oneoffs(lab: Lab) -> list[str]:
    found = lab.docker("service", "ls", "--format", "{{.Name}}").split()
    found += lab.docker("secret", "ls", "--format", "{{.Name}}").split()
    return [name for name in found if name.startswith(f"{PREFIX}oneoff")]


def _snapshots(site: Path) -> list[dict[str, object]]:
    env = {
        **os.environ,
        "RESTIC_REPOSITORY": str(site / "DATA" / "backups" / "ollama"),
        "RESTIC_PASSWORD_FILE": str(site / "secrets" / "homestack_backup_password"),
    }
    done = subprocess.run(
        ["restic", "snapshots", "--json", "--no-lock"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    return list(json.loads(done.stdout))


def test_backup_runs_on_the_data_node_and_restore_brings_a_deleted_file_back(
    lab: Lab, site: Path
) -> None:
    payload = os.urandom(300_000)
    data = site / "DATA" / "ollama"
    (data / "hf21-precious.bin").write_bytes(payload)

    # what a killed backup left: a one-off service and its password secret
    stale = f"{PREFIX}oneoff_ollama_dead"
    label = "io.homestack.oneoff=ollama"
    lab.docker("secret", "create", "--label", label, f"{stale}_s0", str(site / ".env"))
    lab.docker(
        "service", "create", "--detach", "--name", stale, "--label", label,
        "--restart-condition", "none", "--replicas", "0", "homestack/standin:local",
    )  # fmt: skip
    assert len(_oneoffs(lab)) == 2

    done = homestack(site, "backup", "ollama", "--json", lab=lab)
    result = json.loads(_ok(done))["results"][0]
    assert result["ok"], result
    assert result["consistency"] == "stop"
    warned = " ".join(result["warnings"])
    assert "one-off task on hs21n1" in warned
    assert "scaled to 0 and back" in warned
    snaps = _snapshots(site)
    assert len(snaps) == 1
    assert "service=ollama" in snaps[0]["tags"]  # type: ignore[operator]
    assert str(data) in snaps[0]["paths"]  # type: ignore[operator]
    assert _status(site, lab)["ollama"]["state"] == "healthy"  # scaled back up
    assert not _oneoffs(lab)  # the task and its password secret are gone
    listed = json.loads(_ok(homestack(site, "backups", "ollama", "--json", lab=lab)))
    assert [s["id"] for s in listed["services"][0]["snapshots"]] == [snaps[0]["id"]]

    (data / "hf21-precious.bin").unlink()
    restored = homestack(site, "restore", "ollama", "--json", lab=lab)
    out = json.loads(_ok(restored))
    assert out["healthy"] is True
    assert (data / "hf21-precious.bin").read_bytes() == payload
    assert _status(site, lab)["ollama"]["nodes"] == ["hs21n1"]
    assert not _oneoffs(lab)


def test_logs_follow_shows_a_line_written_after_it_started(lab: Lab, site: Path) -> None:
    env = {**os.environ, "DOCKER_HOST": lab.manager, "COLUMNS": "200"}
    follower = subprocess.Popen(
        [sys.executable, "-m", "homestack", "--site", str(site), "logs", "-f", "ollama"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        time.sleep(4)  # following now
        assert follower.poll() is None, follower.stderr.read() if follower.stderr else ""
        marker = f"hf21-follow-{os.urandom(4).hex()}"
        container = lab.docker(
            "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={PREFIX}ai_ollama"
        ).split()[0]
        lab.docker("exec", container, "sh", "-c", f"echo {marker} > /proc/1/fd/1")
        seen = ""
        deadline = time.monotonic() + 30
        assert follower.stdout is not None
        while marker not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([follower.stdout], [], [], 1)
            if ready:
                seen += follower.stdout.readline()
        assert marker in seen, seen[-2000:]
        assert "ollama" in seen.splitlines()[-1]
    finally:
        follower.terminate()
        follower.wait(timeout=10)


def test_top_shows_the_tasks_with_figures_for_the_managers_node(lab: Lab, site: Path) -> None:
    env = {**os.environ, "DOCKER_HOST": lab.manager, "COLUMNS": "250"}
    top = subprocess.Popen(
        [sys.executable, "-m", "homestack", "--site", str(site), "top", "-n", "1"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    time.sleep(8)
    top.terminate()  # SIGTERM ends top as cleanly as q
    out, err = top.communicate(timeout=20)
    assert top.returncode == 0, err
    rows = [line for line in out.splitlines() if line.split()[:1] == ["ollama"]]
    assert rows, out
    last = rows[-1]
    assert "running" in last, last
    assert "no figures" not in last  # ollama's task is on hs21n1, the manager's node
    assert "iB" in last, last  # its memory, read from the manager's engine
    for line in out.splitlines():  # a task elsewhere says why it has no figures
        if " on hs21n2" in line or " on hs21n3" in line:
            assert "no figures" in line
