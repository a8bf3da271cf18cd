"""The whole CLI on a real engine: up, a no-op second up, failure output, down, pull."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from homestack.cli.app import run
from testkit.engine import container_names
from testkit.sites import up_site

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture
def site_root(tmp_path: Path, engine_cleanup: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    return up_site(
        tmp_path / "site",
        {
            "essentials": {"services": {"db": {"secret": True}}},
            "media": {
                "services": {
                    "crashes": {"script": "echo about to fail; exit 3"},
                    "player": {"needs": ["crashes"]},
                }
            },
        },
    )


def _ids(prefix: str) -> list[str]:
    done = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"name=^/?{prefix}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted(done.stdout.split())


def test_up_cli_says_what_it_did_and_never_prints_secrets(
    site_root: Path,
    standin_image: str,
    engine_cleanup: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    site = ["--site", str(site_root)]
    assert run([*site, "up", "essentials"]) == 0
    first = capfd.readouterr()
    secret = (site_root / "secrets" / "db_password").read_text().strip()
    assert "essentials/db: healthy" in first.err
    assert secret not in first.out + first.err

    assert run([*site, "up", "essentials", "--json"]) == 0
    second = capfd.readouterr()
    data = json.loads(second.out)
    assert data["ok"] is True
    assert data["changed"] is False
    assert "nothing to do" in data["summary"]
    assert secret not in second.out + second.err

    ids = _ids(engine_cleanup)
    assert run([*site, "restart", "essentials"]) == 0
    restarted = capfd.readouterr().out
    assert "restarted db" in restarted and "all healthy" in restarted
    assert _ids(engine_cleanup) == ids  # restarted in place, not recreated
    health = subprocess.run(
        ["docker", "inspect", "--format", "{{.State.Health.Status}}", *ids],
        capture_output=True,
        text=True,
        check=True,
    )
    assert set(health.stdout.split()) == {"healthy"}  # restart returned only once healthy

    assert run([*site, "up", "media"]) == 1
    failed = capfd.readouterr()
    text = failed.out + failed.err
    assert "crashes" in text
    assert "exited with code 3" in text
    assert "about to fail" in text  # its last log lines
    assert "player: not started: crashes failed" in text
    assert "Traceback" not in text
    assert secret not in text
    assert f"{engine_cleanup}media-player-1" not in container_names(engine_cleanup)

    # --volumes needs a confirmation; without a terminal and without --yes: refused
    assert run([*site, "down", "--volumes"]) == 2
    assert "--yes" in capfd.readouterr().err
    assert run([*site, "down", "--volumes", "--yes"]) == 0
    assert container_names(engine_cleanup) == []
    volumes = subprocess.run(
        ["docker", "volume", "ls", "-q", "--filter", f"name={engine_cleanup}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert volumes == []
    assert (site_root / "DATA" / "db").is_dir()  # DATA stays on disk


def test_pull_without_registry_is_a_clear_message(
    tmp_path: Path,
    docker_engine: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    image = "127.0.0.1:5999/homestack/not-here:1.0"  # loopback: nothing leaves this machine
    root = up_site(tmp_path / "site", {"media": {"services": {"x": {"image": image}}}})
    assert run(["--site", str(root), "pull"]) == 1
    err = capfd.readouterr().err
    assert "cannot pull" in err
    assert "goroutine" not in err
    assert "Traceback" not in err


def test_stand_in_delay_for_an_unknown_service_is_refused_before_anything_starts(
    site_root: Path, engine_cleanup: str, capfd: pytest.CaptureFixture[str]
) -> None:
    argv = ["--site", str(site_root), "up", "--stand-in", "db"]
    assert run([*argv, "--stand-in-delay", "dbb=3"]) == 2
    err = capfd.readouterr().err
    assert "no service named 'dbb'" in err and "db" in err
    assert run([*argv, "--stand-in-delay", "db=-2"]) == 2
    assert "is not SECONDS or SERVICE=SECONDS" in capfd.readouterr().err
    assert container_names(engine_cleanup) == []
