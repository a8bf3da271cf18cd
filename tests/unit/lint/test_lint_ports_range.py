"""ports.range: a published host port outside 1-65535 is a lint finding at the ports line,
naming the service, the port and where its variable is set (doctor failed it, lint did not;
Compose refuses 70000 and -5 with 'invalid hostPort', and takes 0 as 'any free port')."""

from __future__ import annotations

from pathlib import Path

import pytest
from lintkit import MARK, Case, lint, replace, service

from homestack.cli.app import run
from homestack.lint import Finding
from homestack.ports import parse_ports

W = "ai-stack/services/web.docker-compose.yaml"
PORT_LINE = '      - "${BIND_ADDRESS:-127.0.0.1}:${WEB_PORT:-18080}:80"\n'
LONG_IP = "        host_ip: 127.0.0.1\n"


def _web(new_port_lines: str) -> dict[str, str | None]:
    return {W: replace(service(), PORT_LINE, new_port_lines)}


def _range_findings(root: Path) -> list[Finding]:
    return [f for f in lint(root) if f.rule == "ports.range"]


@pytest.mark.parametrize(
    ("ports", "shown"),
    [
        (f'      - "127.0.0.1:70000:80"  {MARK}\n', "70000"),
        (f'      - "127.0.0.1:0:80"  {MARK}\n', "0"),
        (f'      - "127.0.0.1:65530-65540:80-90"  {MARK}\n', "65536-65540"),
        (f"      - target: 80  {MARK}\n        published: -5\n{LONG_IP}", "-5"),
        (f"      - target: 80  {MARK}\n        published: 99999\n{LONG_IP}", "99999"),
    ],
    ids=["short", "zero", "range", "long-negative", "long"],
)
def test_an_out_of_range_host_port_is_reported_at_its_line(
    tmp_path: Path, ports: str, shown: str
) -> None:
    case = Case("ports.range", _web(ports), W)
    root = case.write(tmp_path)
    (finding,) = _range_findings(root)
    assert finding.file == (root / W).resolve()
    assert finding.line == case.expected_line()
    assert finding.service == "web"
    assert finding.severity.value == "error"
    assert f"host port {shown}/tcp of web" in finding.message
    assert "1-65535" in finding.message
    assert "web.docker-compose.yaml" in finding.hint


def test_a_port_variable_names_the_env_file_that_sets_it(tmp_path: Path) -> None:
    case = Case(
        "ports.range",
        {
            W: replace(service(), PORT_LINE, PORT_LINE.rstrip("\n") + f"  {MARK}\n"),
            "ai-stack/services/web/.env": "# web\nWEB_PORT=80800\n",
        },
        W,
    )
    root = case.write(tmp_path)
    (finding,) = _range_findings(root)
    assert finding.line == case.expected_line()
    assert "80800" in finding.message
    assert "WEB_PORT" in finding.hint
    assert "ai-stack/services/web/.env:2" in finding.hint


def test_a_port_variable_left_at_its_default_names_the_default(tmp_path: Path) -> None:
    line = '      - "${BIND_ADDRESS:-127.0.0.1}:${WEB_PORT:-70000}:80"\n'
    root = Case("ports.range", _web(line)).write(tmp_path)
    (finding,) = _range_findings(root)
    assert finding.hint.startswith("Change the default of WEB_PORT in web.docker-compose.yaml")


def test_ports_in_range_pass(tmp_path: Path) -> None:
    ports = '      - "127.0.0.1:1:80"\n      - "127.0.0.1:65535:81"\n      - "8080"\n'
    root = Case("ports.range", _web(ports)).write(tmp_path)
    assert _range_findings(root) == []


def test_a_range_too_wide_to_be_ports_is_unreadable_not_expanded() -> None:
    # 1-4294967295 would have been expanded into four billion ports
    bindings, bad = parse_ports(["127.0.0.1:1-4294967295:80", "127.0.0.1:9-8:80"])
    assert bindings == []
    assert [index for index, _ in bad] == [0, 1]


def test_validate_offline_reports_it_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Case("ports.range", _web('      - "127.0.0.1:70000:80"\n')).write(tmp_path)
    code = run(["--site", str(root), "validate", "--offline"])
    out = capsys.readouterr()
    assert code == 1, out
    text = out.out + out.err
    assert "ports.range" in text
    assert "70000" in text


@pytest.mark.parametrize(
    ("ports", "shown", "why"),
    [
        (f'      - "127.0.0.1:18080:70000"  {MARK}\n', "70000", "invalid containerPort"),
        (f'      - "127.0.0.1:18080:0"  {MARK}\n', "0", "a target port is missing"),
        (f"      - target: 99999  {MARK}\n        published: 18080\n{LONG_IP}", "99999", ""),
        (
            f'      - "127.0.0.1:18080-18081:65535-65536"  {MARK}\n',
            "65536",
            "invalid containerPort",
        ),
    ],
    ids=["short", "zero", "long", "range"],
)
def test_an_out_of_range_container_port_is_reported_at_its_line(
    tmp_path: Path, ports: str, shown: str, why: str
) -> None:
    """Compose refuses `18080:70000` and `18080:0` in config; the engine refuses a long-syntax
    `target: 99999` at create (measured: 'invalid port specification')."""
    case = Case("ports.range", _web(ports), W)
    root = case.write(tmp_path)
    (finding,) = _range_findings(root)
    assert finding.line == case.expected_line()
    assert finding.service == "web"
    assert f"container port {shown}/tcp of web is not a port (1-65535)" in finding.message
    assert why in finding.message
    assert "listens on inside its container" in finding.hint
    assert "web.docker-compose.yaml" in finding.hint
