"""Every generated config passes its real tool: `caddy validate`, `promtool check config`.

The binaries come from Debian (caddy, prometheus); a local run without them skips, CI fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.generate import generate_all
from homestack.stackfile import toggle
from testkit.sites import copy_catalog


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed (.ci/run installs it)")
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture
def generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    for key in ("DATA_ROOT", "SECRETS_DIR", "DOMAIN", "HOMESTACK_SITE"):
        monkeypatch.delenv(key, raising=False)
    root = copy_catalog(tmp_path / "site")

    def make(*enable: str, **env: str) -> Path:
        if env:
            text = "".join(f"{key}={value}\n" for key, value in env.items())
            (root / ".env").write_text(text, encoding="utf-8")
        if enable:
            toggle(Site.load(root), list(enable), enable=True)
        site = Site.load(root)
        generate_all(site)
        return site.data_root / "config"

    return make


def _caddy_validate(caddyfile: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    return subprocess.run(
        [tool("caddy"), "validate", "--config", str(caddyfile), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_caddy_validates_the_generated_caddyfile(
    generated: Callable[..., Path], tmp_path: Path
) -> None:
    config = generated("blocky", "piper")
    done = _caddy_validate(config / "caddy" / "Caddyfile", tmp_path / "home")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Valid configuration" in done.stdout + done.stderr


def test_caddy_rejects_a_broken_caddyfile(tmp_path: Path) -> None:
    broken = tmp_path / "Caddyfile"
    broken.write_text("chat.home.arpa {\n\treverse_proxy\n\tnot_a_directive x\n}\n")
    assert _caddy_validate(broken, tmp_path / "home").returncode != 0


def test_promtool_checks_the_generated_prometheus_config(generated: Callable[..., Path]) -> None:
    config = generated("blocky", "piper")
    done = subprocess.run(
        [tool("promtool"), "check", "config", str(config / "prometheus" / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 7 rules found" in done.stdout + done.stderr


def test_promtool_checks_the_household_rules_with_the_gpu_ones(
    generated: Callable[..., Path],
) -> None:
    config = generated("dcgm-exporter")
    done = subprocess.run(
        [tool("promtool"), "check", "rules", str(config / "prometheus" / "alerts.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = (config / "prometheus" / "alerts.yml").read_text()
    for alert in ("ServiceDown", "StackDown", "HostDown", "ContainerRestarting", "DiskFilling"):
        assert f"alert: {alert}" in text
    assert "alert: GpuHot" in text and "alert: GpuMemoryFull" in text
    assert "SUCCESS: 9 rules found" in done.stdout + done.stderr


def test_amtool_checks_the_generated_alertmanager_config(generated: Callable[..., Path]) -> None:
    config = generated()
    done = subprocess.run(
        [tool("amtool"), "check-config", str(config / "alertmanager" / "alertmanager.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 inhibit rules" in done.stdout


def test_promtool_evaluates_restart_loop_and_disk_hours_left(
    generated: Callable[..., Path], tmp_path: Path
) -> None:
    """`promtool test rules` runs the generated rules on made-up series: a container that
    started 4 times in 15 minutes, a disk 100 GB from full that fills 10 GB an hour."""
    import re

    import yaml

    config = generated()
    rules = config / "prometheus" / "alerts.yml"
    device = re.search(r'device="([^"]+)"', rules.read_text())
    select = f'id="/",device="{device[1]}"' if device else 'id="/"'
    shown = device[1] if device else ""
    name = "hst_media-faster-whisper-1"
    cases = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {
                        "series": f'container_start_time_seconds{{name="{name}"}}',
                        "values": "100 100 100 100 100 200 300 400 500 500 500",
                    },
                    {
                        "series": f"container_fs_limit_bytes{{{select}}}",
                        "values": "1000000000000+0x200",
                    },
                    {
                        "series": f"container_fs_usage_bytes{{{select}}}",
                        "values": "900000000000+166666666.6666667x200",
                    },
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "10m",
                        "alertname": "ContainerRestarting",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "warning",
                                    "name": name,
                                    "service": "faster-whisper",
                                    "stack": "media",
                                },
                                "exp_annotations": {
                                    "summary": f"{name} keeps restarting",
                                    "description": "It started 4 times in 15m: "
                                    "`homestack logs faster-whisper` shows why.",
                                },
                            }
                        ],
                    },
                    {
                        "eval_time": "120m",
                        "alertname": "DiskFilling",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning", "id": "/"}
                                | ({"device": shown} if shown else {}),
                                "exp_annotations": {
                                    "summary": f"the disk holding DATA ({shown}) fills in "
                                    "8 hours at the current rate",
                                    "description": "Free space now, divided by how fast it "
                                    "shrank over the last 6 hours. `homestack top` and "
                                    "`du -sh DATA/*` show who writes.",
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    }
    test_file = tmp_path / "household_test.yml"
    test_file.write_text(yaml.safe_dump(cases))
    done = subprocess.run(
        [tool("promtool"), "test", "rules", str(test_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_evaluates_the_gpu_rules_when_dcgm_is_enabled(
    generated: Callable[..., Path], tmp_path: Path
) -> None:
    """DCGM's series as the exporter names them (made up: no GPU here): 90 °C for 10 minutes,
    15.5 of 16 GB used."""
    import yaml

    config = generated("dcgm-exporter")
    gpu = 'gpu="0",UUID="GPU-1",modelName="NVIDIA RTX 4090"'
    cases = {
        "rule_files": [str(config / "prometheus" / "alerts.yml")],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": f"DCGM_FI_DEV_GPU_TEMP{{{gpu}}}", "values": "90+0x20"},
                    {"series": f"DCGM_FI_DEV_FB_USED{{{gpu}}}", "values": "15872+0x20"},
                    {"series": f"DCGM_FI_DEV_FB_FREE{{{gpu}}}", "values": "512+0x20"},
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "15m",
                        "alertname": "GpuHot",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "warning",
                                    "gpu": "0",
                                    "UUID": "GPU-1",
                                    "modelName": "NVIDIA RTX 4090",
                                },
                                "exp_annotations": {
                                    "summary": "GPU 0 is at 90 °C",
                                    "description": "Check the case's airflow and what runs "
                                    "on it (`homestack top`).",
                                },
                            }
                        ],
                    },
                    {
                        "eval_time": "15m",
                        "alertname": "GpuMemoryFull",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "warning",
                                    "gpu": "0",
                                    "UUID": "GPU-1",
                                    "modelName": "NVIDIA RTX 4090",
                                },
                                "exp_annotations": {
                                    "summary": "GPU 0 memory is 96.88% used",
                                    "description": "Models that do not fit fall back to the "
                                    "CPU (slow); unload one.",
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    }
    test_file = tmp_path / "gpu_test.yml"
    test_file.write_text(yaml.safe_dump(cases, allow_unicode=True))
    done = subprocess.run(
        [tool("promtool"), "test", "rules", str(test_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
