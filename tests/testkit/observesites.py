"""A tiny site in tmp_path for the status/logs/doctor tests, started with ComposeProject."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from enginekit import TEST_LABEL
from homestack.catalog import Site
from homestack.engine.compose import ComposeProject
from sitekit import external_networks, indented

BASE = external_networks("ai-services", "media-services")


def service_file(name: str, network: str, body: str, meta: str = "") -> str:
    block = indented(body, 4)
    extra = indented(meta, 6) if meta else ""
    return (
        f"services:\n  {name}:\n    x-homestack:\n      title: {name}\n"
        f"      description: stand-in {name}\n"
        + (extra + "\n" if extra else "")
        + f"    image: ${{STANDIN:-homestack/standin:local}}\n"
        f"    labels:\n      {TEST_LABEL}: '1'\n"
        f"    networks: [{network}]\n" + block + "\n"
    )


def write_site(
    root: Path,
    prefix: str,
    stacks: dict[str, dict[str, tuple[bool, str, str]]],
    env: str = "",
) -> Site:
    """stacks: stack id → service → (enabled, compose body, x-homestack extras)."""
    # the .env below names the test prefix; a HOMESTACK_PREFIX exported in the shell that
    # runs pytest would win over it and put the test's containers into that real site
    os.environ.pop("HOMESTACK_PREFIX", None)
    root.mkdir(parents=True, exist_ok=True)
    (root / "base.docker-compose.yaml").write_text(BASE)
    (root / ".env").write_text(
        f"HOMESTACK_PREFIX={prefix}\nDOMAIN=home.test\nDATA_ROOT=./DATA\n"
        f"SECRETS_DIR=./secrets\nBIND_ADDRESS=127.0.0.1\n{env}"
    )
    networks = {"ai": "ai-services", "media": "media-services"}
    for stack_id, services in stacks.items():
        folder = root / f"{stack_id}-stack"
        (folder / "services").mkdir(parents=True, exist_ok=True)
        listing = "".join(
            f"  {'' if enabled else '# '}- {name}\n" for name, (enabled, _, _) in services.items()
        )
        (folder / "stack.yaml").write_text(f"description: test {stack_id}\nservices:\n{listing}")
        for name, (_, body, meta) in services.items():
            (folder / "services" / f"{name}.docker-compose.yaml").write_text(
                service_file(name, networks[stack_id], body, meta)
            )
    return Site.load(root)


def create_networks(prefix: str, names: list[str]) -> None:
    for name in names:
        subprocess.run(
            ["docker", "network", "create", "--label", f"{TEST_LABEL}=1", prefix + name],
            check=True,
            capture_output=True,
        )


def start(site: Site, stack_id: str, services: list[str], *flags: str) -> None:
    stack = site.stacks[stack_id]
    chosen = [stack.services[name] for name in services]
    ComposeProject(site, stack, services=chosen).run("up", "-d", *flags, timeout=120)


def wait_for(check: Callable[[], bool], timeout: float = 30, step: float = 0.3) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return False


def container_state(name: str, fmt: str = "{{.State.Status}}") -> str:
    done = subprocess.run(
        ["docker", "inspect", "-f", fmt, name], capture_output=True, text=True, check=False
    )
    return done.stdout.strip()
