"""A small stand-in site for the dashboard tests and benchmark: real engine, busybox images."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from testkit import sites
from testkit.sites import RUNNING_NETWORKS, external_networks, observed_service, running_env

HEALTHY = """
command: ['sh', '-c', 'echo started; i=0; while true; do i=$((i+1)); echo tick $i; sleep 5; done']
healthcheck:
  test: ['CMD', 'true']
  interval: 1s
  timeout: 2s
  retries: 2
  start_period: 0s
"""
WEB = """
command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && httpd -f -p 8080 -h /www']
healthcheck:
  test: ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/']
  interval: 1s
  retries: 3
"""


def service_file(name: str, network: str, body: str, meta: str = "") -> str:
    return observed_service(
        name,
        network,
        body,
        meta,
        title=name.capitalize(),
        description=f"A stand-in {name} for the dashboard tests.",
    )


def write_site(
    root: Path, prefix: str, services: dict[str, dict[str, tuple[bool, str, str]]]
) -> Path:
    """services: stack → service → (enabled, compose body, x-homestack extras)."""
    return sites.write_site(
        root,
        {
            stack: {
                name: service_file(name, RUNNING_NETWORKS[stack], body, meta)
                for name, (_, body, meta) in members.items()
            }
            for stack, members in services.items()
        },
        base=external_networks(*RUNNING_NETWORKS.values()),
        env=running_env(prefix),
        disabled={n for members in services.values() for n, spec in members.items() if not spec[0]},
        heading="# the services this stack runs",
    )


class Netns:
    """A network namespace of the test's own with only loopback in it, for the server and
    the browser: Chromium aborts requests with ERR_NETWORK_CHANGED whenever an interface
    comes or goes, and other tests on this engine make veth pairs all the time. The engine
    is still reached through its unix socket. Without root (or `ip`), `prefix` is empty and
    both run on the machine's own loopback."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.made = False
        if os.geteuid() == 0 and shutil.which("ip"):
            subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
            self.made = True
            subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)

    @property
    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name] if self.made else []

    def python(self, code: str) -> str:
        """Run Python code inside the namespace; its stdout."""
        done = subprocess.run(
            [*self.prefix, sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout

    def chromium(self, folder: Path, binary: str) -> str:
        """An executable that starts `binary` inside the namespace (Playwright's
        executable_path), or `binary` itself."""
        if not self.made:
            return binary
        wrapper = folder / "chromium-in-netns"
        wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {self.name} {binary} "$@"\n')
        wrapper.chmod(0o755)
        return str(wrapper)

    def remove(self) -> None:
        if self.made:
            subprocess.run(["ip", "netns", "delete", self.name], check=False, capture_output=True)


def start_server(
    root: Path, port: int, *extra: str, netns: Netns | None = None
) -> subprocess.Popen[bytes]:
    """`homestack serve` as a user runs it, in its own process; waits until it answers."""
    log = (root / "serve.log").open("ab")
    prefix = netns.prefix if netns else []
    server = subprocess.Popen(
        [
            *prefix,
            sys.executable,
            "-m",
            "homestack",
            "--site",
            str(root),
            "serve",
            "--port",
            str(port),
            *extra,
        ],
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    probe = (
        f"import socket,sys\ntry:\n socket.create_connection(('127.0.0.1', {port}), timeout=0.5)\n"
        "except OSError:\n sys.exit(1)"
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError((root / "serve.log").read_text())
        answered = subprocess.run([*prefix, sys.executable, "-c", probe], check=False)
        if answered.returncode == 0:
            return server
        time.sleep(0.2)
    server.kill()
    raise RuntimeError("homestack serve did not answer within 30 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
