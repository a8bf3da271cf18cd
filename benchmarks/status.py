"""`homestack status --json` against `docker ps` + `docker stats --no-stream`, 50 containers.

Starts 50 stand-in containers as a throwaway site (four stacks, a unique name prefix), then
times, interleaved and side by side in one run:

  A  homestack status --json                      (the console script, a fresh process)
  B  docker ps + docker stats --no-stream         (what a user types by hand)
  C  docker stats --no-stream alone
  D  homestack status --json, HOMESTACK_STATS=api (the Engine API stats path, no cgroup reads)

and prints the medians with the ratios A/B, A/C and D/C. Everything it created is removed.

    .venv/bin/python benchmarks/status.py [--containers 50] [--runs 5]
    .venv/bin/python benchmarks/status.py --smoke   # 4 containers, 1 run: checks that it runs
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from homestack.catalog import Site

REPO = Path(__file__).resolve().parent.parent
#: stack -> its network, as the shipped stack.yaml names it
STACKS = {stack.id: stack.network for stack in Site.load(REPO).stacks.values()}
LABEL = "homestack.test"


def write_site(root: Path, prefix: str, count: int) -> dict[str, list[str]]:
    (root / "base.docker-compose.yaml").write_text(
        "networks:\n"
        + "".join(
            f"  {net}:\n    name: ${{HOMESTACK_PREFIX:-}}{net}\n    external: true\n"
            for net in STACKS.values()
        )
    )
    (root / ".env").write_text(f"HOMESTACK_PREFIX={prefix}\nDOMAIN=home.test\n")
    names: dict[str, list[str]] = {stack: [] for stack in STACKS}
    for index in range(count):
        stack = list(STACKS)[index % len(STACKS)]
        names[stack].append(f"svc{index:02d}")
    for stack, services in names.items():
        folder = root / f"{stack}-stack" / "services"
        folder.mkdir(parents=True)
        (root / f"{stack}-stack" / "stack.yaml").write_text(
            f"network: {STACKS[stack]}\nservices:\n" + "".join(f"  - {s}\n" for s in services)
        )
        for service in services:
            (folder / f"{service}.docker-compose.yaml").write_text(
                f"services:\n  {service}:\n"
                f"    x-homestack: {{title: {service}, description: bench, "
                f"web: {{port: 8080}}}}\n"
                "    image: homestack/standin:local\n"
                f"    labels: {{{LABEL}: '1'}}\n"
                "    command: ['sh', '-c', 'while true; do sleep 1; done']\n"
                f"    networks: [{STACKS[stack]}]\n"
            )
    return names


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--smoke", action="store_true", help="4 containers, 1 run: checks that it runs (CI)"
    )
    args = parser.parse_args()
    if args.smoke:
        args.containers, args.runs = 4, 1
    return args


def main() -> int:
    args = parse_args()
    # `timeout` and `kill` send SIGTERM: clean up as on Ctrl-C, not leave what was made
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    sys.path.insert(0, str(REPO / "src"))
    from homestack.catalog import Site
    from homestack.engine.compose import ComposeProject
    from homestack.standin_image import ensure_image

    ensure_image()
    prefix = f"hsbench{uuid.uuid4().hex[:6]}_"
    # the process environment wins over the site's .env: an exported HOMESTACK_PREFIX (a
    # real site's) would send Compose to that site's networks
    os.environ["HOMESTACK_PREFIX"] = prefix
    homestack = str(Path(sys.executable).parent / "homestack")
    docker = shutil.which("docker") or "docker"
    with tempfile.TemporaryDirectory(prefix="homestack-bench-") as folder:
        root = Path(folder)
        write_site(root, prefix, args.containers)
        try:
            for net in STACKS.values():
                subprocess.run(
                    [docker, "network", "create", "--label", f"{LABEL}=1", prefix + net],
                    check=True,
                    capture_output=True,
                )
            site = Site.load(root)
            print(f"starting {args.containers} stand-in containers …", flush=True)
            with ThreadPoolExecutor(4) as pool:
                list(
                    pool.map(
                        lambda s: ComposeProject(site, s).run("up", "-d", timeout=600),
                        site.stacks.values(),
                    )
                )
            ids = subprocess.run(
                [docker, "ps", "-q", "--filter", f"name=^{prefix}"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            assert len(ids) == args.containers, f"{len(ids)} running"
            env = dict(os.environ)
            api_env = dict(env, HOMESTACK_STATS="api")
            commands: dict[str, Callable[[], float]] = {
                "A homestack status --json": lambda: timed(
                    [homestack, "--site", folder, "status", "--json"], env
                ),
                "B docker ps + docker stats --no-stream": lambda: (
                    timed([docker, "ps", "--filter", f"label={LABEL}"])
                    + timed([docker, "stats", "--no-stream", *ids])
                ),
                "C docker stats --no-stream": lambda: timed([docker, "stats", "--no-stream", *ids]),
                "D homestack status --json (Engine API stats)": lambda: timed(
                    [homestack, "--site", folder, "status", "--json"], api_env
                ),
            }
            for run in commands.values():  # warm caches once
                run()
            samples: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(args.runs):
                for name, run in commands.items():
                    samples[name].append(run())
            print(f"\n{args.containers} containers, {args.runs} runs each, interleaved")
            print(f"{'':46} {'median':>8} {'min':>8} {'max':>8}")
            medians = {}
            for name, values in samples.items():
                medians[name[0]] = statistics.median(values)
                print(f"{name:46} {medians[name[0]]:7.3f}s {min(values):7.3f}s {max(values):7.3f}s")
            print()
            print(f"A / B (status vs ps + stats)       {medians['A'] / medians['B']:.2f}x")
            print(f"A / C (status vs stats alone)      {medians['A'] / medians['C']:.2f}x")
            print(f"D / C (API path vs stats alone)    {medians['D'] / medians['C']:.2f}x")
            target = medians["A"] < 1.0 and medians["A"] <= 1.5 * medians["C"]
            print(f"target (A < 1 s and A <= 1.5 x C): {'met' if target else 'NOT met'}")
            print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        finally:
            print("cleaning up …", flush=True)
            listed = subprocess.run(
                [docker, "ps", "-aq", "--filter", f"name=^{prefix}"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.split()
            if listed:
                subprocess.run([docker, "rm", "-f", *listed], capture_output=True, check=False)
            for net in STACKS.values():
                subprocess.run(
                    [docker, "network", "rm", prefix + net], capture_output=True, check=False
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
