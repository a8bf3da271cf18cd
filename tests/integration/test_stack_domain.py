"""DOMAIN set in a stack's .env: Compose gives it to that stack's services, but the proxy is
one Caddyfile generated for the root .env's DOMAIN. validate reports it (env.domain, at the
layer's line, with the fix); generate and status both use the root's domain, so the URL
status shows is one the proxy serves (status showed the stack's, generate the root's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.generate.view import CatalogView
from testkit.sites import copy_catalog

pytestmark = pytest.mark.integration


@pytest.fixture
def site_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, test_prefix: str) -> Path:
    monkeypatch.setenv("HOMESTACK_PREFIX", test_prefix)  # status only reads the engine
    monkeypatch.setenv("HOMESTACK_NO_CACHE", "1")
    monkeypatch.delenv("DOMAIN", raising=False)
    monkeypatch.delenv("HOMESTACK_SITE", raising=False)
    root = copy_catalog(tmp_path / "site")
    example = (root / ".env.example").read_text(encoding="utf-8").splitlines()
    lines = ["DOMAIN=home.lan" if line.startswith("DOMAIN=") else line for line in example]
    (root / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "ai-stack" / ".env").write_text("# mine\nDOMAIN=ai.lan\n", encoding="utf-8")
    return root


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    code = run(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_a_stack_domain_is_reported_and_generate_and_status_use_the_sites(
    site_root: Path, capsys: pytest.CaptureFixture[str], docker_engine: str
) -> None:
    code, result = _json(capsys, "--site", str(site_root), "validate", "--offline", "--json")
    assert code == 1
    found = [f for f in result["findings"] if f["rule"] == "env.domain"]
    assert [(Path(f["file"]).name, f["line"], f["severity"]) for f in found] == [
        (".env", 2, "error")
    ]
    assert found[0]["file"] == str((site_root / "ai-stack" / ".env").resolve())
    assert "'ai.lan' while the proxy serves 'home.lan'" in found[0]["message"]
    assert "Delete DOMAIN from ai-stack/.env" in found[0]["hint"]

    site = Site.load(site_root)
    hosts = {route.service: route.host for route in CatalogView.of(site).routes()}
    assert hosts["open-webui"] == "chat.home.lan"

    code, status = _json(capsys, "--site", str(site_root), "status", "ai", "--json")
    assert code == 0
    urls = {row["service"]: row["url"] for row in status["services"]}
    assert urls["open-webui"] == "https://chat.home.lan/"
