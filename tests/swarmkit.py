"""The swarm lab for tests and benchmarks: N dockerd's in network namespaces joined into a
real swarm by tests/swarmlab.sh, and a way to run homestack against its manager.

`Lab.start(n)` builds it (bounded: each engine must answer within SWARMLAB_WAIT_S, and
the script tears everything down itself when a step fails); `Lab.stop()` removes it all:
engines, namespaces, bridge, the FORWARD rule, data roots. Everything the lab makes has the
`hs21` names the script fixes, so it never meets the host engine's objects.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "swarmlab.sh"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
NEEDED = ("dockerd", "nsenter", "unshare", "ip", "iptables", "docker")


def missing_tools() -> list[str]:
    """Why the lab cannot be built here (empty: it can)."""
    why = [tool for tool in NEEDED if shutil.which(tool) is None]
    if os.geteuid() != 0:
        why.append("root")
    return why


LOCK = Path("/run/hs21lab.lock")
#: a lab site's .env start: the lab's kernel (a VM's) may have no IPVS, so services
#: resolve by DNS round robin instead of swarm's virtual IPs (the default on real hosts)
LAB_ENV = "DEPLOY_MODE=swarm\nSWARM_ENDPOINT_MODE=dnsrr\n"


def lab_for_module(nodes: int, images: list[str], *, also: tuple[str, ...] = ()) -> Iterator[Lab]:
    """A test module's lab (its fixture yields from this): skipped locally when the tools,
    root or the files named in `also` are missing, a failure under CI=true; always torn
    down."""
    import pytest

    why = missing_tools() or [path for path in also if not Path(path).exists()]
    if why:
        message = "the swarm lab needs " + ", ".join(why)
        if IN_CI:
            pytest.fail(message + " (CI=true: the swarm tests must run)")
        pytest.skip(message)
    built = Lab.start(nodes, images)
    try:
        yield built
    finally:
        built.stop()


@dataclass
class Lab:
    nodes: int
    hostnames: list[str] = field(default_factory=list)
    lock: int | None = None  # one lab at a time on a machine: its names are fixed

    @staticmethod
    def socket(index: int) -> str:
        return f"unix:///run/hs21d{index}.sock"

    @property
    def manager(self) -> str:
        return self.socket(1)

    @classmethod
    def start(cls, nodes: int, images: list[str], timeout: float = 240) -> Lab:
        import fcntl

        lock = os.open(LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test file (xdist worker) may hold the lab
        try:
            return cls._start(nodes, images, timeout, lock)
        except BaseException:
            os.close(lock)
            raise

    @classmethod
    def _start(cls, nodes: int, images: list[str], timeout: float, lock: int) -> Lab:
        done = subprocess.run(
            ["sh", str(SCRIPT), "up", str(nodes), *images],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"swarm lab did not start: {done.stderr.strip()[-2000:]}")
        return cls(nodes, [f"hs21n{i}" for i in range(1, nodes + 1)], lock)

    def stop_node(self, index: int) -> None:
        subprocess.run(["sh", str(SCRIPT), "stop", str(index)], check=True, timeout=60)

    def stop(self) -> None:
        try:
            subprocess.run(["sh", str(SCRIPT), "down"], check=False, timeout=180)
        finally:
            if self.lock is not None:
                os.close(self.lock)  # releases the flock
                self.lock = None

    def docker(self, *args: str, node: int = 1, check: bool = True) -> str:
        done = subprocess.run(
            ["docker", "-H", self.socket(node), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def node_of(self, hostname: str) -> int:
        return self.hostnames.index(hostname) + 1


def homestack(
    site: Path, *args: str, lab: Lab, timeout: float = 600, on_node: int | None = None
) -> subprocess.CompletedProcess[str]:
    """The real CLI against the lab's manager (a child process: its own engine client);
    `on_node`: as if run on that node (its engine is this machine's, DOCKER_HOST names
    the manager's)."""
    env = {**os.environ, "DOCKER_HOST": lab.manager, "COLUMNS": "200"}
    if on_node is not None:
        env["HOMESTACK_LOCAL_DOCKER_HOST"] = lab.socket(on_node)
    return subprocess.run(
        [sys.executable, "-m", "homestack", "--site", str(site), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
