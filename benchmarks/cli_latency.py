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
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STACK_IDS = ("ai", "essentials", "management", "media")
NETWORKS = {
    "ai": "ai-services",
    "essentials": "essential-services",
    "management": "management-services",
    "media": "media-services",
}
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
            f"# generated\ndescription: generated {stack} stack\n"
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


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: validate found something; still a full run
        sys.exit(f"{' '.join(argv[:6])} … exited {done.returncode}:\n{done.stderr.decode()}")
    return elapsed


def measure(root: Path) -> dict[str, Callable[[], float]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMESTACK_")}
    env["HOMESTACK_PREFIX"] = "bench_"
    site = ["--site", str(root)]
    compose = compose_commands(root)

    def homestack(*argv: str) -> Callable[[], float]:
        return lambda: timed([str(HOMESTACK), *site, *argv], env)

    def compose_sequential() -> float:
        return sum(timed(argv, {**cenv, "HOMESTACK_PREFIX": "bench_"}) for argv, cenv in compose)

    return {
        "homestack ls": homestack("ls"),
        "homestack plan": homestack("plan"),
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
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="homestack-bench-"))
    try:
        generated = generate_catalog(workdir, args.services)
        catalogs = {"shipped": REPO, f"{args.services} services": generated}
        suites = {name: measure(root) for name, root in catalogs.items()}
        best: dict[str, dict[str, float]] = {name: {} for name in catalogs}
        for _ in range(args.rounds):  # interleaved, so drift hits every column alike
            for name, suite in suites.items():
                for label, run in suite.items():
                    elapsed = run()
                    best[name][label] = min(best[name].get(label, elapsed), elapsed)
        report(catalogs, best, args.rounds)
        if args.keep:
            print(f"\ngenerated catalog kept in {generated}")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def report(catalogs: dict[str, Path], best: dict[str, dict[str, float]], rounds: int) -> None:
    names = list(catalogs)
    sizes = [f"{name} ({count_services(root)} svc)" for name, root in catalogs.items()]
    labels = list(next(iter(best.values())))
    compose_label = labels[-1]
    width = max(len(label) for label in labels) + 2
    print(f"wall time, best of {rounds}, ms")
    print(f"{'':{width}}" + "".join(f"{size:>26}" for size in sizes))
    for label in labels:
        cells = []
        for name in names:
            ms = best[name][label] * 1000
            ratio = best[name][label] / best[name][compose_label]
            cells.append(f"{ms:10.0f} ms  ({ratio:4.2f}x compose)")
        print(f"{label:{width}}" + "".join(f"{cell:>26}" for cell in cells))
    big = names[-1]
    print("\ntargets on the generated catalog:")
    for label, limit in (("homestack ls", 0.3), ("homestack plan", 0.3)):
        value = best[big][label]
        verdict = "ok" if value < limit else "MISSED"
        print(f"  {label:<30} {value * 1000:6.0f} ms  < {limit * 1000:.0f} ms   {verdict}")
    ratio = best[big]["homestack validate"] / best[big][compose_label]
    verdict = "ok" if ratio <= 1.5 else "MISSED"
    print(f"  {'homestack validate':<30} {ratio:6.2f} x   <= 1.5x compose config   {verdict}")


if __name__ == "__main__":
    main()
