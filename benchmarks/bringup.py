"""Bring-up benchmark: `homestack up` vs the seed's way vs the critical path, in one run.

Generates a site of 4 stacks x 8 stand-in services (32) with start-up delays and a
dependency chain across the stacks (essentials -> ai -> media -> management), then measures
on the real engine, side by side:

  seed      each stack's `docker compose up -d` one after another, then wait until all are
            healthy (what compose-up.sh did; it does not honour cross-stack order)
  homestack `homestack up --stand-in` (health-gated, service-level scheduling)
  no-op     a second `homestack up` with nothing changed
  critical  the longest dependency chain of per-service times, each from the moment homestack
            asked the engine to start it (container start included) to the engine's healthy
            event; so it leaves out only homestack's own scheduling latency

Usage: .venv/bin/python benchmarks/bringup.py [--keep]   (needs a Docker engine; ~2-3 min)
       .venv/bin/python benchmarks/bringup.py --smoke   (4 x 2 services, short delays: CI)
Everything is created under a unique HOMESTACK_PREFIX and removed at the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from homestack.catalog import Site

REPO = Path(__file__).resolve().parents[1]
#: each shipped stack's network, as its stack.yaml names it
NETWORKS = {stack.id: stack.network for stack in Site.load(REPO).stacks.values()}
STACKS = ("essentials", "ai", "media", "management")
PER_STACK = 8
#: delays are multiplied by this (--smoke: shorter)
DELAY_SCALE = 1.0
HOMESTACK = [str(Path(sys.executable).with_name("homestack"))]


def delay_of(index: int) -> float:
    return DELAY_SCALE * (3.0 if index == 0 else 1.0 + index % 4)


def needs_of(stack_no: int, index: int) -> list[str]:
    if index == 0:
        return [f"{STACKS[stack_no - 1][:2]}0"] if stack_no > 0 else []
    if index <= 3:
        return [f"{STACKS[stack_no][:2]}0"]
    return []


def write_site(root: Path) -> dict[str, list[str]]:
    """The benchmark site; returns service -> what it needs."""
    shutil.copy(REPO / "base.docker-compose.yaml", root / "base.docker-compose.yaml")
    (root / ".env").write_text("TZ=Etc/UTC\nDATA_ROOT=./DATA\nSECRETS_DIR=./secrets\n")
    graph: dict[str, list[str]] = {}
    for stack_no, stack in enumerate(STACKS):
        folder = root / f"{stack}-stack" / "services"
        folder.mkdir(parents=True)
        names = []
        for index in range(PER_STACK):
            name = f"{stack[:2]}{index}"
            names.append(name)
            graph[name] = needs_of(stack_no, index)
            service = {
                "x-homestack": {
                    "title": name,
                    "description": "benchmark service",
                    "critical": index == 0,
                    "depends_on": graph[name],
                    "web": {"port": 8080},
                },
                "image": f"bench/{name}:1.0",  # never pulled: the stand-in replaces it
                "healthcheck": {"test": ["CMD", "true"], "interval": "30s"},
                "networks": [NETWORKS[stack]],
                "volumes": [f"{stack}_{name}_data:/data"],
            }
            doc = {
                "services": {name: service},
                "volumes": {
                    f"{stack}_{name}_data": {
                        "name": "${HOMESTACK_PREFIX:-}" + f"{stack}_{name}_data",
                        "driver": "local",
                        "driver_opts": {
                            "type": "none",
                            "o": "bind",
                            "device": "${DATA_ROOT}/" + name,
                        },
                    }
                },
            }
            (folder / f"{name}.docker-compose.yaml").write_text(json.dumps(doc, indent=1))
        listing = "".join(f"  - {n}\n" for n in names)
        (root / f"{stack}-stack" / "stack.yaml").write_text(
            f"description: {stack} benchmark stack\nnetwork: {NETWORKS[stack]}\n"
            f"depends_on: []\nservices:\n{listing}"
        )
    return graph


def delay_args(graph: dict[str, list[str]]) -> list[str]:
    args: list[str] = []
    for name in graph:
        args += ["--stand-in-delay", f"{name}={delay_of(int(name[2:])):g}"]
    return args


class EventLog:
    """Streams the engine's start and health events while a run happens (the daemon keeps only
    its last 256 events, and health checks' exec events push the older ones out)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.process = subprocess.Popen(
            [
                "docker",
                "events",
                "--since",
                f"{time.time() - 1:.3f}",  # replays what happened before it subscribed
                "--filter",
                "type=container",
                "--filter",
                "event=start",
                "--filter",
                "event=health_status",
                "--format",
                "{{json .}}",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        # read as it comes: a subscriber that falls behind gets events dropped by the daemon
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def stop(self) -> dict[str, dict[str, float]]:
        """service -> {"healthy": t}: the first healthy event of each, in engine time."""
        time.sleep(2)  # the stream may lag on a busy machine
        self.process.terminate()
        self.process.wait()
        self.reader.join(timeout=5)
        times: dict[str, dict[str, float]] = {}
        for line in self.lines:
            event = json.loads(line)
            attributes = event.get("Actor", {}).get("Attributes", {})
            if not str(attributes.get("name", "")).startswith(self.prefix):
                continue
            service = attributes.get("com.docker.compose.service", "")
            status = event.get("status") or event.get("Action") or ""
            kind = "healthy" if status == "health_status: healthy" else status
            if kind == "healthy":
                times.setdefault(service, {}).setdefault(kind, event["timeNano"] / 1e9)
        return times


def remove_everything_named(prefix: str) -> None:
    """Containers, networks and volumes whose names start with prefix (what it created)."""

    def ids(*args: str) -> list[str]:
        done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
        return done.stdout.split()

    for cid in ids("ps", "-aq", "--filter", f"name=^/?{prefix}"):
        subprocess.run(["docker", "rm", "-f", "-v", cid], capture_output=True, check=False)
    for net in ids("network", "ls", "-q", "--filter", f"name={prefix}"):
        subprocess.run(["docker", "network", "rm", net], capture_output=True, check=False)
    for vol in ids("volume", "ls", "-q", "--filter", f"name={prefix}"):
        subprocess.run(["docker", "volume", "rm", "-f", vol], capture_output=True, check=False)


def all_healthy(prefix: str, count: int) -> bool:
    done = subprocess.run(
        ["docker", "ps", "--filter", f"name=^/?{prefix}", "--format", "{{.Status}}"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = done.stdout.splitlines()
    return len(rows) == count and all("(healthy)" in row for row in rows)


def critical_path(graph: dict[str, list[str]], own: dict[str, float]) -> tuple[float, list[str]]:
    """The longest chain of per-service (start -> healthy) times along the dependency graph."""
    missing = sorted(set(graph) - set(own))
    if missing:
        sys.exit(f"no start/healthy events for {', '.join(missing)}")
    best: dict[str, tuple[float, list[str]]] = {}

    def longest(name: str) -> tuple[float, list[str]]:
        if name not in best:
            before = max((longest(n) for n in graph[name]), default=(0.0, []))
            best[name] = (before[0] + own[name], [*before[1], name])
        return best[name]

    return max((longest(n) for n in graph), key=lambda item: item[0])


def homestack(site: Path, *args: str, env: dict[str, str]) -> tuple[float, dict]:  # type: ignore[type-arg]
    started = time.monotonic()
    done = subprocess.run(
        [*HOMESTACK, "--site", str(site), *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(
            f"homestack {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return wall, json.loads(done.stdout)


def prepare(site: Path) -> None:
    """Networks, secrets, DATA folders and stand-in overrides, before anything is timed."""
    from homestack.catalog import Site
    from homestack.deploy.data import check_data
    from homestack.deploy.up import ensure_prerequisites

    loaded = Site.load(site)
    services = loaded.services(enabled_only=True)
    ensure_prerequisites(loaded, services, check_data(loaded, services))


def seed_way(site: Path, graph: dict[str, list[str]], count: int) -> float:
    """Each stack's compose up -d in turn (same files, same overrides), then wait for health."""
    from homestack.catalog import Site
    from homestack.deploy.projects import select
    from homestack.deploy.standin import override_text, resolve_image, write_override

    loaded = Site.load(site)
    selection = select(loaded, None)
    image = resolve_image("")
    delays = {name: delay_of(int(name[2:])) for name in graph}
    for stack in STACKS:
        project = selection.projects[stack]
        services = project.services or []
        text = override_text(loaded, project.stack, services, image, delays)
        project.extra_files = (write_override(loaded, project.stack, text),)
    started = time.monotonic()
    for stack in STACKS:
        selection.projects[stack].run("up", "-d")
    while not all_healthy(loaded.prefix, count):
        time.sleep(0.2)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep", action="store_true", help="leave the site and its containers for inspection"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="2 services per stack and short delays: checks that it runs (CI), times nothing",
    )
    args = parser.parse_args()
    keep = args.keep
    if args.smoke:
        global PER_STACK, DELAY_SCALE
        PER_STACK, DELAY_SCALE = 2, 0.2
    # `timeout` and `kill` send SIGTERM: clean up as on Ctrl-C instead of leaving 32 containers
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    prefix = f"hsb{uuid.uuid4().hex[:5]}_"
    env = {**os.environ, "HOMESTACK_PREFIX": prefix}
    os.environ["HOMESTACK_PREFIX"] = prefix
    folder = Path(tempfile.mkdtemp(prefix="homestack-bench-"))
    site = folder / "site"
    site.mkdir()
    graph = write_site(site)
    count = len(graph)
    delays = delay_args(graph)
    try:
        prepare(site)
        seed = seed_way(site, graph, count)
        homestack(site, "down", env=env)

        log = EventLog(prefix)
        wall, result = homestack(site, "up", "--stand-in", *delays, env=env)
        times = log.stop()
        asked = {run["service"]: run["launched"] for run in result["services"]}
        # a service's own time: from homestack asking the engine to start it (container start
        # included) to the engine's healthy event; the rest is homestack's scheduling
        own = {n: t["healthy"] - asked[n] for n, t in times.items() if "healthy" in t}
        critical, chain = critical_path(graph, own)
        gaps = [
            asked[after] - times[before]["healthy"] for before, after in itertools.pairwise(chain)
        ]
        noop, again = homestack(site, "up", "--stand-in", *delays, env=env)
        assert result["ok"] and not again["changed"], again["summary"]
        homestack(site, "down", env=env)
    finally:
        if not keep:
            subprocess.run(
                [*HOMESTACK, "--site", str(site), "down"], env=env, capture_output=True, check=False
            )
            remove_everything_named(prefix)
            shutil.rmtree(folder, ignore_errors=True)

    print(
        f"bring-up of {count} stand-in services in {len(STACKS)} stacks, "
        f"delays {delay_of(1):g}-{delay_of(3):g} s; critical chain {' -> '.join(chain)}"
    )
    print(f"{'way':<34}{'wall s':>8}{'vs critical':>13}")
    rows = [
        ("critical path (start -> healthy)", critical),
        ("homestack up", wall),
        ("seed: stacks up -d in turn, wait", seed),
    ]
    for label, seconds in rows:
        print(f"{label:<34}{seconds:>8.1f}{seconds / critical:>12.2f}x")
    print(f"{'homestack up, no-op second run':<34}{noop:>8.2f}")
    print(
        "homestack's latency on the critical chain (need healthy -> next start asked): "
        + ", ".join(f"{gap:.2f}" for gap in gaps)
        + " s"
    )
    print(
        f"homestack / seed: {wall / seed:.2f}x. The seed's way ignores cross-stack order: "
        "dependents start before what they need is healthy."
    )


if __name__ == "__main__":
    main()
