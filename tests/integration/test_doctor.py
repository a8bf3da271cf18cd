"""`homestack doctor` against a real engine: a healthy site, then planted faults."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.observe.checks import Check
from homestack.observe.doctor import run_doctor
from testkit.engine import create_networks, free_port, new_prefix, remove_everything_named, start
from testkit.sites import running_site

pytestmark = pytest.mark.integration

LOOP = "command: ['sh', '-c', 'while true; do sleep 1; done']"


@pytest.fixture(scope="module")
def doctor_site(tmp_path_factory: pytest.TempPathFactory, standin_image: str) -> Iterator[Site]:
    prefix = new_prefix()
    web_port, api_port = free_port(), free_port()
    web = LOOP + "\nports: ['${BIND_ADDRESS:-127.0.0.1}:${WEB_PORT:-1}:80']"
    api = LOOP + "\nports: ['${BIND_ADDRESS:-127.0.0.1}:${API_PORT:-1}:80']"
    site = running_site(
        tmp_path_factory.mktemp("doctor") / "site",
        prefix,
        {
            "ai": {"web": (True, web, "secrets: [{name: token}]\nweb: {port: 80}")},
            "media": {
                "player": (True, LOOP, "gpu: optional\ngpu_memory_mb: 512"),
                "api": (True, api, ""),
            },
        },
        env=f"PUID=0\nPGID=0\nWEB_PORT={web_port}\nAPI_PORT={api_port}\n",
    )
    create_networks(prefix, ["ai-services", "media-services"])
    secrets = site.root / "secrets"
    secrets.mkdir(mode=0o700)
    token = secrets / "web_token"
    token.write_text("s3cret-value-for-tests")
    token.chmod(0o600)
    for service in ("web", "player", "api"):
        for folder in (service, f"config/{service}", f"backups/{service}"):
            (site.root / "DATA" / folder).mkdir(parents=True, exist_ok=True)
    start(site, "ai", ["web"])
    start(site, "media", ["player"])
    yield site
    remove_everything_named(prefix)


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def test_healthy_site_passes(doctor_site: Site) -> None:
    result = run_doctor(Site.load(doctor_site.root))
    checks = by_name(result.checks)
    assert not result.failed, [c for c in result.checks if c.status == "fail"]
    assert checks["engine"].status == "ok" and "Docker" in checks["engine"].detail
    assert checks["compose"].status == "ok" and checks["restic"].status == "ok"
    assert checks["disk"].status in ("ok", "warn")
    assert "held by web" in checks["ports web"].detail
    assert "free" in checks["ports api"].detail
    prefix = doctor_site.prefix
    assert checks[f"network {prefix}ai-services"].status == "ok"
    assert checks[f"segregation {prefix}ai-services"].status == "ok"
    assert checks[f"segregation {prefix}media-services"].status == "ok"
    assert checks[f"names on {prefix}ai-services"].status == "ok"
    assert "web" in checks[f"names on {prefix}ai-services"].detail
    assert checks["secret web_token"].status == "ok"
    assert checks["data web"].status == "ok"
    assert checks["backup web"].status == "warn"  # never backed up: a warning, with the fix
    assert "homestack backup web" in (checks["backup web"].fix or "")
    assert any(c.area == "gpu" for c in result.checks)
    # enabled but never started: a warning (api is not critical) with the fix
    missing = checks["service api"]
    assert missing.status == "warn" and "media/api enabled-but-missing" in missing.detail
    assert "homestack up api" in (missing.fix or "")
    assert "service web" not in checks and "service player" not in checks
    # no probe container is left behind
    listed = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"name={prefix}homestack-probe"],
        capture_output=True,
        text=True,
        check=True,
    )
    leftovers = listed.stdout.split()
    assert leftovers == []


def test_planted_faults_each_reported_with_the_fix(doctor_site: Site) -> None:
    root = doctor_site.root
    token = root / "secrets" / "web_token"
    env_file = root / ".env"
    original_env = env_file.read_text()
    # a critical service that is not running
    api_file = root / "media-stack" / "services" / "api.docker-compose.yaml"
    original_api = api_file.read_text()
    api_port = int(next(line for line in original_env.splitlines() if "API_PORT" in line)[9:])
    squatter = socket.socket()
    try:
        # a port taken by another process
        squatter.bind(("127.0.0.1", api_port))
        squatter.listen()
        # a world-readable secret
        token.chmod(0o644)
        # a network with the wrong subnet: the site now expects another one
        env_file.write_text(original_env + "AI_SERVICES_SUBNET=10.213.77.0/24\n")
        api_file.write_text(
            original_api.replace("      description:", "      critical: true\n      description:")
        )
        # a service left paused
        subprocess.run(["docker", "pause", f"{doctor_site.prefix}media-player-1"], check=True)
        result = run_doctor(Site.load(root))
    finally:
        subprocess.run(["docker", "unpause", f"{doctor_site.prefix}media-player-1"], check=False)
        squatter.close()
        token.chmod(0o600)
        env_file.write_text(original_env)
        api_file.write_text(original_api)
    checks = by_name(result.checks)
    assert result.failed
    port = checks["ports api"]
    assert port.status == "fail"
    assert f"(pid {os.getpid()})" in port.detail  # the test process holds it
    assert "API_PORT" in (port.fix or "")
    secret = checks["secret web_token"]
    assert secret.status == "fail" and "world-accessible" in secret.detail
    assert f"chmod 600 {token}" in (secret.fix or "")
    network = checks[f"network {doctor_site.prefix}ai-services"]
    assert network.status == "fail" and "expected 10.213.77.0/24" in network.detail
    assert "homestack install networks" in (network.fix or "")
    assert "AI_SERVICES_SUBNET" in (network.fix or "")
    paused = checks["service player"]
    assert paused.status == "warn" and "media/player paused" in paused.detail
    assert f"docker unpause {doctor_site.prefix}media-player-1" in (paused.fix or "")
    down = checks["service api"]
    assert down.status == "fail" and "enabled-but-missing" in down.detail
    assert "homestack up api" in (down.fix or "")


def test_stopped_engine_is_a_fail_line_not_a_crash(
    doctor_site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{doctor_site.root}/dead.sock")
    monkeypatch.setattr("homestack.engine.docker._client", None)
    assert run(["--site", str(doctor_site.root), "doctor", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    engine = next(c for c in data["checks"] if c["name"] == "engine")
    assert engine["status"] == "fail"
    assert "dead.sock" in engine["detail"] and "Start the Docker engine" in engine["fix"]
    # what needs no engine is still checked
    names = {c["name"] for c in data["checks"]}
    assert {"compose", "restic", "disk", "secret web_token"} <= names
    assert run(["--site", str(doctor_site.root), "doctor"]) == 1
    text = capsys.readouterr().out
    assert "fail engine" in text and "fix: Start the Docker engine" in text
