"""With BIND_ADDRESS set to a LAN address, `homestack config` (the model Compose runs)
publishes no web UI that sits behind sign-on: the LAN reaches those only through the proxy
and Authelia. An explicit `web.publish` opt-in publishes one, and lint warns about it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.lint import lint_site
from homestack.stackfile import toggle
from testkit.sites import copy_catalog

LAN = "192.168.77.10"


def _site(root: Path) -> Site:
    copy_catalog(root)
    (root / ".env").write_text(
        # the door (Caddy's 80/443, issue 17) on the same LAN address
        f"HOMESTACK_PREFIX=h13cfg_\nBIND_ADDRESS={LAN}\nLAN_ADDRESS={LAN}\nDATA_ROOT=./DATA\n"
        "DOMAIN=home.arpa\n",
        encoding="utf-8",
    )
    site = Site.load(root)
    # every service that can run without a GPU
    off = [s.id for s in site.services() if not s.enabled and s.meta and s.meta.gpu != "required"]
    toggle(site, off, enable=True)
    toggle(
        site, [s.id for s in site.services() if s.meta and s.meta.gpu == "required"], enable=False
    )
    return Site.load(root)


def _published(
    capsys: pytest.CaptureFixture[str], root: Path
) -> dict[str, list[dict[str, object]]]:
    capsys.readouterr()
    assert run(["--site", str(root), "config", "--json"]) == 0
    models = json.loads(capsys.readouterr().out)
    return {
        name: list(spec.get("ports") or [])
        for model in models.values()
        for name, spec in model["services"].items()
    }


def test_no_ui_behind_sign_on_is_published_on_the_lan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], compose_cli: None
) -> None:
    root = tmp_path / "site"
    site = _site(root)
    published = _published(capsys, root)
    behind = {
        s.id: s.meta.web.port
        for s in site.services()
        if s.meta is not None and s.meta.web is not None and s.meta.web.auth
    }
    assert {"ollama", "prometheus", "open-webui", "filebrowser", "tdarr"} <= set(behind)
    bypass = {
        service: [p for p in published[service] if int(str(p["target"])) == port]
        for service, port in behind.items()
    }
    # Alertmanager opts in (homestack alerts uses its API), on loopback only
    assert [(p["host_ip"], p["target"]) for p in bypass.pop("alertmanager", [])] in (
        [],
        [("127.0.0.1", 9093)],
    )
    assert {s: p for s, p in bypass.items() if p} == {}
    # the sign-on portal itself is reached through the proxy too
    assert published["authelia"] == []
    # what stays on the LAN is not a web UI behind sign-on (DNS, SMB, the proxy, streams …)
    on_lan = {s for s, ports in published.items() if any(p.get("host_ip") == LAN for p in ports)}
    assert "caddy" in on_lan and not on_lan & set(behind) - {"blocky", "mediamtx"}
    assert [f for f in lint_site(site, host_ports=False) if f.rule == "ports.signon-bypass"] == []


def test_an_opt_in_publishes_the_ui_and_lint_warns_beyond_loopback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], compose_cli: None
) -> None:
    root = tmp_path / "site"
    _site(root)
    path = root / "ai-stack" / "services" / "ollama.docker-compose.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("        auth: true\n", "        auth: true\n        publish: true\n", 1)
    text = text.replace(
        "    volumes:\n",
        '    ports:\n      - "${BIND_ADDRESS:-127.0.0.1}:11434:11434"\n    volumes:\n',
        1,
    )
    path.write_text(text, encoding="utf-8")
    published = _published(capsys, root)
    assert [(p["host_ip"], str(p["target"])) for p in published["ollama"]] == [(LAN, "11434")]
    found = [
        f for f in lint_site(Site.load(root), host_ports=False) if f.rule == "ports.signon-bypass"
    ]
    assert [(f.service, f.severity.value) for f in found] == [("ollama", "warning")]
    # without the opt-in, the same port is an error
    path.write_text(text.replace("        publish: true\n", ""), encoding="utf-8")
    found = [
        f for f in lint_site(Site.load(root), host_ports=False) if f.rule == "ports.signon-bypass"
    ]
    assert [(f.service, f.severity.value) for f in found] == [("ollama", "error")]
