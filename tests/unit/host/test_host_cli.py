"""The host commands through the real CLI entry point, on this machine (read-only ones)."""

from __future__ import annotations

import json

import pytest

from homestack.cli.app import run


def test_gpu_json_reports_devices_and_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["gpu", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"devices", "usable_vendors", "reasons", "fixes", "docker", "setting"}
    assert set(data["usable_vendors"]) <= {"nvidia", "amd", "intel"}


def test_gpu_setting_cpu_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPU", "cpu")
    assert run(["gpu", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["setting"] == "cpu" and data["usable_vendors"] == []


def test_bad_gpu_setting_is_bad_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPU", "tpu")
    assert run(["gpu"]) == 2
    assert "GPU=tpu is not one of auto, nvidia, amd, intel, cpu" in capsys.readouterr().err


def test_install_commands_have_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("docker", "drivers", "all"):
        assert run(["install", command, "--help"]) == 0
        out = capsys.readouterr().out
        assert "--dry-run" in out and "--json" in out
