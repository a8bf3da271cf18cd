"""Env files are merged as `docker compose --env-file …` merges them: later file wins,
`${VAR}` inside a value expands, 'single quotes' keep it, a bare KEY inherits the process
environment (the integration test test_env_layers_compose checks the same against Compose)."""

from __future__ import annotations

from pathlib import Path

from lintkit import Case, replace, service, stack_yaml

from homestack.catalog import Site
from homestack.lint import lint_site
from homestack.settings import merge_layers, parse_env


def test_values_expand_with_the_process_environment_first_then_earlier_lines() -> None:
    first = parse_env("A=one\nB=first\n", Path("1"))
    second = parse_env(
        "R1=${A}\nR2='${A}'\nR3=\"${A}x\"\nR4=${NOPE:-dflt}\nB=second\nR6=${B}\n"
        "R8=$A-$$A\nR9\nR10\n",
        Path("2"),
    )
    merged = merge_layers([first, None, second], {"R9": "inherited"})
    assert merged["R1"] == "one"
    assert merged["R2"] == "${A}"
    assert merged["R3"] == "onex"
    assert merged["R4"] == "dflt"
    assert merged["R6"] == "second"
    assert merged["R8"] == "one-$A"
    assert merged["R9"] == "inherited"
    assert "R10" not in merged  # a bare KEY the process does not set stays unset
    assert merge_layers([second], {"A": "proc"})["R1"] == "proc"


def test_a_bare_key_line_is_not_a_syntax_error() -> None:
    env = parse_env("TZ\nexport PUID\n", Path(".env"))
    assert env.values == {}
    assert env.lines == {"TZ": 1, "PUID": 2}


def test_a_port_set_through_another_variable_is_read_as_compose_reads_it(
    tmp_path: Path,
) -> None:
    root = Case(
        "ports.invalid",
        {
            "ai-stack/.env.example": "BASE_PORT=18000\n",
            "ai-stack/services/web/.env": "WEB_PORT=${BASE_PORT}\n",
        },
    ).write(tmp_path)
    found = [f for f in lint_site(Site.load(root), host_ports=False) if f.rule.startswith("ports")]
    assert found == []


def test_a_variable_only_a_disabled_sibling_sets_is_unset(tmp_path: Path) -> None:
    uses = replace(
        service(), "    restart:", "    environment:\n      T: ${API_TOKEN}\n    restart:"
    )
    files: dict[str, str | None] = {
        "ai-stack/services/web.docker-compose.yaml": uses,
        "ai-stack/services/api.docker-compose.yaml": service("api", port=18081),
        "ai-stack/services/api/.env": "API_TOKEN=t\n",
    }
    on = Case("env.unset", {**files, "ai-stack/stack.yaml": stack_yaml(["web", "api"])})
    assert lint_site(Site.load(on.write(tmp_path / "on")), host_ports=False) == []
    off = Case("env.unset", {**files, "ai-stack/stack.yaml": stack_yaml(["web"], ["api"])})
    found = lint_site(Site.load(off.write(tmp_path / "off")), host_ports=False)
    assert [(f.rule, f.service) for f in found] == [("env.unset", "web")]
