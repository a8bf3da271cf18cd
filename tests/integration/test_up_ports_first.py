"""Ports before recreate (issue 15): with a host program on the port a service moves to,
`up` recreated the healthy service and then failed "address already in use", leaving it
down. It now refuses first, naming the holder, and leaves the service running. Real engine."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.observe.doctor_net import check_ports
from testkit.cli import cli_output
from testkit.engine import docker, free_port
from testkit.sites import service_file, tiny_site

pytestmark = pytest.mark.integration

BODY = """command: ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 -h /etc & wait"]
ports:
  - "127.0.0.1:${WEB_PORT}:8080"
healthcheck:
  test: ["CMD", "true"]
  interval: 1s
labels:
  homestack.test: "1"
"""


def _listener() -> socket.socket:
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen()
    return held


def test_up_refuses_a_taken_port_before_taking_the_healthy_service_down(
    tmp_path: Path, standin_image: str, engine_cleanup: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tiny_site(
        tmp_path / "site",
        {"web": service_file("web", body=BODY, volume=False)},
        env=f"HOMESTACK_PREFIX={engine_cleanup}\nWEB_PORT={free_port()}\n",
    )
    code, out = cli_output(capsys, "--site", str(root), "up")
    assert code == 0, out
    name = f"{engine_cleanup}ai-web-1"
    before = docker("inspect", "-f", "{{.Id}}", name).stdout.strip()

    with _listener() as held:
        port = held.getsockname()[1]
        env = root / ".env"
        env.write_text(env.read_text().replace("WEB_PORT=", f"WEB_PORT={port}\n#"))
        code, out = cli_output(capsys, "--site", str(root), "up")
        assert code == 1, out
        assert f"127.0.0.1:{port}/tcp is taken by" in out and f"(pid {os.getpid()})" in out
        assert "set WEB_PORT to a free port in .env" in " ".join(out.split())
    state = docker("inspect", "-f", "{{.Id}} {{.State.Status}}", name).stdout.split()
    assert state == [before, "running"], "the healthy container was taken down"


def test_doctor_names_the_service_env_that_sets_the_port(tmp_path: Path) -> None:
    """The hint named the root .env, which the service's own .env overrides (no engine:
    a real host listener, and no container holds the port)."""
    with _listener() as held:
        port = held.getsockname()[1]
        root = tiny_site(
            tmp_path / "site",
            {"web": service_file("web", body=BODY, volume=False)},
            env="WEB_PORT=1\n",
            extra={"ai-stack/services/web/.env": f"WEB_PORT={port}\n"},
        )
        site = Site.load(root)
        (check,) = check_ports(site, [site.service("web")], None)
    assert check.status == "fail" and f"(pid {os.getpid()})" in check.detail
    assert check.fix is not None
    assert "set WEB_PORT to a free port in ai-stack/services/web/.env" in check.fix
