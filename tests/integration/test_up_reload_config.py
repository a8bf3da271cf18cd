"""A running service whose generated config changes while its container stays (Prometheus'
targets when a UI is enabled, Grafana's datasources when Loki is): `up` wrote the new files
but the process kept the old ones until someone restarted it. Now `up` sends a service its
x-homestack `reload` signal (SIGHUP for Prometheus and Alertmanager) and names those with no
live way to take it (`homestack restart NAME`). Against the real engine: the stand-in
"prometheus" records each SIGHUP it gets in its DATA folder."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.deploy.up import up
from homestack.engine.model import SERVICE_LABEL
from testkit.engine import docker
from testkit.sites import HTTPD, up_site

pytestmark = pytest.mark.integration

#: the stand-in HTTP service, also writing a line to /data/reloads on each SIGHUP
HUP_HTTPD = "trap 'echo reloaded >> /data/reloads' HUP; " + HTTPD


def _reloads(root: Path, expected: int) -> int:
    """Lines in DATA/prometheus/reloads once `expected` arrived (or 10 s went by)."""
    marker = root / "DATA" / "prometheus" / "reloads"
    deadline = time.monotonic() + 10
    while True:
        count = len(marker.read_text().splitlines()) if marker.exists() else 0
        if count >= expected or time.monotonic() > deadline:
            return count
        time.sleep(0.1)


def _container_ids(prefix: str) -> dict[str, str]:
    """service → its container's id, of this test's (prefixed) containers."""
    listed = docker("ps", "-a", "--filter", f"name=^{prefix}", "--format", "{{.ID}}").stdout
    out = {}
    for cid in listed.split():
        label = docker("inspect", "-f", f'{{{{index .Config.Labels "{SERVICE_LABEL}"}}}}', cid)
        out[label.stdout.strip()] = cid
    return out


def _toggle(root: Path, name: str, *, on: bool) -> None:
    stack_file = root / "management-stack" / "stack.yaml"
    text = stack_file.read_text()
    before, after = (
        (f"  # - {name}\n", f"  - {name}\n") if on else (f"  - {name}\n", f"  # - {name}\n")
    )
    assert before in text
    stack_file.write_text(text.replace(before, after))


def test_up_reloads_or_names_running_services_whose_generated_config_changed(
    tmp_path: Path, prefixed_site_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = prefixed_site_env
    services = {
        "prometheus": {"script": HUP_HTTPD, "reload": "SIGHUP", "critical": False},
        "grafana": {"critical": False},
        "loki": {"critical": False},
    }
    root = up_site(tmp_path / "site", {"management": {"services": services}})
    _toggle(root, "loki", on=False)
    first = up(Site.load(root), timeout=60)
    assert first.ok, first.summary()
    # made by this run: they read the new files anyway, nothing to reload
    assert (first.reloaded, first.stale_config) == ([], [])
    before = _container_ids(prefix)

    # enabling Loki adds a probe target to Prometheus' files and a datasource to Grafana's
    _toggle(root, "loki", on=True)
    capsys.readouterr()
    assert run(["--site", str(root), "up", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["reloaded"] == ["prometheus"]
    assert data["stale_config"] == ["grafana"]
    assert _reloads(root, 1) == 1
    after = _container_ids(prefix)
    for name in ("prometheus", "grafana"):  # signalled or named, never recreated
        assert after[name] == before[name]

    # nothing changed: no signal, no note
    again = up(Site.load(root), timeout=60)
    assert (again.reloaded, again.stale_config) == ([], [])
    assert _reloads(root, 2) == 1

    # disabling it again changes both once more; the CLI says what it did and what is left
    _toggle(root, "loki", on=False)
    assert run(["--site", str(root), "up"]) == 0
    out = capsys.readouterr().out
    assert "reloaded prometheus: its generated config changed" in out
    assert "grafana still runs the old generated config" in out
    assert "homestack restart grafana" in out
    assert _reloads(root, 2) == 2
