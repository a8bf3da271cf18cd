"""Every command on a one-node swarm (the lab with one dockerd): no labels needed, the
manager holds DATA; up, status, plan, validate, nodes, logs, restart, down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swarmkit import LAB_ENV, Lab, homestack, lab_for_module
from testkit.sites import copy_catalog

pytestmark = pytest.mark.integration
PREFIX = "h21s_"


@pytest.fixture(scope="module")
def lab(standin_image: str) -> Iterator[Lab]:
    yield from lab_for_module(1, [standin_image])


def _ok(done: object) -> str:
    code, out, err = done.returncode, done.stdout, done.stderr  # type: ignore[attr-defined]
    assert code == 0, f"exit {code}\n{out}\n{err}"
    return str(out)


_DASHBOARD = """
import json, sys, time
from pathlib import Path
from homestack.web.actions import Runner

action = Runner(Path(sys.argv[1])).submit(sys.argv[2], sys.argv[3], "ann", {})
deadline = time.monotonic() + 300
while not action.done and time.monotonic() < deadline:
    time.sleep(0.1)
print(json.dumps(action.to_data()))
"""


_OVERVIEW = """
import json, sys
from pathlib import Path
from homestack.web.live import Hub

print(json.dumps(Hub(Path(sys.argv[1])).sample(full=True).to_data()))
"""


def _child(site: Path, lab: Lab, code: str, *args: str) -> dict[str, Any]:
    """`code` run in a child process talking to the lab's manager (as `homestack serve`
    does); the JSON it prints."""
    env = {**os.environ, "DOCKER_HOST": lab.manager}
    done = subprocess.run(
        [sys.executable, "-c", code, str(site), *args],
        capture_output=True, text=True, env=env, timeout=400, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def _dashboard(site: Path, lab: Lab, kind: str, target: str) -> dict[str, Any]:
    """One dashboard action (its Runner), waited for; the action as its API returns it."""
    action = _child(site, lab, _DASHBOARD, kind, target)
    assert action["done"] and action["ok"], json.dumps(action, indent=1)
    return action


def _replicas(lab: Lab, service: str) -> str:
    names = lab.docker("service", "ls", "--format", "{{.Name}}").split()
    (name,) = [n for n in names if n.startswith(PREFIX) and n.endswith("_" + service)]
    spec = lab.docker("service", "inspect", name, "--format", "{{.Spec.Mode.Replicated.Replicas}}")
    return str(spec).strip()


def test_every_command_on_a_one_node_swarm(lab: Lab, tmp_path: Path) -> None:
    site = copy_catalog(tmp_path / "site")
    (site / ".env").write_text(f"{LAB_ENV}HOMESTACK_PREFIX={PREFIX}\n")
    plan = _ok(homestack(site, "plan", "essentials", lab=lab))
    assert "caddy: hs21n1 (data)" in plan
    checked = homestack(site, "validate", "essentials", "--json", lab=lab)
    found = json.loads(checked.stdout)["findings"]
    assert not [f for f in found if f["rule"].startswith("swarm.") and f["severity"] == "error"]
    assert any(f["rule"] == "swarm.security_opt" for f in found)  # a named loss
    try:
        up = json.loads(_ok(homestack(site, "up", "--stand-in", "essentials", "--json", lab=lab)))
        assert up["ok"] and {s["state"] for s in up["services"]} == {"healthy"}
        rows = json.loads(_ok(homestack(site, "status", "essentials", "--json", lab=lab)))
        assert {r["state"] for r in rows["services"]} == {"healthy"}
        # the dashboard's overview samples through api.status: the swarm's tasks (it
        # listed Compose containers on the manager, so every service showed as missing)
        overview = _child(site, lab, _OVERVIEW)
        shown = {r["service"]: (r["state"], r["health"]) for r in overview["services"]}
        up_here = {s["service"] for s in up["services"]}
        assert {shown[name] for name in up_here} == {("running", "healthy")}, shown
        assert {shown[name] for name in shown.keys() - up_here} == {("missing", None)}
        doctor = json.loads(_ok(homestack(site, "doctor", "--json", lab=lab)))
        assert doctor["counts"]["fail"] == 0, doctor
        assert any(c["name"] == "losses" for c in doctor["checks"])
        nodes = json.loads(_ok(homestack(site, "nodes", "--json", lab=lab)))["nodes"]
        assert nodes[0]["role"] == "manager" and "caddy" in nodes[0]["services"]
        assert "restarted homepage" in _ok(homestack(site, "restart", "homepage", lab=lab))
        # the dashboard's actions act on the swarm too (api: the swarm's backend and ops)
        stopped = _dashboard(site, lab, "stop", "homepage")
        assert "stopped: homepage" in stopped["lines"] and _replicas(lab, "homepage") == "0"
        started = _dashboard(site, lab, "start", "homepage")
        assert started["summary"] == "started homepage" and _replicas(lab, "homepage") == "1"
        rolled = _dashboard(site, lab, "restart", "homepage")
        changes = [e["run"] for e in rolled["events"] if e["event"] == "service"]
        assert changes and changes[-1]["state"] == "healthy", rolled
        # the Python API's up deploys to the swarm too, with the same typed events
        code = (
            "import json, sys\nfrom homestack.api import Collected, Context, up\n"
            "from pathlib import Path\nfrom homestack.catalog import Site\nevents = Collected()\n"
            "ctx = Context.for_site(Site.load(Path(sys.argv[1])), sink=events)\n"
            "result = up(ctx, ['homepage'], stand_in='')\n"
            "print(json.dumps([result.to_data(), [e.to_data() for e in events]]))"
        )
        env = {**os.environ, "DOCKER_HOST": lab.manager}
        by_api = subprocess.run([sys.executable, "-c", code, str(site)], capture_output=True,
                                text=True, env=env, timeout=400, check=False)  # fmt: skip
        assert by_api.returncode == 0, by_api.stderr
        result, sent = json.loads(by_api.stdout)
        assert result["ok"] and [s["state"] for s in result["services"]] == ["unchanged"]
        assert [e["run"]["service"] for e in sent if e["event"] == "service"][-1] == "homepage"
        logs = homestack(site, "logs", "homepage", "--tail", "5", lab=lab)
        assert logs.returncode == 0, logs.stderr
        # backup and restore: restic in a one-off task; authelia's pause becomes a stop
        backup = json.loads(_ok(homestack(site, "backup", "authelia", "--json", lab=lab)))
        result = backup["results"][0]
        assert result["ok"] and result["consistency"] == "stop", result
        assert any("pause, which a swarm task cannot do" in w for w in result["warnings"])
        restored = json.loads(_ok(homestack(site, "restore", "authelia", "--json", lab=lab)))
        assert restored["snapshot"].startswith(result["snapshot"]) and restored["healthy"]
        again = _ok(homestack(site, "up", "--stand-in", "essentials", lab=lab))
        assert "nothing to do" in again

        # a new secret value: a new swarm secret, samba rolls to it, the old one is removed
        def versions() -> list[str]:
            names = lab.docker("secret", "ls", "--format", "{{.Name}}").split()
            return [n for n in names if "samba_password" in n]

        before = versions()
        (site / "secrets" / "samba_password").write_text("another-value-0123456789\n")
        rolled = json.loads(
            _ok(homestack(site, "up", "--stand-in", "essentials", "--json", lab=lab))
        )
        actions = {s["service"]: s["action"] for s in rolled["services"]}
        assert actions["samba"] == "recreate" and actions["homepage"] == "none"
        after = versions()
        assert len(before) == len(after) == 1 and before != after
        # what a swarm down cannot do is refused (both flags were silently ignored)
        for flag in ("--volumes", "--no-dependents"):
            refused = homestack(site, "down", "authelia", flag, "--yes", lab=lab)
            assert refused.returncode == 2, refused.stdout + refused.stderr
            assert "never removes volumes; nothing was removed" in refused.stderr
        # down of one service takes down what needs it (caddy needs authelia), and says why
        partial = json.loads(_ok(homestack(site, "down", "authelia", "--json", lab=lab)))
        assert {"authelia", "caddy"} <= set(partial["removed"])
        assert any(line.startswith("essentials/caddy needs") for line in partial["dependents"])
        rows = json.loads(_ok(homestack(site, "status", "essentials", "--json", lab=lab)))
        states = {r["service"]: r["state"] for r in rows["services"]}
        assert states["authelia"] == states["caddy"] == "missing"
        assert states["homepage"] == "healthy"
        # `install all` on a swarm site deploys to the swarm; it made bridge networks and
        # ran Compose, so with the stacks' overlays there it stopped (exit 2: "network
        # h21s_essential-services exists but differs: driver is overlay, expected bridge")
        installed = homestack(site, "install", "all", "--stack", "essentials", "--stand-in",
                              "--json", lab=lab)  # fmt: skip
        assert installed.returncode == 0, installed.stdout + installed.stderr
        parts = {p["name"]: p for p in json.loads(installed.stdout)["parts"]}
        assert "overlay" in parts["networks"]["data"]["notes"][0], parts["networks"]
        made = json.loads(_ok(homestack(site, "install", "networks", "--json", lab=lab)))
        assert made["created"] == [] and "DEPLOY_MODE=swarm" in made["notes"][0]
        rows = json.loads(_ok(homestack(site, "status", "essentials", "--json", lab=lab)))
        assert {r["state"] for r in rows["services"]} == {"healthy"}
        compose = lab.docker("ps", "-a", "--filter", "label=com.docker.compose.project",
                             "--format", "{{.Names}}")  # fmt: skip
        assert compose.split() == [], compose
        bridges = lab.docker("network", "ls", "--filter", "driver=bridge", "--format", "{{.Name}}")
        assert [n for n in bridges.split() if n.startswith(PREFIX)] == []
    finally:
        down = json.loads(_ok(homestack(site, "down", "--json", lab=lab)))
    assert down["left"] == []
    names = lab.docker("service", "ls", "--format", "{{.Name}}").split()
    names += lab.docker("secret", "ls", "--format", "{{.Name}}").split()
    names += lab.docker("network", "ls", "--format", "{{.Name}}").split()
    assert [n for n in names if n.startswith(PREFIX)] == []
