"""The `--json` output of the host commands (`gpu`, `install drivers`, `install docker`),
compared with their snapshots (tests/snapshots/json/<command>.json), on RECORDED hosts: a fake
of the hardware. The real thing (a GPU server, a machine without Docker) cannot run here, so
each command runs through the real CLI entry point while the host probe it makes replays a
recording (homestack.host.recording; tests/fixtures/gpu, tests/fixtures/hosts):

- nvidia-h100-no-toolkit: recorded on a real GPU server (one H100, driver 580, no Docker, no
  NVIDIA Container Toolkit);
- debian12-docker-20.10: recorded on the development machine (Docker 20.10, Compose v2.40);
- nvidia-h100-no-toolkit + fake-docker-none.txt: the GPU server as it was, no Docker, systemd.

Only plans are made (`--dry-run`): nothing is installed and no recorded command changes
anything. Each snapshot holds one output per recording, keyed by the recording's name. The
site (for `gpu`'s placements) is testkit.sites.make_site with a fixed .env; the temp folder
becomes a placeholder (testkit.jsonsnap.normalise), everything else is compared exactly.

Regenerate after an intended change of the contract, then review the diff:
    UPDATE_SNAPSHOTS=1 .venv/bin/pytest -n 0 tests/unit/test_json_snapshots_host_recording.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from homestack.host.recording import RecordedHost
from testkit.jsonsnap import HOST_RECORDING_COMMANDS, check_snapshot, normalise, run_cli
from testkit.sites import make_site

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
H100 = ("gpu/nvidia-h100-no-toolkit",)
DEV = ("hosts/debian12-docker-20.10",)
H100_NO_DOCKER = ("gpu/nvidia-h100-no-toolkit", "hosts/fake-docker-none.txt")
ENV = "TZ=Etc/UTC\nDATA_ROOT=./DATA\nSECRETS_DIR=./secrets\nBIND_ADDRESS=127.0.0.1\n"

#: command → its arguments before --json, and the recordings it replays
CASES: dict[str, tuple[list[str], tuple[tuple[str, ...], ...]]] = {
    "gpu": (["gpu"], (H100, DEV)),
    "install drivers": (["install", "drivers", "--dry-run"], (H100, DEV)),
    "install docker": (["install", "docker", "--dry-run"], (H100_NO_DOCKER, DEV)),
}


def test_every_host_recording_command_has_a_case() -> None:
    assert set(CASES) == set(HOST_RECORDING_COMMANDS)


def replayed(
    recording: tuple[str, ...], root: Path, argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> str:
    """`homestack --site … ARGV --json` with every host probe it makes replaying `recording`."""
    host = RecordedHost.load(*(FIXTURES / name for name in recording), root=root / "host")
    with monkeypatch.context() as patch:
        # the CLI builds HostProbe() itself (host_cmds, gpu.detect): the recording answers
        patch.setattr("homestack.host.probe.HostProbe", host.probe)
        patch.setattr("homestack.gpu.HostProbe", host.probe)
        code, out, err = run_cli(root / "site", *argv, "--json")
    assert code == 0, err
    return out


@pytest.mark.parametrize("command", HOST_RECORDING_COMMANDS)
def test_json_output_replaying_a_recorded_host_matches_its_snapshot(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", "hsjson_")
    monkeypatch.setenv("TZ", "Etc/UTC")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.delenv("GPU", raising=False)
    argv, recordings = CASES[command]
    found: dict[str, Any] = {}
    for number, recording in enumerate(recordings):
        root = tmp_path / str(number)
        make_site(root / "site", {".env": ENV})
        out = replayed(recording, root, argv, monkeypatch)
        found[" + ".join(recording)] = json.loads(out)
    check_snapshot(command, normalise(found, {str(tmp_path): "<TMP>"}))
