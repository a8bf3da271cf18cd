"""Wall time of the catalog commands, side by side with `docker compose config`.

    .venv/bin/python benchmarks/cli_latency.py [--rounds 5] [--services 200]

Measures, best of N rounds interleaved in one run, on the shipped catalog and on a generated
catalog of 200 services in 4 stacks: `homestack ls`, `plan`, `validate --offline` and
`validate` (lint + Compose's check), each as the user runs it (a fresh process of the console
script), against `docker compose config` on the same files, one stack after the other (what
a user would type). Targets (issue 2): ls and plan under 300 ms for 200 services; validate
within 1.5x of Compose's own config. Not a test: it prints numbers and never fails a build.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from homestack.catalog import Site

REPO = Path(__file__).resolve().parents[1]
#: each shipped stack's network, as its stack.yaml names it
NETWORKS = {stack.id: stack.network for stack in Site.load(REPO).stacks.values()}
STACK_IDS = ("ai", "essentials", "management", "media")
HOMESTACK = Path(sys.executable).parent / "homestack"

SERVICE = """\
services:
  {name}:
    x-homestack:
      title: {title}
      description: >-
        Generated service {index} of the {stack} stack, shaped like the shipped ones: web UI,
        secrets, backup settings and a dependency on the service before it.
      critical: {critical}
      gpu: {gpu}
      web:
        port: 8080
        path: /
        publish: true  # its host port is deliberate (lint ports.signon-bypass)
      secrets:
        - name: api_key
          length: 40
      backup:
        consistency: stop
        paths: [data, config]
      depends_on: [{depends}]
    image: example/{name}:1.{index}.0
    restart: unless-stopped
    environment:
      TZ: ${{TZ:-Etc/UTC}}
      PUID: ${{PUID:-1000}}
      PGID: ${{PGID:-1000}}
      {upper}_LOG_LEVEL: ${{{upper}_LOG_LEVEL:-info}}
    ports:
      - "${{BIND_ADDRESS:-127.0.0.1}}:${{{upper}_PORT:-{port}}}:8080"
    volumes:
      - {stack}_{name}_data:/data
      - ${{DATA_ROOT:?DATA_ROOT is set by homestack}}/config/{name}:/config
    secrets:
      - {name}_api_key
    networks:
      - {network}
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 30s
      timeout: 5s
      retries: 3
      start_period: 20s
    security_opt:
      - no-new-privileges:true
    cap_drop:
      - ALL
    deploy:
      resources:
        limits:
          cpus: "${{{upper}_CPUS:-1}}"
          memory: ${{{upper}_MEMORY:-512m}}

volumes:
  {stack}_{name}_data:
    name: ${{HOMESTACK_PREFIX:-}}{stack}_{name}_data
    driver: local
    driver_opts:
      type: none
      o: bind
      device: ${{DATA_ROOT:?DATA_ROOT is set by homestack}}/{name}

secrets:
  {name}_api_key:
    file: ${{SECRETS_DIR:-./secrets}}/{name}_api_key
"""

NVIDIA = """\
services:
  {name}:
    deploy:
      resources:
        reservations:
          devices:
            - driver: nvidia
              count: all
              capabilities: [gpu]
"""


def generate_catalog(root: Path, total: int) -> Path:
    """`total` services spread over the four stacks, every one enabled."""
    shutil.copy2(REPO / "base.docker-compose.yaml", root / "base.docker-compose.yaml")
    shutil.copy2(REPO / ".env.example", root / ".env.example")
    per_stack = total // len(STACK_IDS)
    index = 0
    for position, stack in enumerate(STACK_IDS):
        folder = root / f"{stack}-stack"
        services = folder / "services"
        services.mkdir(parents=True)
        names = [f"{stack}-svc{n:03d}" for n in range(per_stack)]
        depends = ["essentials"] if stack != "essentials" else []
        (folder / "stack.yaml").write_text(
            f"# generated\ndescription: generated {stack} stack\nnetwork: {NETWORKS[stack]}\n"
            + ("depends_on:\n" + "".join(f"  - {d}\n" for d in depends) if depends else "")
            + "services:\n"
            + "".join(f"  - {name}  # service {n}\n" for n, name in enumerate(names)),
            encoding="utf-8",
        )
        (folder / ".env.example").write_text(f"# {stack} settings\nSTACK={stack}\n", "utf-8")
        for n, name in enumerate(names):
            index += 1
            gpu = "optional" if stack == "ai" and n % 5 == 0 else "none"
            (services / f"{name}.docker-compose.yaml").write_text(
                SERVICE.format(
                    name=name,
                    title=name.title(),
                    index=index,
                    stack=stack,
                    critical="true" if n == 0 else "false",
                    gpu=gpu,
                    depends=names[n - 1] if n else "",
                    upper=name.upper().replace("-", "_"),
                    port=20000 + position * 1000 + n,
                    network=NETWORKS[stack],
                ),
                encoding="utf-8",
            )
            if gpu != "none":
                (services / f"{name}.nvidia.docker-compose.yaml").write_text(
                    NVIDIA.format(name=name), encoding="utf-8"
                )
            if n % 10 == 0:
                env_dir = services / name
                env_dir.mkdir()
                (env_dir / ".env.example").write_text(
                    f"{name.upper().replace('-', '_')}_LOG_LEVEL=debug\n", encoding="utf-8"
                )
    return root


def compose_commands(root: Path) -> list[tuple[list[str], dict[str, str]]]:
    """The `docker compose config` that `validate` runs for each stack: same files, same
    overlays (all of them), same env files and environment."""
    from homestack.catalog import Site
    from homestack.engine.compose import ComposeProject
    from homestack.validate import all_overlays

    site = Site.load(root)
    commands = []
    for stack in site.stacks.values():
        if stack.enabled:
            project = ComposeProject(site, stack, overlays=all_overlays(stack))
            commands.append(([*project.base_args(), "config", "--quiet"], project.environment()))
    return commands


Timing = tuple[float, float]  # wall seconds, CPU seconds (user + sys of the child)


def timed(argv: list[str], env: dict[str, str]) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:  # a run that stopped early would look fast: refuse to time it
        sys.exit(
            f"{' '.join(argv[:8])} … exited {done.returncode}:\n"
            f"{done.stdout.decode()[-2000:]}{done.stderr.decode()[-2000:]}"
        )
    return wall, cpu


def measure(root: Path) -> dict[str, Callable[[], Timing]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMESTACK_")}
    env["HOMESTACK_PREFIX"] = "bench_"
    site = ["--site", str(root)]
    compose = compose_commands(root)

    cold = {**env, "HOMESTACK_NO_CACHE": "1"}  # every file parsed again, as on a first run

    def homestack(*argv: str, environ: dict[str, str] = env) -> Callable[[], Timing]:
        return lambda: timed([str(HOMESTACK), *site, *argv], environ)

    def compose_sequential() -> Timing:
        runs = [timed(argv, {**cenv, "HOMESTACK_PREFIX": "bench_"}) for argv, cenv in compose]
        return sum(r[0] for r in runs), sum(r[1] for r in runs)

    return {
        "homestack ls": homestack("ls"),
        "homestack ls (cold: no parse cache)": homestack("ls", environ=cold),
        "homestack plan": homestack("plan"),
        "homestack plan (cold)": homestack("plan", environ=cold),
        "homestack validate --offline": homestack("validate", "--offline"),
        "homestack validate": homestack("validate"),
        f"docker compose config ({len(compose)} stacks, one by one)": compose_sequential,
    }


def count_services(root: Path) -> int:
    return sum(1 for _ in root.glob("*-stack/services/*.docker-compose.yaml")) - sum(
        1 for _ in root.glob("*-stack/services/*.*.docker-compose.yaml")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="best of N (default 5)")
    parser.add_argument("--services", type=int, default=200, help="generated catalog size")
    parser.add_argument("--keep", action="store_true", help="keep the generated catalog")
    parser.add_argument(
        "--smoke", action="store_true", help="1 round of 8 services: checks that it runs (CI)"
    )
    args = parser.parse_args()
    if args.smoke:
        args.rounds, args.services = 1, 8
    # `timeout` and `kill` send SIGTERM: clean up as on Ctrl-C, not leave what was made
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    workdir = Path(tempfile.mkdtemp(prefix="homestack-bench-"))
    try:
        generated = generate_catalog(workdir, args.services)
        catalogs = {"shipped": REPO, f"{args.services} services": generated}
        suites = {name: measure(root) for name, root in catalogs.items()}
        best: dict[str, dict[str, Timing]] = {name: {} for name in catalogs}
        for _ in range(args.rounds):  # interleaved, so drift hits every column alike
            for name, suite in suites.items():
                for label, run in suite.items():
                    wall, cpu = run()
                    old_wall, old_cpu = best[name].get(label, (wall, cpu))
                    best[name][label] = (min(wall, old_wall), min(cpu, old_cpu))
        report(catalogs, best, args.rounds)
        if args.keep:
            print(f"\ngenerated catalog kept in {generated}")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def report(catalogs: dict[str, Path], best: dict[str, dict[str, Timing]], rounds: int) -> None:
    names = list(catalogs)
    labels = list(next(iter(best.values())))
    compose_label = labels[-1]
    width = max(len(label) for label in labels) + 2
    cell = 34
    print(f"best of {rounds} rounds; wall ms, CPU ms (user+sys, the child and its children),")
    print("and wall time as a ratio of `docker compose config` on the same catalog\n")
    print(
        f"{'':{width}}"
        + "".join(f"{f'{n} ({count_services(catalogs[n])} svc)':>{cell}}" for n in names)
    )
    for label in labels:
        cells = []
        for name in names:
            wall, cpu = best[name][label]
            ratio = wall / best[name][compose_label][0]
            cells.append(f"{wall * 1000:6.0f} wall {cpu * 1000:6.0f} cpu {ratio:5.2f}x")
        print(f"{label:{width}}" + "".join(f"{c:>{cell}}" for c in cells))
    big = names[-1]
    print(f"\ntargets on the generated catalog ({big}):")
    for label, limit in (
        ("homestack ls", 0.3),
        ("homestack ls (cold: no parse cache)", 0.3),
        ("homestack plan", 0.3),
        ("homestack plan (cold)", 0.3),
    ):
        wall, cpu = best[big][label]
        verdict = "ok" if wall < limit else "MISSED"
        print(
            f"  {label:<36} {wall * 1000:6.0f} ms wall ({cpu * 1000:.0f} ms CPU)"
            f"  < 300 ms  {verdict}"
        )
    ratio = best[big]["homestack validate"][0] / best[big][compose_label][0]
    verdict = "ok" if ratio <= 1.5 else "MISSED"
    print(f"  {'homestack validate':<36} {ratio:6.2f}x compose config  <= 1.5x  {verdict}")
    shipped = best[names[0]]["homestack validate"][0] / best[names[0]][compose_label][0]
    print(f"  (on the shipped catalog: validate {shipped:.2f}x compose config)")


if __name__ == "__main__":
    main()
