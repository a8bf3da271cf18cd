"""web.subdomain: two enabled web UIs on one host name are both reported, each naming the
other's file and line (as ports.conflict does), whatever their order in stack.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
from lintkit import Case, lint, service, stack_yaml

WEB = "ai-stack/services/web.docker-compose.yaml"
API = "ai-stack/services/api.docker-compose.yaml"
DOCS = "media-stack/services/docs.docker-compose.yaml"


def _with_web(text: str, subdomain: str) -> str:
    lines = f"      web:\n        port: 80\n        subdomain: {subdomain}\n"
    return text.replace("      secrets:\n", lines + "      secrets:\n", 1)


def _line(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize("order", [["web", "api"], ["api", "web"]])
def test_each_service_of_a_shared_host_gets_a_finding_naming_the_other(
    order: list[str], tmp_path: Path
) -> None:
    web = _with_web(service(), "docs")
    api = _with_web(service("api", port=18081), "Docs")  # host names ignore case
    root = Case(
        "web.subdomain", {"ai-stack/stack.yaml": stack_yaml(order), WEB: web, API: api}
    ).write(tmp_path)
    found = [f for f in lint(root) if f.rule == "web.subdomain"]
    by_service = {f.service: f for f in found}
    assert sorted(by_service) == ["api", "web"]
    web_line, api_line = _line(web, "subdomain:"), _line(api, "subdomain:")
    assert by_service["web"].file == root / WEB
    assert by_service["web"].line == web_line
    assert by_service["api"].file == root / API
    assert by_service["api"].line == api_line
    assert f"api ({API.rsplit('/', 1)[1]}:{api_line})" in by_service["web"].message
    assert f"web ({WEB.rsplit('/', 1)[1]}:{web_line})" in by_service["api"].message
    assert all(f.severity.value == "error" and f.hint for f in found)


def test_three_services_across_stacks_each_name_the_two_others(tmp_path: Path) -> None:
    media = service("docs", "media", 18082).replace("ai-services", "media-services")
    root = Case(
        "web.subdomain",
        {
            "ai-stack/stack.yaml": stack_yaml(["web", "api"]),
            WEB: _with_web(service(), "docs"),
            API: _with_web(service("api", port=18081), "docs"),
            "media-stack/stack.yaml": stack_yaml(["docs"]),
            DOCS: media.replace("      secrets:\n", "      web: {port: 80}\n      secrets:\n", 1),
        },
    ).write(tmp_path)
    found = {f.service: f for f in lint(root) if f.rule == "web.subdomain"}
    assert sorted(found) == ["api", "docs", "web"]
    assert "api (api.docker-compose.yaml:" in found["docs"].message
    assert "web (web.docker-compose.yaml:" in found["docs"].message
    assert found["docs"].file == root / DOCS


def test_a_disabled_service_on_the_same_host_is_not_reported(tmp_path: Path) -> None:
    root = Case(
        "web.subdomain",
        {
            "ai-stack/stack.yaml": stack_yaml(["web"], ["api"]),
            WEB: _with_web(service(), "docs"),
            API: _with_web(service("api", port=18081), "docs"),
        },
    ).write(tmp_path)
    assert [f for f in lint(root) if f.rule == "web.subdomain"] == []
