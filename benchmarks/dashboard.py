"""The dashboard (`homestack serve`) against `homestack status --json`, 50 stand-in containers.

Starts a throwaway site of stand-in containers (a unique name prefix), runs `homestack serve`
on a free loopback port, logs in, and measures side by side in one run:

  A  homestack status --json           (the console script, a fresh process)
  B  GET /  (the overview page, a fresh status sample: no page open, the cache expired)
  C  GET /  with one page open          (the live sampler keeps the status; served from it)
  L  docker kill -> the row's SSE event saying it exited (the browser's view of a stop)
  I  the server's CPU while one page stays open and idle (% of one core)

and prints the medians with the ratios B/A and C/A against the targets (overview <= 1.2x of
status and under 300 ms; SSE <= 1.5 s; idle CPU < 2 %). Everything it made is removed.

    .venv/bin/python benchmarks/dashboard.py [--containers 50] [--runs 5] [--idle 60]
    .venv/bin/python benchmarks/dashboard.py --smoke   # 4 containers, 2 runs, 5 s idle
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
LABEL = "homestack.test"
STACKS = {"ai": "ai-services", "media": "media-services"}
FRESH_S = 2.0  # the server's own cache window (homestack.web.app.FRESH_S)


def write_site(root: Path, prefix: str, count: int) -> dict[str, str]:
    """Write the site; service → its stack."""
    (root / "base.docker-compose.yaml").write_text(
        "networks:\n"
        + "".join(
            f"  {net}:\n    name: ${{HOMESTACK_PREFIX:-}}{net}\n    external: true\n"
            for net in STACKS.values()
        )
    )
    (root / ".env").write_text(f"HOMESTACK_PREFIX={prefix}\nDOMAIN=home.test\nDATA_ROOT=./DATA\n")
    names: dict[str, list[str]] = {stack: [] for stack in STACKS}
    for index in range(count):
        names[list(STACKS)[index % len(STACKS)]].append(f"svc{index:02d}")
    for stack, services in names.items():
        folder = root / f"{stack}-stack" / "services"
        folder.mkdir(parents=True)
        (root / f"{stack}-stack" / "stack.yaml").write_text(
            "services:\n" + "".join(f"  - {s}\n" for s in services)
        )
        for service in services:
            (folder / f"{service}.docker-compose.yaml").write_text(
                f"services:\n  {service}:\n"
                f"    x-homestack: {{title: {service}, description: bench, web: {{port: 8080}}}}\n"
                "    image: homestack/standin:local\n"
                f"    labels: {{{LABEL}: '1'}}\n"
                "    command: ['sh', '-c', 'while true; do sleep 1; done']\n"
                "    healthcheck: {test: ['CMD', 'true'], interval: 2s, retries: 2}\n"
                f"    networks: [{STACKS[stack]}]\n"
            )
    return {s: stack for stack, services in names.items() for s in services}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Events:
    """One /events stream read in a thread: the times each row's state was seen."""

    def __init__(self, client: Any, url: str) -> None:
        self.seen: list[tuple[float, str, str]] = []  # (time, row id, state)
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._read, args=(client, url), daemon=True)
        self.thread.start()

    def _read(self, client: Any, url: str) -> None:
        import re

        import httpx

        with (
            contextlib.suppress(httpx.TransportError),
            client.stream("GET", url + "/events", timeout=None) as answer,
        ):
            self.ready.set()
            event = ""
            for line in answer.iter_lines():
                if self.stop.is_set():
                    return
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "row":
                    data = json.loads(line[6:])
                    state = re.search(r'data-state="([^"]*)"', data["html"])
                    self.seen.append((time.perf_counter(), data["id"], state[1] if state else ""))

    def wait_for(self, row: str, state: str, after: float, timeout: float = 15) -> float | None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            for when, seen_row, seen_state in list(self.seen):
                if when >= after and seen_row == row and seen_state == state:
                    return when
            time.sleep(0.01)
        return None


def main() -> int:  # noqa: PLR0915 - one measured run, step by step
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=60.0, help="seconds of the idle CPU row")
    parser.add_argument("--smoke", action="store_true", help="4 containers, 2 runs, 5 s idle")
    args = parser.parse_args()
    if args.smoke:
        args.containers, args.runs, args.idle = 4, 2, 5.0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    sys.path.insert(0, str(REPO / "src"))
    import httpx

    from homestack.catalog import Site
    from homestack.deploy.up import raise_for, up
    from homestack.standin_image import ensure_image
    from homestack.web.auth import new_password

    ensure_image()
    prefix = f"hsdash{uuid.uuid4().hex[:6]}_"
    homestack = str(Path(sys.executable).parent / "homestack")
    docker = shutil.which("docker") or "docker"
    os.environ.pop("HOMESTACK_PREFIX", None)
    server = None
    with tempfile.TemporaryDirectory(prefix="homestack-bench-") as folder:
        root = Path(folder)
        services = write_site(root, prefix, args.containers)
        try:
            print(f"starting {args.containers} stand-in containers …", flush=True)
            raise_for(up(Site.load(root), None))
            password = new_password(Site.load(root))
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            log = (root / "serve.log").open("ab")
            server = subprocess.Popen(
                [homestack, "--site", folder, "serve", "--port", str(port)],
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
            client = httpx.Client(base_url=url, timeout=60)
            for _ in range(100):
                try:
                    client.get("/login")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            token = client.cookies.get("homestack_login") or ""
            client.post("/login", data={"csrf": token, "password": password, "next": "/"})
            assert client.get("/api/session").status_code == 200, "login failed"

            status_cmd = [homestack, "--site", folder, "status", "--json"]
            timed(status_cmd)  # warm caches once
            client.get("/")
            a_runs: list[float] = []
            b_runs: list[float] = []
            for _ in range(args.runs):
                a_runs.append(timed(status_cmd))
                time.sleep(FRESH_S + 0.2)  # the page samples afresh, as with no page open
                start = time.perf_counter()
                assert client.get("/").status_code == 200
                b_runs.append(time.perf_counter() - start)

            events = Events(httpx.Client(base_url=url, cookies=client.cookies), url)
            events.ready.wait(10)
            time.sleep(1.0)
            c_runs: list[float] = []
            for _ in range(args.runs):
                start = time.perf_counter()
                assert client.get("/").status_code == 200
                c_runs.append(time.perf_counter() - start)
                time.sleep(0.3)

            latencies: list[float] = []
            for index in range(args.runs):
                service = sorted(services)[index % len(services)]
                container = f"{prefix}{services[service]}-{service}-1"
                killed = time.perf_counter()
                subprocess.run([docker, "kill", container], check=True, capture_output=True)
                seen = events.wait_for(f"row-{container}", "exited", killed)
                latencies.append((seen - killed) if seen else float("inf"))
                subprocess.run([docker, "start", container], check=True, capture_output=True)
                events.wait_for(f"row-{container}", "healthy", time.perf_counter(), timeout=30)

            print(f"idle for {args.idle:.0f} s with one page open …", flush=True)
            time.sleep(2)
            cpu0, wall0 = cpu_seconds(server.pid), time.perf_counter()
            time.sleep(args.idle)
            idle = (cpu_seconds(server.pid) - cpu0) / (time.perf_counter() - wall0) * 100
            events.stop.set()

            a, b, c = (statistics.median(x) for x in (a_runs, b_runs, c_runs))
            latency = statistics.median(latencies)
            print(f"\n{args.containers} containers, {args.runs} runs each")
            print(f"{'':52} {'median':>8} {'min':>8} {'max':>8}")
            for name, values in (
                ("A homestack status --json", a_runs),
                ("B GET / (fresh sample)", b_runs),
                ("C GET / (one page open: live sample)", c_runs),
                ("L docker kill -> SSE row exited", latencies),
            ):
                median = statistics.median(values)
                print(f"{name:52} {median:7.3f}s {min(values):7.3f}s {max(values):7.3f}s")
            print(f"{'I server CPU, one page open, idle':52} {idle:7.2f}%")
            print()
            print(f"B / A (overview vs status --json)   {b / a:.2f}x")
            print(f"C / A (live overview vs status)     {c / a:.2f}x")
            met = b <= 1.2 * a and b < 0.3 and latency <= 1.5 and idle < 2.0
            print(
                "targets (B <= 1.2 x A and B < 300 ms; L <= 1.5 s; I < 2 %): "
                + ("met" if met else "NOT met")
            )
            print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        finally:
            print("cleaning up …", flush=True)
            if server is not None:
                server.terminate()
                try:
                    server.wait(10)
                except subprocess.TimeoutExpired:
                    server.kill()
            listed = subprocess.run(
                [docker, "ps", "-aq", "--filter", f"name=^{prefix}"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.split()
            if listed:
                subprocess.run(
                    [docker, "rm", "-f", "-v", *listed], capture_output=True, check=False
                )
            for net in STACKS.values():
                subprocess.run(
                    [docker, "network", "rm", prefix + net], capture_output=True, check=False
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
