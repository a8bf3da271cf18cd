"""Compose `depends_on: {X: {required: false}}` read as Compose v2.40 reads it (checked with
the real CLI in tests/integration/test_optional_depends_compose.py): X is started first and
waited for when it is in the project, and the service starts even if X fails (a warning);
X not in the project (disabled: its file is not passed) is refused ("depends on undefined
service"). So plan keeps it a need, marks it optional, and lint and `disable` count it."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.errors import BadInput
from homestack.lint import lint_site
from homestack.lint.rules_deps import enabled_dependents
from homestack.plan import build_graph, make_plan
from testkit.sites import make_site, service_yaml, stack_yaml

OPTIONAL = "depends_on:\n  ollama:\n    condition: service_healthy\n    required: false"


def _site(tmp_path: Path, enabled: list[str], disabled: list[str]) -> Site:
    root = make_site(
        tmp_path / "site",
        {
            "ai-stack/stack.yaml": stack_yaml(enabled, disabled, depends_on=["essentials"]),
            "ai-stack/services/webui.docker-compose.yaml": service_yaml(
                "webui", meta="web:\n  port: 8080", body=OPTIONAL
            ),
        },
    )
    return Site.load(root)


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMESTACK_NO_CACHE", "1")


def test_an_optional_dependency_that_is_there_is_pulled_in_ordered_and_marked(
    tmp_path: Path,
) -> None:
    site = _site(tmp_path, ["ollama", "webui"], ["whisper"])
    plan = make_plan(site, ["webui"])  # `docker compose up webui` starts ollama too
    assert plan.service_waves == [["proxy"], ["ollama"], ["webui"]]
    assert any(
        e.service == "webui" and e.needs == "ollama" and e.why.endswith("(required: false)")
        for e in plan.edges
    )
    assert build_graph(site).optional == {"webui": {"ollama"}}


def test_an_optional_dependency_that_is_disabled_is_refused_by_plan_lint_and_named_by_disable(
    tmp_path: Path,
) -> None:
    site = _site(tmp_path, ["webui"], ["ollama", "whisper"])
    # named, webui brings what it needs along, disabled or not, as for a required need
    assert make_plan(site, ["webui"]).service_waves == [["proxy"], ["ollama"], ["webui"]]
    with pytest.raises(BadInput) as refused:
        make_plan(site)
    assert "webui depends on 'ollama', which is not an enabled service" in refused.value.message
    assert refused.value.hint and "`required: false` does not help" in refused.value.hint
    found = [f for f in lint_site(site, host_ports=False) if f.rule == "depends.unknown"]
    assert [(f.service, f.severity.value) for f in found] == [("webui", "error")]
    assert "Compose refuses the stack all the same" in found[0].message

    on = Site.load(_site(tmp_path / "on", ["ollama", "webui"], ["whisper"]).root)
    needed = enabled_dependents(on, ["ollama"])
    assert [(d.service, d.why) for d in needed] == [
        ("webui", "compose depends_on (required: false)")
    ]


def test_a_required_dependency_is_not_marked_optional(tmp_path: Path) -> None:
    site = Site.load(make_site(tmp_path / "site"))
    assert make_plan(site, ["webui"]).service_waves == [["proxy"], ["ollama"], ["webui"]]
    assert build_graph(site).optional == {}
