"""Swarm bring-up benchmark: `homestack up` vs `docker stack deploy` + wait, on the 3-node lab.

Builds the swarm lab (tests/swarmlab.sh: three dockerd's in network namespaces, root only),
copies the shipped catalog into a temporary site with DEPLOY_MODE=swarm, and measures, side
by side in one run, with the stand-in image and the same start-up delay for every service:

  homestack  `homestack up --stand-in` : services deployed in dependency order, each once
             what it needs is healthy (task running = health check passed)
  plain      the same translated stack files (homestack's own translation, so the specs are
             identical) given to `docker stack deploy` one stack after another, then waiting
             until every task is running: what a user of plain swarm does

For each way, one poller (every 0.25 s, the same code for both) notes when each service's
first task appeared and when it first ran healthy, and counts the services started before
something they depend on was healthy (homestack's should be 0).

Usage: python benchmarks/swarm.py [--smoke] [--delay SECONDS]
  --smoke   two nodes and the AI stack with what it needs (~10 services), for CI
Everything is removed at the end (the lab with it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PREFIX = "h21b_"


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="2 nodes, the AI stack only")
    parser.add_argument("--delay", type=float, default=2.0, help="stand-in start-up delay")
    return parser.parse_args()


class Poller(threading.Thread):
    """When each service's first task was seen, and when it first ran (healthy)."""

    def __init__(self, names: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.names = names  # swarm service name → homestack service
        self.seen: dict[str, float] = {}
        self.healthy: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        from homestack.engine import swarm as engine

        while not self.stop.is_set():
            now = time.monotonic()
            ids = {s.id: self.names.get(s.name) for s in engine.services()}
            for task in engine.tasks():
                name = ids.get(task.service_id)
                if not name:
                    continue
                self.seen.setdefault(name, now)
                if task.state == "running" and task.desired == "running":
                    self.healthy.setdefault(name, now)
            time.sleep(0.25)

    def early(self, needs: dict[str, set[str]]) -> list[str]:
        """Services whose first task came before something they need was healthy."""
        return sorted(
            name
            for name, wanted in needs.items()
            if name in self.seen
            and any(self.healthy.get(n, float("inf")) > self.seen[name] for n in wanted)
        )


def cli(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "homestack", "--site", str(site), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def main() -> int:
    args = parse()
    sys.path.insert(0, str(REPO / "tests"))
    from swarmkit import Lab, missing_tools  # type: ignore[import-not-found]
    from testkit.sites import copy_catalog  # type: ignore[import-not-found]

    why = missing_tools()
    if why:
        print("the swarm lab needs " + ", ".join(why), file=sys.stderr)
        return 1
    from homestack.standin_image import ensure_image

    image = ensure_image()
    nodes = 2 if args.smoke else 3
    lab = Lab.start(nodes, [image])
    os.environ["DOCKER_HOST"] = lab.manager
    try:
        with tempfile.TemporaryDirectory(prefix="homestack-swarm-bench-") as folder:
            return run(args, lab, copy_catalog(Path(folder)))
    finally:
        lab.stop()


def _prepared(site: Path, names: list[str], delay: float) -> tuple[object, object, object]:
    from homestack.catalog import Site
    from homestack.swarm import ops

    loaded = Site.load(site)
    selection, placements, _, _ = ops.prepare(
        loaded, names or None, stand_in="", delays={"*": delay}
    )
    return loaded, selection, placements


def _plain(site: Path, names: list[str], delay: float, poller: Poller, count: int) -> float:
    """The same translated stack files through `docker stack deploy`; seconds until every
    task runs."""
    from homestack.engine import swarm as engine
    from homestack.swarm import ops
    from homestack.swarm.translate import translate_stack

    loaded, selection, placements = _prepared(site, names, delay)
    merged = ops.parallel(selection.projects, ops._merged)  # type: ignore[attr-defined]
    ops._ensure_overlays(loaded, selection.services)  # type: ignore[arg-type, attr-defined]
    by_stack: dict[str, dict[str, object]] = {}
    for service in selection.services:  # type: ignore[attr-defined]
        by_stack.setdefault(service.stack, {})[service.id] = service
    files = {
        k: translate_stack(loaded, k, merged[k], members, placements)  # type: ignore[arg-type]
        for k, members in by_stack.items()
    }
    poller.start()
    with tempfile.TemporaryDirectory() as work:
        started = time.monotonic()
        for stack_id, spec in files.items():  # one stack after another, as a script would
            path = Path(work) / f"{stack_id}.yaml"
            path.write_text(json.dumps(spec))
            engine.stack_deploy(path, f"{PREFIX}{stack_id}")
        deadline = started + 600
        while len(poller.healthy) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        elapsed = time.monotonic() - started
    poller.stop.set()
    poller.join()
    return elapsed


def run(args: argparse.Namespace, lab: object, site: Path) -> int:
    from swarmkit import LAB_ENV

    (site / ".env").write_text(f"{LAB_ENV}HOMESTACK_PREFIX={PREFIX}\n")
    names = ["ai"] if args.smoke else []
    done = cli(site, "nodes", "label", "hs21n1", "data=true")
    assert done.returncode == 0, done.stderr
    _, selection, _ = _prepared(site, names, args.delay)
    needs = selection.graph.needs  # type: ignore[attr-defined]
    services = selection.services  # type: ignore[attr-defined]
    swarm_names = {f"{PREFIX}{s.stack}_{s.id}": s.id for s in services}
    count = len(services)

    poller = Poller(swarm_names)  # homestack: ordered, health-gated
    poller.start()
    started = time.monotonic()
    done = cli(site, "up", "--stand-in", "--stand-in-delay", str(args.delay), *names)
    homestack_s = time.monotonic() - started
    poller.stop.set()
    poller.join()
    if done.returncode != 0:
        print(done.stdout, done.stderr, file=sys.stderr)
        return 1
    homestack_early = poller.early(needs)
    cli(site, "down")

    poller = Poller(swarm_names)
    plain_s = _plain(site, names, args.delay, poller, count)
    plain_early = poller.early(needs)
    missing = count - len(poller.healthy)
    cli(site, "down")

    nodes = lab.nodes  # type: ignore[attr-defined]
    print(f"swarm bring-up, {count} stand-in services on {nodes} nodes, delay {args.delay}s")
    print(f"{'':30}{'homestack up':>14}{'stack deploy':>14}")
    print(f"{'time to all healthy (s)':30}{homestack_s:14.1f}{plain_s:14.1f}")
    print(f"{'started before needs healthy':30}{len(homestack_early):14d}{len(plain_early):14d}")
    print(f"ratio homestack/plain: {homestack_s / plain_s:.2f}x")
    if missing:
        print(f"plain way: {missing} services never became healthy within 600 s")
    if plain_early:
        print("plain way started early: " + ", ".join(plain_early))
    return 1 if homestack_early else 0


if __name__ == "__main__":
    sys.exit(main())
