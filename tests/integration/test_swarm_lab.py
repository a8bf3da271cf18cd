"""The catalog on a real 3-node Docker Swarm: three dockerd's in network namespaces on one
machine (tests/swarmlab.sh), homestack's CLI pointed at the manager with DOCKER_HOST.

The lab is built once for this module and torn down after it, even when a test fails. The
tests run in file order: the last one stops a worker's engine for good.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from homestack.catalog import Site
from swarmkit import LAB_ENV, Lab, homestack, lab_for_module
from testkit.sites import copy_catalog, service_yaml, stack_yaml, write_tree

pytestmark = pytest.mark.integration
PREFIX = "h21t_"


@pytest.fixture(scope="module")
def lab(standin_image: str) -> Iterator[Lab]:
    yield from lab_for_module(3, [standin_image])


@pytest.fixture(scope="module")
def site(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_catalog(tmp_path_factory.mktemp("swarmsite"))
    (root / ".env").write_text(f"{LAB_ENV}HOMESTACK_PREFIX={PREFIX}\n")
    return root


def _ok(done: object) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"  # type: ignore[attr-defined]
    return str(done.stdout)  # type: ignore[attr-defined]


def _status(site: Path, lab: Lab) -> dict[str, dict[str, object]]:
    data = json.loads(_ok(homestack(site, "status", "--json", lab=lab)))
    return {row["service"]: row for row in data["services"]}


def _leftovers(lab: Lab) -> list[str]:
    found = lab.docker("service", "ls", "--format", "{{.Name}}").split()
    found += lab.docker("secret", "ls", "--format", "{{.Name}}").split()
    found += lab.docker("config", "ls", "--format", "{{.Name}}").split()
    found += lab.docker("network", "ls", "--format", "{{.Name}}").split()
    return [name for name in found if name.startswith(PREFIX)]


def test_catalog_spreads_over_nodes_data_stays_on_its_node_and_down_leaves_nothing(
    lab: Lab, site: Path
) -> None:
    refused = homestack(site, "up", "--stand-in", lab=lab)
    assert refused.returncode == 2, refused.stderr
    assert "homestack.data=true" in refused.stderr  # 3 nodes, DATA-bound services, no label
    assert not _leftovers(lab)  # refused before anything was made

    _ok(homestack(site, "nodes", "label", "hs21n1", "data=true", lab=lab))
    enabled = len(Site.load(site).services(enabled_only=True))
    up = homestack(site, "up", "--stand-in", lab=lab)
    out = _ok(up)
    assert f"{enabled} services: {enabled} healthy" in out
    rows = _status(site, lab)
    assert all(row["state"] == "healthy" for row in rows.values()), rows
    nodes = {n for row in rows.values() for n in row["nodes"]}  # type: ignore[attr-defined]
    assert len(nodes) >= 2, f"everything on {nodes}"
    for name in ("ollama", "jellyfin", "authelia", "grafana"):  # DATA-bound
        assert rows[name]["nodes"] == ["hs21n1"], (name, rows[name])
    listing = json.loads(_ok(homestack(site, "nodes", "--json", lab=lab)))
    on = {row["hostname"]: row["services"] for row in listing["nodes"]}
    assert "ollama" in on["hs21n1"]
    assert sum(len(v) for v in on.values()) == enabled

    again = _ok(homestack(site, "up", "--stand-in", lab=lab))
    assert "nothing to do" in again

    _ok(homestack(site, "down", lab=lab))
    assert not _leftovers(lab)


def test_ordered_up_never_starts_a_service_before_its_needs_are_healthy(
    lab: Lab, site: Path
) -> None:
    up = homestack(site, "up", "--stand-in", "--stand-in-delay", "2", "ai", "--json", lab=lab)
    result = json.loads(_ok(up))
    runs = {r["service"]: r for r in result["services"]}
    # open-webui needs ollama (compose depends_on), and the ai stack needs essentials
    assert runs["open-webui"]["launched"] >= runs["ollama"]["ready"]
    gate = max(r["ready"] for r in runs.values() if r["stack"] == "essentials")
    for name in ("ollama", "open-webui", "homeassistant"):
        assert runs[name]["launched"] >= gate, name
    assert runs["caddy"]["launched"] >= runs["authelia"]["ready"]
    _ok(homestack(site, "down", lab=lab))
    assert not _leftovers(lab)


def _gpu_site(root: Path) -> Path:
    catalog = copy_catalog(root)
    write_tree(
        catalog,
        {
            "ai-stack/stack.yaml": stack_yaml(["trainer"]),
            "ai-stack/services/trainer.docker-compose.yaml": service_yaml(
                "trainer", meta="gpu: required", image="homestack/standin:local"
            ),
            "ai-stack/services/trainer.nvidia.docker-compose.yaml": "services:\n  trainer: {}\n",
            ".env": f"{LAB_ENV}HOMESTACK_PREFIX={PREFIX}\n",
        },
    )
    return catalog


def test_gpu_service_lands_on_the_gpu_node_and_validate_refuses_without_one(
    lab: Lab, tmp_path: Path
) -> None:
    site = _gpu_site(tmp_path / "gpu")
    checked = homestack(site, "validate", "ai", lab=lab)
    assert checked.returncode == 1
    assert "swarm.placement" in checked.stdout
    assert "requires a GPU" in checked.stdout
    refused = homestack(site, "up", "--stand-in", "trainer", lab=lab)
    assert refused.returncode == 2
    assert "gpu=nvidia" in refused.stderr
    assert not _leftovers(lab)

    _ok(homestack(site, "nodes", "label", "hs21n2", "gpu=nvidia", lab=lab))
    try:
        plan = _ok(homestack(site, "plan", "trainer", lab=lab))
        # the GPU node is not the data node: the service's data must move there first
        assert "no node has all of those labels" in plan
        _ok(homestack(site, "nodes", "label", "hs21n2", "data.trainer=true", lab=lab))
        checked = homestack(site, "validate", "ai", lab=lab)
        assert "swarm.placement" not in checked.stdout, checked.stdout
        _ok(homestack(site, "up", "--stand-in", "trainer", lab=lab))
        rows = _status(site, lab)
        assert rows["trainer"]["nodes"] == ["hs21n2"]
        spec = lab.docker(
            "service",
            "inspect",
            f"{PREFIX}ai_trainer",
            "--format",
            "{{json .Spec.TaskTemplate.Placement.Constraints}}",
        )
        assert "node.labels.homestack.gpu == nvidia" in spec
    finally:
        _ok(homestack(site, "down", lab=lab))
        _ok(homestack(site, "nodes", "label", "hs21n2", "gpu-", "data.trainer-", lab=lab))
    assert not _leftovers(lab)


def _on_node(lab: Lab, node: int, network: str, url: str) -> tuple[int, str]:
    """wget from a throwaway container on `node` attached to `network` (an overlay)."""
    import subprocess

    done = subprocess.run(
        [
            "docker",
            "-H",
            lab.socket(node),
            "run",
            "--rm",
            "--network",
            network,
            "homestack/standin:local",
            # busybox wget under `timeout`: its own -T option crashes this static build
            "timeout",
            "5",
            "wget",
            "-q",
            "-O",
            "-",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def test_overlay_traffic_within_a_stack_network_across_nodes_and_not_across_segregated(
    lab: Lab, site: Path
) -> None:
    _ok(homestack(site, "up", "--stand-in", "ollama", lab=lab))
    try:
        rows = _status(site, lab)
        assert rows["ollama"]["nodes"] == ["hs21n1"]
        # from node 3, on the AI network: DNS by service name and overlay traffic to node 1
        code, out = _on_node(lab, 3, f"{PREFIX}ai-services", "http://ollama:11434/hostname")
        assert code == 0, out
        assert out.strip()
        # from node 3, on the media network only: the AI service is not even a name there
        code, out = _on_node(lab, 3, f"{PREFIX}media-services", "http://ollama:11434/hostname")
        assert code != 0
        assert "bad address" in out or "timed out" in out or code == 143, (code, out)
    finally:
        _ok(homestack(site, "down", lab=lab))
    assert not _leftovers(lab)


def _small_site(root: Path) -> Path:
    catalog = copy_catalog(root)
    good = "entrypoint: [sh, -c, 'echo hello-good; exec httpd -f -p 8080 -h /etc']"
    bad = "entrypoint: [sh, -c, 'echo starting-bad; exit 3']"
    after = "depends_on:\n  bad:\n    condition: service_healthy"
    image = "homestack/standin:local"
    write_tree(
        catalog,
        {
            "ai-stack/stack.yaml": stack_yaml(["good", "bad", "after"]),
            "ai-stack/services/good.docker-compose.yaml": service_yaml(
                "good", image=image, body=good
            ),
            "ai-stack/services/bad.docker-compose.yaml": service_yaml("bad", image=image, body=bad),
            "ai-stack/services/after.docker-compose.yaml": service_yaml(
                "after", image=image, body=after
            ),
            ".env": f"{LAB_ENV}HOMESTACK_PREFIX={PREFIX}\n",
        },
    )
    return catalog


def test_failure_report_blocks_dependents_and_restart_and_logs_work_across_nodes(
    lab: Lab, tmp_path: Path
) -> None:
    site = _small_site(tmp_path / "small")
    try:
        failed = homestack(site, "up", "ai", lab=lab)
        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert "bad (ai): exited" in failed.stderr.replace("\n", " ") or "bad (ai)" in failed.stdout
        assert "starting-bad" in failed.stdout  # its last log lines, read from its node
        data = json.loads(_ok(homestack(site, "status", "--json", lab=lab)))
        rows = {r["service"]: r for r in data["services"]}
        assert rows["good"]["state"] == "healthy"
        assert rows["after"]["state"] == "missing"  # never deployed: it needs bad

        before = lab.docker("service", "ps", "-q", f"{PREFIX}ai_good").split()
        done = _ok(homestack(site, "restart", "good", lab=lab))
        assert "restarted good" in done
        after = lab.docker("service", "ps", "-q", f"{PREFIX}ai_good").split()
        assert set(after) - set(before), "no new task"
        assert _status(site, lab)["good"]["state"] == "healthy"

        logs = _ok(homestack(site, "logs", "good", lab=lab))
        assert logs.count("hello-good") == 2  # the first task's line and the new one's
        assert "starting-bad" in _ok(homestack(site, "logs", "bad", lab=lab))
    finally:
        _ok(homestack(site, "down", lab=lab))
    assert not _leftovers(lab)


def test_stopped_worker_reschedules_stateless_and_reports_stateful(lab: Lab, site: Path) -> None:
    # filebrowser's data "moved" to node 3; mediamtx keeps no data
    _ok(homestack(site, "nodes", "label", "hs21n3", "data.filebrowser=true", lab=lab))
    _ok(homestack(site, "up", "--stand-in", "filebrowser", "mediamtx", lab=lab))
    rows = _status(site, lab)
    assert rows["filebrowser"]["nodes"] == ["hs21n3"]
    lab.docker(
        "service",
        "update",
        "--detach",
        "--constraint-add",
        "node.hostname == hs21n3",
        f"{PREFIX}media_mediamtx",
    )  # put the stateless one on node 3 as well
    deadline = time.monotonic() + 60
    while _status(site, lab)["mediamtx"]["nodes"] != ["hs21n3"]:
        assert time.monotonic() < deadline, "mediamtx did not move to node 3"
        time.sleep(1)
    lab.docker(
        "service",
        "update",
        "--detach",
        "--constraint-rm",
        "node.hostname == hs21n3",
        f"{PREFIX}media_mediamtx",
    )  # free again; it stays where it runs
    time.sleep(3)
    lab.stop_node(3)
    deadline = time.monotonic() + 120
    while True:
        rows = _status(site, lab)
        moved = rows["mediamtx"]["state"] == "healthy" and rows["mediamtx"]["nodes"] not in (
            [],
            ["hs21n3"],
        )
        stuck = rows["filebrowser"]["state"] == "unscheduled"
        if moved and stuck:
            break
        assert time.monotonic() < deadline, rows
        time.sleep(2)
    assert "constraint" in str(rows["filebrowser"]["detail"]) or "suitable" in str(
        rows["filebrowser"]["detail"]
    )
    doctor = homestack(site, "doctor", "--json", lab=lab)
    assert doctor.returncode == 1, doctor.stderr
    failing = {
        (c["area"], c["name"]) for c in json.loads(doctor.stdout)["checks"] if c["status"] == "fail"
    }
    assert ("nodes", "hs21n3") in failing and ("services", "filebrowser") in failing
    assert ("services", "mediamtx") not in failing
    _ok(homestack(site, "down", lab=lab))
    assert not [n for n in _leftovers(lab) if "secret" not in n]


def test_a_backup_to_a_remote_repository_is_refused_in_swarm_mode(lab: Lab, tmp_path: Path) -> None:
    # backup, restore, top and logs --follow run in swarm mode (test_swarm_data.py); what
    # a one-off task on the data node cannot do is refused, naming why
    root = copy_catalog(tmp_path / "remote")
    (root / ".env").write_text(
        f"{LAB_ENV}HOMESTACK_PREFIX={PREFIX}\n"
        "BACKUP_REPOSITORY=sftp:backup@nas.invalid:/srv/restic/{service}\n"
    )
    (root / "DATA" / "ollama").mkdir(parents=True)
    done = homestack(root, "backup", "ollama", lab=lab)
    assert done.returncode == 1, done.stdout + done.stderr
    said = (done.stdout + done.stderr).replace("\n", " ")
    assert "in swarm mode a backup runs on ollama's data node" in said
    assert not _leftovers(lab)
