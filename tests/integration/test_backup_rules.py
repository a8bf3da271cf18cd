"""Prometheus' BackupTooOld: the rule file homestack writes after each backup run.

promtool evaluates the generated rules (time starts at 0 in `promtool test rules`); the real
engine and Compose show `refresh` writing the file and sending the running Prometheus (a
stand-in container) SIGHUP, once per change.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_generated_tools import tool

from homestack.backup_record import last_path
from homestack.catalog import Site
from homestack.deploy.up import up
from homestack.generate import generate_all
from homestack.generate.backup_rules import refresh
from testkit.sites import copy_catalog


def _record(site: Site, service: str, when: str) -> None:
    path = last_path(site, service)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"service": service, "ok": True, "time": when,
                                "last_success": when}))  # fmt: skip


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    for key in ("DATA_ROOT", "SECRETS_DIR", "DOMAIN", "HOMESTACK_SITE"):
        monkeypatch.delenv(key, raising=False)
    return Site.load(copy_catalog(tmp_path / "site"))


def test_promtool_fires_backup_too_old_after_a_day_and_a_half(site: Site, tmp_path: Path) -> None:
    _record(site, "grafana", "1970-01-01T01:00:00+00:00")  # promtool's clock starts at 0
    generate_all(site)
    rules = site.data_root / "config/prometheus/backups.yml"
    alert = {
        "exp_labels": {"severity": "warning", "service": "grafana", "stack": "management"},
        "exp_annotations": {
            "summary": "the newest backup of grafana is 1d 13h 0m 0s old",
            "description": "The timer backs up every day. Is it installed (`homestack backup "
            "--install-timer`), and did the last run work (`homestack status`)?",
        },
    }  # fmt: skip
    cases = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [],
                "alert_rule_test": [
                    {"eval_time": "36h", "alertname": "BackupTooOld", "exp_alerts": []},
                    {"eval_time": "38h", "alertname": "BackupTooOld", "exp_alerts": [alert]},
                ],
            }
        ],
    }
    test_file = tmp_path / "backups_test.yml"
    test_file.write_text(yaml.safe_dump(cases))
    done = subprocess.run([tool("promtool"), "test", "rules", str(test_file)],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.integration
def test_refresh_rewrites_the_times_and_has_the_running_prometheus_reread_them(
    site: Site, standin_image: str, engine_cleanup: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    site = Site.load(site.root)
    assert up(site, ["prometheus"], stand_in="", timeout=180).ok
    rules = site.data_root / "config/prometheus/backups.yml"
    assert yaml.safe_load(rules.read_text()) == {"groups": []}  # nothing backed up yet
    since = str(int(time.time()) - 1)
    _record(site, "grafana", "2026-12-01T03:30:00+00:00")
    assert refresh(site) is True
    recorded = yaml.safe_load(rules.read_text())["groups"][0]["rules"][0]
    assert recorded["labels"] == {"service": "grafana", "stack": "management"}
    assert recorded["expr"] == "vector(1796095800)"  # date -d 2026-12-01T03:30Z +%s
    assert refresh(site) is False  # unchanged: no second signal (both calls have returned)
    docker = shutil.which("docker") or "docker"

    def kill_events() -> list[dict[str, Any]]:
        events = subprocess.run(
            [docker, "events", "--since", since, "--until", f"{time.time():.3f}",
             "--filter", "event=kill", "--filter", f"label=com.docker.compose.project="
             f"{engine_cleanup}management", "--format", "{{json .}}"],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        return [json.loads(line) for line in events.stdout.splitlines() if line.strip()]

    deadline = time.monotonic() + 20  # the signal was sent before refresh returned
    while not (kills := kill_events()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [k["Actor"]["Attributes"]["signal"] for k in kills] == ["1"]  # SIGHUP, once
    assert kills[0]["Actor"]["Attributes"]["com.docker.compose.service"] == "prometheus"
