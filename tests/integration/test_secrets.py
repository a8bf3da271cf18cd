"""Secrets on a real engine: a tiny compose project reads them at /run/secrets/<name>.

Compose without Swarm bind-mounts the secret file as it is, so the mode and owner the file
has on the host are what the container sees; no value ever reaches the environment.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.deploy import ensure_networks, ensure_secrets
from homestack.engine import docker as engine
from homestack.engine.compose import ComposeProject
from testkit.engine import docker
from testkit.sites import service_file, tiny_site

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="giving a secret to uid 1234 needs root"),
]

META = """
secrets:
  - name: db_password
  - name: api_token
    length: 40
    uid: 1234
    gid: 1234
"""
BODY = """
command: ["sh", "-c", "exec sleep 3600"]
networks: [ai-services]
environment:
  DB_PASSWORD_FILE: /run/secrets/app_db_password
secrets: [app_db_password, app_api_token]
"""
TOP = """secrets:
  app_db_password:
    file: ${SECRETS_DIR:-./secrets}/app_db_password
  app_api_token:
    file: ${SECRETS_DIR:-./secrets}/app_api_token
"""


def test_secrets_reach_the_container_as_files_and_nowhere_else(
    engine_cleanup: str,
    standin_image: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    text = service_file("app", meta=META, body=BODY, image=standin_image, volume=False) + TOP
    site = Site.load(tiny_site(tmp_path / "site", {"app": text}))
    services = site.services(enabled_only=True)
    ensure_networks(site, services)
    assert run(["--site", str(site.root), "install", "secrets"]) == 0
    printed = capsys.readouterr()
    values = {p.name: p.read_text() for p in site.secrets_dir.iterdir()}
    assert set(values) == {"app_db_password", "app_api_token"}
    for value in values.values():
        assert value not in printed.out + printed.err

    project = ComposeProject(site, site.stack("ai"))
    project.run("up", "-d", "--wait", timeout=180)
    box = f"{project.name}-app-1"

    def inside(*command: str, user: str = "0:0") -> tuple[int, str]:
        done = docker("exec", "-u", user, box, *command, check=False)
        return done.returncode, done.stdout.strip()

    assert inside("cat", "/run/secrets/app_db_password") == (0, values["app_db_password"])
    assert inside("cat", "/run/secrets/app_api_token") == (0, values["app_api_token"])
    assert inside("stat", "-c", "%u:%g %a", "/run/secrets/app_api_token") == (
        0,
        "1234:1234 440",
    )
    assert inside("stat", "-c", "%a", "/run/secrets/app_db_password") == (0, "600")
    # the container's user 1234 reads its own secret and not the root-only one
    assert inside("cat", "/run/secrets/app_api_token", user="1234:1234") == (
        0,
        values["app_api_token"],
    )
    assert inside("cat", "/run/secrets/app_db_password", user="1234:1234")[0] != 0

    raw = engine.inspect_container_raw(box)
    assert raw is not None
    dumped = json.dumps(raw)
    for value in values.values():
        assert value not in dumped
    info = engine.Container.parse(raw)
    assert "DB_PASSWORD_FILE" in info.env_names

    # a second install rewrites nothing; secrets ls shows no value
    before = {p.name: p.read_text() for p in site.secrets_dir.iterdir()}
    assert not ensure_secrets(site, services).changed
    assert {p.name: p.read_text() for p in site.secrets_dir.iterdir()} == before
    assert run(["--site", str(site.root), "secrets", "ls", "--json"]) == 0
    listing = capsys.readouterr().out
    for value in values.values():
        assert value not in listing
    project.run("down", "--timeout", "1", timeout=120)
