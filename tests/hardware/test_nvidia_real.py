"""On a real machine with an NVIDIA GPU: what homestack reports matches the driver's own word.

These tests run only where `nvidia-smi` answers (a GPU host, or the device machine through
`scripts/gpu-check.sh`); everywhere else they are skipped, saying why. Nothing here is faked:
the expected values are read from `nvidia-smi` on the same machine, at the same time.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _smi() -> str | None:
    for candidate in (shutil.which("nvidia-smi"), "/usr/local/nvidia/bin/nvidia-smi"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _driver_gpus() -> list[dict[str, str]]:
    """Each GPU as nvidia-smi itself reports it: name, memory (MiB), driver, uuid."""
    smi = _smi()
    if not smi:
        return []
    done = subprocess.run(
        [
            smi,
            "--query-gpu=name,memory.total,driver_version,uuid",
            "--format=csv,noheader,nounits",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if done.returncode != 0:
        return []
    rows = csv.reader(io.StringIO(done.stdout.strip()), skipinitialspace=True)
    keys = ("name", "memory_mb", "driver", "uuid")
    return [dict(zip(keys, (c.strip() for c in row), strict=True)) for row in rows if row]


GPUS = _driver_gpus()
pytestmark = pytest.mark.skipif(
    not GPUS, reason="no NVIDIA GPU answers nvidia-smi on this machine (run on a GPU host)"
)


def _homestack(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), *filter(None, [env.get("PYTHONPATH")])])
    env["HOMESTACK_SITE"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "homestack", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=env,
        cwd=REPO,
    )


def test_real_nvidia_doctor_json_reports_model_memory_driver() -> None:
    done = _homestack("doctor", "--json")
    assert done.returncode in (0, 1), done.stderr  # 1: some other check failed, not a crash
    checks = json.loads(done.stdout)["checks"]
    cards = [c for c in checks if c["area"] == "gpu" and c["name"] == "gpu nvidia"]
    assert len(cards) == len(GPUS), checks
    seen = sorted((c["data"]["uuid"], c["data"]) for c in cards)
    for (uuid, data), expected in zip(seen, sorted(GPUS, key=lambda g: g["uuid"]), strict=True):
        assert uuid == expected["uuid"]
        assert data["model"] == expected["name"]
        assert data["memory_mb"] == int(expected["memory_mb"])
        assert data["driver"] == expected["driver"]
    for card in cards:
        assert card["data"]["model"] in card["detail"]
        assert f"driver {card['data']['driver']}" in card["detail"]
    docker = next(c for c in checks if c["name"] == "gpu nvidia in Docker")
    if docker["status"] != "ok":
        assert docker["fix"], docker  # not usable yet: the doctor says what to do


def test_real_nvidia_every_source_agrees() -> None:
    """NVML (when pynvml is importable), `nvidia-smi` CSV and XML give the same cards."""
    sys.path.insert(0, str(REPO / "src"))
    from homestack import gpu
    from homestack.host.probe import HostProbe

    probe = HostProbe()
    smi = _smi()
    assert smi
    csv_done = probe.run([smi, f"--query-gpu={gpu.NVIDIA_QUERY}", "--format=csv"], timeout=60)
    xml_done = probe.run([smi, "-q", "-x"], timeout=60)
    views = {
        "nvidia-smi-csv": gpu.parse_smi_csv(csv_done.stdout),
        "nvidia-smi-xml": gpu.parse_smi_xml(xml_done.stdout),
    }
    nvml = probe.nvml()
    if nvml is not None:
        views["nvml"] = gpu.parse_nvml(nvml)
    expected = sorted((g["uuid"], g["name"], int(g["memory_mb"]), g["driver"]) for g in GPUS)
    for source, devices in views.items():
        got = sorted((d.uuid, d.model, d.memory_mb, d.driver) for d in devices)
        assert got == expected, source
        assert {d.source for d in devices} == {source}


def test_real_nvidia_gpu_json_verdict_is_consistent() -> None:
    done = _homestack("gpu", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert "nvidia" in report["present_vendors"]
    assert len([d for d in report["devices"] if d["vendor"] == "nvidia"]) == len(GPUS)
    docker = report["docker"]
    usable = "nvidia" in report["usable_vendors"]
    configured = "nvidia" in docker["runtimes"] or "nvidia.com/gpu" in docker["cdi_kinds"]
    assert usable == (docker["running"] and bool(docker["toolkit"]) and configured), report
    if not usable:
        assert report["fixes"]["nvidia"], report
