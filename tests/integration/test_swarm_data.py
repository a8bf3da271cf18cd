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

from swarmkit import LAB_ENV, Lab, homestack, lab_for_module
from testkit.sites import copy_catalog

pytestmark = pytest.mark.integration
PREFIX = "hf21t_"


@pytest.fixture(scope="module")
def lab(standin_image: str) -> Iterator[Lab]:
    yield from lab_for_module(3, [standin_image], also=("/usr/bin/restic",))


@pytest.fixture(scope="module")
def site(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = copy_catalog(tmp_path_factory.mktemp("swarmdata"))
    (root / ".env").write_text(f"{LAB_ENV}HOMESTACK_PREFIX={PREFIX}\n")
    _ok(homestack(root, "nodes", "label", "hs21n1", "data=true", lab=lab))
    _ok(homestack(root, "up", "--stand-in", "ollama", lab=lab))
    try:
        yield root
    finally:
        homestack(root, "down", lab=lab)


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _status(site: Path, lab: Lab, name: str = "ollama") -> dict[str, dict[str, object]]:
    data = json.loads(_ok(homestack(site, "status", "--json", name, lab=lab)))
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


def test_verify_and_prune_run_restic_on_the_data_node(lab: Lab, site: Path) -> None:
    _ok(homestack(site, "backup", "ollama", lab=lab))  # beside the earlier test's two
    before = [s["id"] for s in _snapshots(site)]
    assert len(before) >= 2, before
    checked = json.loads(_ok(homestack(site, "verify", "ollama", "--read-data", "--json", lab=lab)))
    row = checked["checks"][0]
    assert row["ok"] and row["mode"] == "read-data", row
    assert "no errors were found" in row["output"], row  # restic check's own words
    env = site / ".env"
    kept = env.read_text()
    env.write_text(
        kept + "BACKUP_KEEP_LAST=1\nBACKUP_KEEP_DAILY=0\nBACKUP_KEEP_WEEKLY=0\n"
        "BACKUP_KEEP_MONTHLY=0\n"
    )
    try:
        dry = json.loads(_ok(homestack(site, "prune", "ollama", "--dry-run", "--json", lab=lab)))
        planned = dry["prunes"][0]
        assert planned["ok"] and len(planned["removed"]) == len(before) - 1, planned
        assert [s["id"] for s in _snapshots(site)] == before  # a dry run deletes nothing
        pruned = json.loads(_ok(homestack(site, "prune", "ollama", "--json", lab=lab)))
        done = pruned["prunes"][0]
        assert done["ok"] and done["removed"] == planned["removed"], done
        assert [s["id"] for s in _snapshots(site)] == done["kept"] == [before[-1]]
    finally:
        env.write_text(kept)
    assert not _oneoffs(lab)


def test_a_backup_fails_and_drops_its_snapshot_when_the_service_is_scaled_up_by_hand(
    lab: Lab, site: Path, tmp_path: Path
) -> None:
    """As in compose mode (test_backup_window.py): started by hand while restic copies it
    stopped, the service ran on the data being read; the snapshot is not kept."""
    before = len(_snapshots(site)) if (site / "DATA/backups/ollama/config").exists() else 0
    reached = tmp_path / "reached"
    env = {
        **os.environ,
        "DOCKER_HOST": lab.manager,
        "HOMESTACK_TEST_HOLD_AT": "restic",
        "HOMESTACK_TEST_HOLD_FILE": str(reached),
        "HOMESTACK_TEST_HOLD_SECONDS": "15",
    }
    backup = subprocess.Popen(
        [sys.executable, "-m", "homestack", "--site", str(site), "backup", "ollama", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 120
    while not reached.exists() and backup.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert reached.exists(), backup.communicate(timeout=60)
    lab.docker("service", "scale", "--detach", f"{PREFIX}ai_ollama=1")  # by hand
    out, err = backup.communicate(timeout=300)
    assert backup.returncode == 1, out + err
    result = json.loads(out)["results"][0]
    error = result["error"] or ""
    assert f"{PREFIX}ai_ollama was started again" in error, error
    assert "held it stopped" in error and "was removed" in error, error
    assert len(_snapshots(site)) == before  # the copy it cannot vouch for is gone
    assert _status(site, lab)["ollama"]["state"] == "healthy"
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


def _container_of(lab: Lab, swarm_service: str) -> tuple[int, str]:
    """(node index, container id) of the service's running task, on whichever node."""
    for node in range(1, lab.nodes + 1):
        found = lab.docker(
            "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={swarm_service}",
            node=node,
        ).split()  # fmt: skip
        if found:
            return node, found[0]
    raise AssertionError(f"no running container of {swarm_service} on any node")


def test_logs_follow_picks_up_a_service_deployed_after_it_started(lab: Lab, site: Path) -> None:
    env = {**os.environ, "DOCKER_HOST": lab.manager, "COLUMNS": "200"}
    follower = subprocess.Popen(
        [sys.executable, "-m", "homestack", "--site", str(site), "logs", "-f", "ai"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        time.sleep(4)  # following ollama; libretranslate is not deployed yet
        assert follower.poll() is None, follower.stderr.read() if follower.stderr else ""
        # on a worker: the manager's stream reads a node only when it begins
        _ok(homestack(site, "nodes", "label", "hs21n2", "data.libretranslate=true", lab=lab))
        _ok(homestack(site, "up", "--stand-in", "libretranslate", lab=lab))
        node, container = _container_of(lab, f"{PREFIX}ai_libretranslate")
        assert node == 2
        marker = f"hf21-later-{os.urandom(4).hex()}"
        lab.docker("exec", container, "sh", "-c", f"echo {marker} > /proc/1/fd/1", node=node)
        seen = ""
        deadline = time.monotonic() + 30
        assert follower.stdout is not None
        while marker not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([follower.stdout], [], [], 1)
            if ready:
                seen += follower.stdout.readline()
        if marker not in seen:
            follower.terminate()
            _out, err = follower.communicate(timeout=10)
            raise AssertionError(f"{seen[-2000:]}\nstderr: {err[-2000:]}")
        line = next(x for x in seen.splitlines() if marker in x)
        assert line.startswith("libretranslate "), line
    finally:
        follower.terminate()
        follower.wait(timeout=10)
        homestack(site, "down", "libretranslate", lab=lab)
        homestack(site, "nodes", "label", "hs21n2", "data.libretranslate-", lab=lab)


def _top(site: Path, lab: Lab) -> str:
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
    return out


def _row(out: str, service: str) -> str:
    rows = [line for line in out.splitlines() if line.split()[:1] == [service]]
    assert rows, out
    return rows[-1]


@pytest.fixture(scope="module")
def on_worker(lab: Lab, site: Path) -> Iterator[str]:
    """libretranslate deployed with its data on hs21n2, a worker (ollama's is on hs21n1,
    the manager homestack talks to)."""
    _ok(homestack(site, "nodes", "label", "hs21n2", "data.libretranslate=true", lab=lab))
    try:
        _ok(homestack(site, "up", "--stand-in", "libretranslate", lab=lab))
        yield "libretranslate"
    finally:
        homestack(site, "down", "libretranslate", lab=lab)
        homestack(site, "nodes", "label", "hs21n2", "data.libretranslate-", "engine-", lab=lab)


def test_top_reads_figures_from_the_engine_of_each_tasks_node(
    lab: Lab, site: Path, on_worker: str
) -> None:
    assert _status(site, lab)["ollama"]["nodes"] == ["hs21n1"]
    out = _top(site, lab)
    ollama = _row(out, "ollama")
    assert "running" in ollama and "iB" in ollama, ollama  # the manager's own engine
    assert "no figures" not in ollama
    other = _row(out, on_worker)
    assert "on hs21n2: no figures" in other, other  # no way to its engine yet
    assert "engine=ssh://" in other, other  # says how to get them

    _ok(homestack(site, "nodes", "label", "hs21n2", f"engine={lab.socket(2)}", lab=lab))
    other = _row(_top(site, lab), on_worker)
    assert "running" in other and "iB" in other, other  # read from hs21n2's engine
    assert "no figures" not in other, other


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_backup_and_restore_of_data_on_another_node_name_that_node(
    lab: Lab, site: Path, on_worker: str, command: str
) -> None:
    """homestack reads and writes the service's folders where it runs (here: hs21n1); on
    real machines hs21n2's DATA is another disk, so this is refused, naming where to run
    it. (Before, a backup here ran: the lab's nodes share one filesystem; on real machines
    it said "nothing to back up", or the task was rejected for a missing folder.)"""
    extra = ["--yes"] if command == "restore" else []
    done = homestack(site, command, on_worker, *extra, lab=lab)
    said = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1, said
    assert f"`homestack {command} {on_worker}` must run on hs21n2" in said, said
    assert "not on hs21n1, where homestack runs" in said, said
    assert "DOCKER_HOST=ssh://USER@MANAGER homestack" in said, said
    assert not _oneoffs(lab)  # nothing was started on the node


def test_backup_and_restore_run_on_the_worker_holding_the_data_through_the_manager(
    lab: Lab, site: Path, on_worker: str
) -> None:
    """Run on hs21n2 (its engine is this machine's), DOCKER_HOST naming the manager: the
    worker need not be made a manager."""
    data = site / "DATA" / on_worker
    data.mkdir(parents=True, exist_ok=True)
    payload = os.urandom(50_000)
    (data / "hf21-worker.bin").write_bytes(payload)
    done = homestack(site, "backup", on_worker, "--json", lab=lab, on_node=2)
    result = json.loads(_ok(done))["results"][0]
    assert result["ok"], result
    assert "one-off task on hs21n2" in " ".join(result["warnings"]), result
    (data / "hf21-worker.bin").unlink()
    again = homestack(site, "restore", on_worker, "--yes", "--json", lab=lab, on_node=2)
    restored = json.loads(_ok(again))
    assert restored["healthy"] is True, restored
    assert (data / "hf21-worker.bin").read_bytes() == payload
    assert _status(site, lab, on_worker)[on_worker]["nodes"] == ["hs21n2"]
    assert not _oneoffs(lab)
