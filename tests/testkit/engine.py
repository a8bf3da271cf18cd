"""Engine helpers every test folder shares: where the repository is, the label on what tests
create, per-run name prefixes and the clean-up by prefix, `docker` itself, container state,
waiting by polling, free loopback ports. Not conftest.py: `from conftest import …` finds
whichever conftest.py was imported first (tests/unit/host has one too)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from homestack.catalog import Site

REPO = Path(__file__).resolve().parents[2]
TEST_LABEL = "homestack.test"
#: under CI a missing engine or binary fails a test instead of skipping it
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: this test run's name and folder (set by conftest.py's pytest_configure, inherited by workers)
RUN_VARIABLE = "HOMESTACK_TEST_RUN"
RUN_DIR_VARIABLE = "HOMESTACK_TEST_RUN_DIR"


def new_prefix(stem: str = "hst") -> str:
    """A unique name prefix for what a test creates on the engine, recorded in this run's
    folder so that the check at the end of the run finds anything left under it."""
    prefix = f"{stem}{uuid.uuid4().hex[:6]}_"
    run_dir = os.environ.get(RUN_DIR_VARIABLE)
    if run_dir:
        folder = Path(run_dir) / "prefixes"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / prefix).touch()
    return prefix


def leftovers_of_this_run(run_dir: Path) -> list[str]:
    """Containers, networks and volumes named with a prefix this run handed out, each
    removed after it is listed ("container NAME", …)."""
    folder = run_dir / "prefixes"
    prefixes = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    if not prefixes:
        return []

    def names(*args: str) -> list[str]:
        done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
        return done.stdout.split()

    found = [
        (kind, name)
        for kind, listing in (
            ("container", names("ps", "-a", "--format", "{{.Names}}")),
            ("network", names("network", "ls", "--format", "{{.Name}}")),
            ("volume", names("volume", "ls", "--format", "{{.Name}}")),
        )
        for name in listing
        if name.startswith(tuple(prefixes))
    ]
    for prefix in {p for p in prefixes if any(n.startswith(p) for _k, n in found)}:
        remove_everything_named(prefix)
    return [f"{kind} {name}" for kind, name in found]


def remove_everything_named(prefix: str) -> None:
    """Remove containers, networks and volumes whose names start with prefix."""

    def ids(*args: str) -> list[str]:
        done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
        return [line for line in done.stdout.split() if line]

    # compose names containers {project}-{service}-N, and every project starts with prefix
    for cid in ids("ps", "-aq", "--filter", f"name=^/?{prefix}"):
        subprocess.run(["docker", "rm", "-f", "-v", cid], capture_output=True, check=False)
    for net in ids("network", "ls", "-q", "--filter", f"name={prefix}"):
        subprocess.run(["docker", "network", "rm", net], capture_output=True, check=False)
    for vol in ids("volume", "ls", "-q", "--filter", f"name={prefix}"):
        subprocess.run(["docker", "volume", "rm", "-f", vol], capture_output=True, check=False)


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=check, timeout=120
    )


def container_names(prefix: str) -> list[str]:
    """Names of the containers (any state) whose name starts with `prefix`."""
    return docker(
        "ps", "-a", "--format", "{{.Names}}", "--filter", f"name=^/?{prefix}"
    ).stdout.split()


def container_state(name: str, fmt: str = "{{.State.Status}}") -> str:
    done = subprocess.run(
        ["docker", "inspect", "-f", fmt, name], capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def create_networks(prefix: str, names: list[str]) -> None:
    for name in names:
        subprocess.run(
            ["docker", "network", "create", "--label", f"{TEST_LABEL}=1", prefix + name],
            check=True,
            capture_output=True,
        )


def wait_for(check: Callable[[], bool], timeout: float = 30, step: float = 0.3) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return False


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(site: Site, stack_id: str, services: list[str], *flags: str) -> None:
    """`compose up -d` of some services of a test site's stack."""
    from homestack.engine.compose import ComposeProject

    stack = site.stacks[stack_id]
    chosen = [stack.services[name] for name in services]
    ComposeProject(site, stack, services=chosen).run("up", "-d", *flags, timeout=120)
