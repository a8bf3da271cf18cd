"""Update benchmark, one run against a local registry (Debian's docker-registry), side by side:

  update     `homestack update` of one service (registry, pre-update snapshot, pull, file +
             lock, recreate through `up`, health gate, history) vs `docker compose pull &&
             docker compose up -d` of the same service to the same tag (and, for reference,
             `up -d --wait`, which waits for health as update does). The image is removed
             locally before every run on both sides, so both pull. Target: update's time
             beyond the snapshot ≤ 1.3x the compose pair.
  rollback   time from the failing health gate of a bad tag (its health check fails) to the
             previous version healthy again: file, lock, container (reported).
  outdated   `outdated` over 25 services (each its own repository, nothing cached) vs the
             slowest single registry round trip (one tag list, a fresh client). Measured
             straight on loopback and through a proxy that adds --latency-ms per connection,
             like a registry across the internet. Target ≤ 1.5x.

    .venv/bin/python benchmarks/update.py            # 3 rounds, 25 services, 100 ms latency
    .venv/bin/python benchmarks/update.py --smoke    # 1 round, 5 services: a quick look

Needs a Docker engine, the Compose plugin, restic and docker-registry. Everything is created
under a unique prefix and removed at the end (containers, images, the registry's storage).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = """FROM homestack/standin:local
LABEL org.homestack.bench.tag="{tag}"
HEALTHCHECK --interval=1s --timeout=2s --start-period=3s --retries=1 \\
  CMD ["sh", "-c", "test -f /tmp/ok"]
CMD ["sh", "-c", {script}]
"""
LOOP = "trap 'exit 0' TERM; while :; do sleep 1; done"
SERVICE = """services:
  {name}:
    x-homestack:
      title: {name}
      description: update benchmark
      backup:
        consistency: stop
    image: {image}
    stop_grace_period: 2s
    volumes:
      - bench_{name}_data:/data
    labels:
      homestack.test: "1"

volumes:
  bench_{name}_data:
    name: ${{HOMESTACK_PREFIX:-}}bench_{name}_data
    driver: local
    driver_opts:
      type: none
      o: bind
      device: ${{DATA_ROOT:?}}/{name}
"""


def docker(*args: str, check: bool = True) -> str:
    done = subprocess.run(
        ["docker", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )
    if check and done.returncode != 0:
        raise SystemExit(f"docker {' '.join(args[:3])}: {done.stderr.strip()}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def local_registry(root: Path) -> Iterator[str]:
    port = free_port()
    (root / "storage").mkdir(parents=True)
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'storage'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    process = subprocess.Popen(
        ["docker-registry", "serve", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not _answers(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def _answers(port: int) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def proxy_process(upstream: str, delay: float) -> Iterator[str]:
    """The latency proxy in a process of its own: its threads never wait on this one's GIL."""
    with tempfile.TemporaryDirectory(prefix="hsbench-proxy-") as folder:
        port_file = Path(folder) / "port"
        child = subprocess.Popen(
            [sys.executable, __file__, "--proxy", upstream, str(delay), str(port_file)],
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while not port_file.exists() or not port_file.read_text().strip():
                if time.monotonic() > deadline or child.poll() is not None:
                    raise SystemExit("the latency proxy did not start")
                time.sleep(0.05)
            yield port_file.read_text().strip()
        finally:
            child.terminate()
            child.wait(10)


def run_proxy(upstream: str, delay: str, port_file: str) -> int:
    """The latency proxy (asyncio: no thread per connection to load the machine it measures)."""
    import asyncio

    host, port = upstream.rsplit(":", 1)
    wait = float(delay)

    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(wait)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        writer.close()
        up_writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=256)
        address = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
        Path(port_file + ".tmp").write_text(address)
        Path(port_file + ".tmp").rename(port_file)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())
    return 0


def build_and_push(repository: str, tag: str, healthy: bool = True) -> None:
    script = "mkdir -p /tmp; " + (f"touch /tmp/ok; {LOOP}" if healthy else LOOP)
    with tempfile.TemporaryDirectory(prefix="hsbench-img-") as folder:
        Path(folder, "Dockerfile").write_text(DOCKERFILE.format(tag=tag, script=json.dumps(script)))
        docker("build", "-q", "-t", f"{repository}:{tag}", folder)
    docker("push", f"{repository}:{tag}")


def drop_local(repository: str) -> None:
    names = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repository).split()
    ids = docker("image", "ls", "-q", "--filter", f"reference={repository}").split()
    for name in [*names, *ids]:
        docker("rmi", "-f", name, check=False)


def make_site(root: Path, prefix: str, services: dict[str, str]) -> Path:
    stack = root / "bench-stack" / "services"
    stack.mkdir(parents=True)
    (root / "base.docker-compose.yaml").write_text("networks: {}\n")
    (root / ".env").write_text(
        f"HOMESTACK_PREFIX={prefix}\nDATA_ROOT=./DATA\nSECRETS_DIR=./secrets\n"
    )
    listed = "".join(f"  - {name}\n" for name in services)
    (stack.parent / "stack.yaml").write_text(f"description: bench\nservices:\n{listed}")
    for name, image in services.items():
        (stack / f"{name}.docker-compose.yaml").write_text(SERVICE.format(name=name, image=image))
        (root / "DATA" / name).mkdir(parents=True)
        (root / "DATA" / name / "state.txt").write_text(f"{name}\n" * 1000)
    (root / "secrets").mkdir()
    return root


def set_tag(root: Path, name: str, image: str) -> None:
    path = root / "bench-stack" / "services" / f"{name}.docker-compose.yaml"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(f"    image: {image}\n" if "    image:" in ln else ln for ln in lines))


def compose_args(root: Path) -> list[str]:
    from homestack.catalog import Site
    from homestack.engine.compose import ComposeProject

    site = Site.load(root)
    return ComposeProject(site, site.stacks["bench"]).base_args()


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.monotonic() - started


def bench_update(work: Path, registry: str, rounds: int, prefix: str) -> dict[str, float]:
    from homestack.catalog import Site
    from homestack.deploy.up import up
    from homestack.update.apply import update

    repository = f"{registry}/hsbench/app"
    ours = make_site(work / "ours", prefix, {"app": f"{repository}:1.0.0"})
    theirs = make_site(work / "theirs", prefix + "c_", {"app": f"{repository}:1.0.0"})
    for root in (ours, theirs):
        result = up(Site.load(root), None, timeout=60)
        assert result.ok, result.summary()
    from homestack.catalog import Site as S

    env = {**os.environ, **S.load(theirs).compose_environ()}
    rows: dict[str, list[float]] = {
        "update": [],
        "snapshot": [],
        "beyond": [],
        "pair": [],
        "wait": [],
    }
    tags = ["1.0.1", "1.0.0"]
    for index in range(rounds):
        tag = tags[index % 2]
        drop_one(repository, tag)
        report = update(Site.load(ours), "app", to=tag, timeout=60)
        assert report.ok, report.reason
        rows["update"].append(report.elapsed)
        rows["snapshot"].append(report.timings.get("snapshot", 0.0))
        rows["beyond"].append(report.elapsed - report.timings.get("snapshot", 0.0))
        for key, extra in (("pair", []), ("wait", ["--wait"])):
            drop_one(repository, tag)
            set_tag(theirs, "app", f"{repository}:{tag}")
            args = compose_args(theirs)
            pulled = timed([*args, "pull", "--quiet", "app"], env)
            rows[key].append(pulled + timed([*args, "up", "-d", *extra, "app"], env))
            if key == "pair":  # back to where it was, for the --wait run
                other = tags[(index + 1) % 2]
                set_tag(theirs, "app", f"{repository}:{other}")
                subprocess.run(
                    [*compose_args(theirs), "up", "-d", "--wait", "app"],
                    check=True,
                    capture_output=True,
                    env=env,
                )
    return {k: statistics.median(v) for k, v in rows.items()}


def drop_one(repository: str, tag: str) -> None:
    """The image of `tag` off this machine (unless a container uses it), so it is pulled."""
    docker("rmi", f"{repository}:{tag}", check=False)


def bench_rollback(work: Path, registry: str, prefix: str) -> float:
    from homestack.catalog import Site
    from homestack.update.apply import update

    report = update(Site.load(work / "ours"), "app", to="1.2.0", timeout=60)
    assert report.rolled_back and report.ok is False, report.steps
    return report.timings["rollback"]


def bench_outdated(
    work: Path, registry: str, count: int, prefix: str, delay: float
) -> dict[str, float]:
    from homestack.catalog import Site
    from homestack.update.outdated import outdated
    from homestack.update.registry import Cache, ImageRef, Registry

    out: dict[str, float] = {}
    for label in ("loopback", "latency"):
        proxied = proxy_process(registry, delay) if label == "latency" else None
        address = proxied.__enter__() if proxied else registry
        root = work / f"outdated-{label}"
        make_site(
            root,
            prefix + "o_",
            {f"svc{i:02d}": f"{address}/hsbench/svc{i:02d}:1.0.0" for i in range(count)},
        )
        site = Site.load(root)
        singles = []
        for i in range(min(count, 5)):
            client = Registry(Cache(None, 0))
            started = time.monotonic()
            client.tags(ImageRef.parse(f"{address}/hsbench/svc{i:02d}:1.0.0"))
            singles.append(time.monotonic() - started)
        runs = []
        for _ in range(3):
            result = outdated(site, registry=Registry(Cache(None, 0)))
            assert not result.warnings, result.warnings
            assert all(r.patch == "1.0.1" for r in result.services)
            runs.append(result.elapsed)
        out[f"{label}_single"] = max(singles)
        out[f"{label}_outdated"] = statistics.median(runs)
        if proxied:
            proxied.__exit__(None, None, None)
    return out


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--proxy":  # the latency proxy's own process
        return run_proxy(*sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="1 round, 5 services")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--services", type=int, default=25)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args()
    if args.smoke:
        args.rounds, args.services = 1, 5
    for tool in ("docker", "docker-registry", "restic"):
        if shutil.which(tool) is None:
            print(f"benchmarks/update.py needs {tool}", file=sys.stderr)
            return 2
    from homestack.standin_image import ensure_image

    ensure_image()
    prefix = f"hsbench{uuid.uuid4().hex[:4]}_"
    os.environ["HOMESTACK_REGISTRY_TTL"] = "0"
    # each site names its own prefix in its .env; an exported one (a real site's) would win
    # over both and put them on one set of volumes
    os.environ.pop("HOMESTACK_PREFIX", None)
    work = Path(tempfile.mkdtemp(prefix="hsbench-update-"))
    repositories: list[str] = []
    try:
        with local_registry(work / "registry") as registry:
            app = f"{registry}/hsbench/app"
            repositories.append(app)
            for tag in ("1.0.0", "1.0.1"):
                build_and_push(app, tag)
            build_and_push(app, "1.2.0", healthy=False)
            for i in range(args.services):
                name = f"{registry}/hsbench/svc{i:02d}"
                repositories.append(name)
                for tag in ("1.0.0", "1.0.1"):
                    docker("tag", f"{app}:{tag}", f"{name}:{tag}")
                    docker("push", f"{name}:{tag}")
            for name in repositories:
                drop_local(name)
            upd = bench_update(work, registry, args.rounds, prefix)
            back = bench_rollback(work, registry, prefix)
            seen = bench_outdated(work, registry, args.services, prefix, args.latency_ms / 1000)
    finally:
        for suffix in ("", "c_", "o_"):
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import sys; sys.path.insert(0, 'tests'); "
                    "from testkit.engine import remove_everything_named as r; r(sys.argv[1])",
                    prefix + suffix,
                ],
                cwd=REPO,
                check=False,
            )
        for name in repositories:
            drop_local(name)
        shutil.rmtree(work, ignore_errors=True)
    print(f"update benchmark: {args.rounds} round(s), medians, local docker-registry")
    print(f"  homestack update (total)             {upd['update']:7.2f} s")
    print(f"    of which the pre-update snapshot   {upd['snapshot']:7.2f} s")
    print(f"    beyond the snapshot                {upd['beyond']:7.2f} s")
    print(f"  compose pull && up -d                {upd['pair']:7.2f} s")
    print(f"  compose pull && up -d --wait         {upd['wait']:7.2f} s")
    print(
        f"  ratio beyond-snapshot / pull+up -d   {upd['beyond'] / upd['pair']:7.2f} x"
        "  (target <= 1.3)"
    )
    print(f"  ratio beyond-snapshot / pull+up --wait {upd['beyond'] / upd['wait']:5.2f} x")
    print(f"rollback: failing health gate -> old version healthy  {back:7.2f} s")
    for label in ("loopback", "latency"):
        single, whole = seen[f"{label}_single"], seen[f"{label}_outdated"]
        extra = f" (+{args.latency_ms:g} ms per connection)" if label == "latency" else ""
        print(
            f"outdated {args.services} services, {label}{extra}: {whole * 1000:7.1f} ms vs slowest "
            f"single round trip {single * 1000:6.1f} ms = {whole / single:5.2f} x  (target <= 1.5)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
