"""Lint (and Site.stack_env) interpolate with exactly the env `docker compose config` uses:
every env file of the stack (root, stack, each enabled service, later wins), `${VAR}` inside
env files, the process environment winning, DATA_ROOT/HOMESTACK_PREFIX as ComposeProject
passes them. Checked against the real Compose CLI (no engine needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.engine.compose import ComposeProject
from homestack.lint import lint_site
from homestack.lint.core import LintContext
from homestack.stackfile import toggle
from testkit.sites import external_networks, write_tree

pytestmark = pytest.mark.integration

VARS = ("TOKEN", "SHARED", "URL", "REF", "LITERAL", "ESC", "PROC", "DATA", "PREFIX", "MODE", "low")


def _service(name: str) -> str:
    env = "".join(f"      E_{v}: ${{{v}}}\n" for v in VARS if v not in ("DATA", "PREFIX"))
    return (
        f"services:\n  {name}:\n    x-homestack:\n      title: {name}\n"
        f"      description: {name}\n    image: example/{name}:1.0\n"
        f"    environment:\n{env}"
        "      E_DATA: ${DATA_ROOT}\n      E_PREFIX: x${HOMESTACK_PREFIX}\n"
        "    networks:\n      - ai-services\n"
    )


@pytest.fixture
def site_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, test_prefix: str) -> Path:
    for key in ("DATA_ROOT", "SECRETS_DIR", "HOMESTACK_SITE", *VARS):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOMESTACK_PREFIX", test_prefix)
    monkeypatch.setenv("PROC", "from-process")  # the process environment beats every file
    monkeypatch.setenv("low", "lower-case")  # Compose reads any name, not only upper case
    svc = "ai-stack/services"
    return write_tree(
        tmp_path / "site",
        {
            "base.docker-compose.yaml": external_networks("ai-services"),
            ".env": "DOMAIN=lab.home.arpa\nSHARED=root\nPROC=root\nMODE=root\n",
            "ai-stack/stack.yaml": "services:\n  - web\n  # - off\n  - mid\n  - api\n",
            # a stack may not move DATA_ROOT: ComposeProject passes the root's value
            "ai-stack/.env": "SHARED=stack\nDATA_ROOT=/elsewhere\n",
            f"{svc}/web/.env": "SHARED=web\nURL=https://x.${DOMAIN}\nREF=${SHARED}\n"
            "LITERAL='${DOMAIN}x'\n"
            # escapes in double quotes, in one pass: tab, literal $, backslash, unknown kept
            'ESC="t\\tx \\$DOMAIN a\\\\$DOMAIN \\q"\n',
            f"{svc}/off/.env": "MODE=off\n",
            f"{svc}/mid/.env": "SHARED=mid\nMODE=mid\n",
            f"{svc}/api/.env": "TOKEN=sibling-token\nSHARED=api\n",
            **{f"{svc}/{n}.docker-compose.yaml": _service(n) for n in ("web", "off", "mid", "api")},
        },
    )


def _compose_env(site: Site) -> dict[str, dict[str, str]]:
    model = ComposeProject(site, site.stacks["ai"]).config()
    return {
        name: {k: str(v).replace("$$", "$") for k, v in spec["environment"].items()}
        for name, spec in model["services"].items()
    }


def _lint_env(site: Site) -> dict[str, dict[str, str]]:
    context = LintContext(site, host_ports=False)
    return {
        s.id: {k: str(v) for k, v in context.resolved(s)["environment"].items()}
        for s in context.services
    }


def test_lint_interpolates_every_enabled_service_as_compose_does(
    compose_cli: None, site_root: Path, test_prefix: str
) -> None:
    site = Site.load(site_root)
    compose = _compose_env(site)
    assert compose["web"]["E_TOKEN"] == "sibling-token"  # the sibling's .env reaches web
    assert compose["web"]["E_SHARED"] == "api"  # the last enabled service's file wins
    assert compose["web"]["E_URL"] == "https://x.lab.home.arpa"
    assert compose["web"]["E_PROC"] == "from-process"
    assert compose["web"]["E_DATA"] == str(site_root / "DATA")
    assert compose["web"]["E_PREFIX"] == "x" + test_prefix
    linted = _lint_env(site)
    for name in ("web", "mid", "api"):
        assert linted[name] == compose[name], name
    stack_env = site.stack_env(site.stacks["ai"])
    assert compose["web"]["E_ESC"] == "t\tx $DOMAIN a\\lab.home.arpa \\q"
    for key in ("TOKEN", "SHARED", "URL", "REF", "LITERAL", "ESC", "PROC", "MODE", "low"):
        assert stack_env[key] == compose["web"][f"E_{key}"], key
    assert stack_env["DATA_ROOT"] == compose["web"]["E_DATA"]
    unset = [f for f in lint_site(site, host_ports=False) if f.rule.startswith("env.")]
    assert unset == []


def test_a_disabled_service_is_linted_with_its_layer_where_enable_puts_it(
    compose_cli: None, site_root: Path
) -> None:
    before = _lint_env(Site.load(site_root))["off"]
    assert before["E_MODE"] == "mid"  # off/.env comes before mid/.env once enabled
    toggle(Site.load(site_root), ["off"], enable=True)
    assert _compose_env(Site.load(site_root))["off"] == before
