"""Dependency graph across stacks and services, waves, cycles, and what `up` creates."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.errors import BadInput
from homestack.plan import build_graph, make_plan, waves
from testkit.sites import make_site, service_yaml, stack_yaml


@pytest.fixture(autouse=True)
def _no_site_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOMESTACK_PREFIX", raising=False)
    monkeypatch.delenv("DATA_ROOT", raising=False)
    monkeypatch.delenv("SECRETS_DIR", raising=False)


def test_waves_are_topological_layers() -> None:
    needs = {"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}, "e": set()}
    assert waves(needs) == [["a", "e"], ["b", "c"], ["d"]]


def test_cycle_is_bad_input_naming_the_loop() -> None:
    with pytest.raises(BadInput) as caught:
        waves({"a": {"b"}, "b": {"c"}, "c": {"a"}})
    message = caught.value.message
    assert message.startswith("dependency cycle: ")
    assert all(name in message for name in "abc")
    assert caught.value.hint and "depends_on" in caught.value.hint


def test_plan_orders_stacks_and_services_across_stacks(tmp_path: Path) -> None:
    site = Site.load(make_site(tmp_path))
    plan = make_plan(site)
    assert plan.stack_waves == [["essentials"], ["ai"]]
    # every ai service waits for essentials' critical service (the stack gate)
    assert plan.service_waves == [["proxy"], ["ollama"], ["webui"]]
    assert plan.stacks == {"essentials": ["proxy"], "ai": ["ollama", "webui"]}
    edges = {(e.service, e.needs, e.why) for e in plan.edges}
    assert ("webui", "ollama", "compose depends_on") in edges
    assert ("ollama", "proxy", "stack depends_on essentials") in edges


def test_cross_stack_x_homestack_depends_on(tmp_path: Path) -> None:
    make_site(
        tmp_path,
        {
            "ai-stack/stack.yaml": stack_yaml(["ollama", "webui"]),  # no stack dependency
            "essentials-stack/services/proxy.docker-compose.yaml": service_yaml(
                "proxy", "essentials", meta="depends_on: [webui]"
            ),
        },
    )
    plan = make_plan(Site.load(tmp_path))
    assert plan.service_waves == [["ollama"], ["webui"], ["proxy"]]
    assert plan.stack_waves == [["ai"], ["essentials"]]
    assert ("proxy", "webui", "x-homestack depends_on") in {
        (e.service, e.needs, e.why) for e in plan.edges
    }


def test_cycle_across_stacks_is_reported(tmp_path: Path) -> None:
    make_site(
        tmp_path,
        {
            "essentials-stack/services/proxy.docker-compose.yaml": service_yaml(
                "proxy", "essentials", meta="critical: true\ndepends_on: [webui]"
            ),
        },
    )
    with pytest.raises(BadInput) as caught:
        make_plan(Site.load(tmp_path))
    assert "dependency cycle" in caught.value.message
    assert "proxy" in caught.value.message


def test_depending_on_a_disabled_service_is_bad_input(tmp_path: Path) -> None:
    make_site(
        tmp_path,
        {
            "ai-stack/services/webui.docker-compose.yaml": service_yaml(
                "webui", meta="depends_on: [whisper]"
            )
        },
    )
    with pytest.raises(BadInput) as caught:
        make_plan(Site.load(tmp_path))
    assert "whisper" in caught.value.message
    assert caught.value.hint == "Enable it (`homestack enable whisper`) or remove the dependency."
    assert caught.value.file == str(tmp_path / "ai-stack/services/webui.docker-compose.yaml")


def test_depending_on_a_stack_that_does_not_exist_is_bad_input(tmp_path: Path) -> None:
    make_site(
        tmp_path,
        {"ai-stack/stack.yaml": stack_yaml(["ollama", "webui"], depends_on=["esentials"])},
    )
    for names in (None, ["ai"], ["webui"]):
        with pytest.raises(BadInput) as caught:  # the plan (and up) left essentials out
            make_plan(Site.load(tmp_path), names)
        assert "'esentials'" in caught.value.message
        assert caught.value.hint is not None
        assert caught.value.hint.startswith("Did you mean essentials?")
        assert caught.value.file == str(tmp_path / "ai-stack/stack.yaml")
        assert caught.value.line == 4


def test_plan_for_one_service_pulls_in_what_it_needs(tmp_path: Path) -> None:
    site = Site.load(make_site(tmp_path))
    plan = make_plan(site, ["webui"])
    assert plan.service_waves == [["proxy"], ["ollama"], ["webui"]]
    graph = build_graph(site, [site.service("ollama")])
    assert set(graph.services) == {"ollama", "proxy"}


def test_plan_for_one_stack(tmp_path: Path) -> None:
    plan = make_plan(Site.load(make_site(tmp_path)), ["essentials"])
    assert plan.service_waves == [["proxy"]]


def test_what_up_would_create(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", "t9_")
    make_site(tmp_path)
    (tmp_path / "DATA/proxy").mkdir(parents=True)
    site = Site.load(tmp_path)
    creates = {(c.kind, c.name): c for c in make_plan(site).creates}
    root = tmp_path.resolve()
    assert ("network", "t9_essential-services") in creates
    assert ("network", "t9_ai-services") in creates
    secret = creates[("secret", str(root / "secrets/ollama_api_key"))]
    assert (secret.exists, secret.detail) == (False, "40 chars")
    assert creates[("folder", str(root / "DATA/proxy"))].exists is True
    assert creates[("folder", str(root / "DATA/config/webui"))].exists is False
    assert ("folder", str(root / "DATA/backups/ollama")) in creates
    assert ("volume", "t9_ai_ollama_data") in creates
    assert not any("whisper" in name for _, name in creates)  # disabled: nothing
    assert not (tmp_path / "secrets").exists()  # planning touches nothing


def test_plan_refuses_a_site_with_problems(tmp_path: Path) -> None:
    make_site(tmp_path, {"ai-stack/stack.yaml": "services:\n  - olama\n"})
    with pytest.raises(BadInput) as caught:
        make_plan(Site.load(tmp_path))
    assert caught.value.line == 2
    assert caught.value.hint == "Did you mean ollama?"


def test_plan_to_data_is_plain() -> None:
    import json

    from homestack.plan import Creation, Edge, PlanResult

    result = PlanResult([["a"]], [["x"]], {"a": ["x"]}, [Edge("x", "y", "w")], [])
    result.creates.append(Creation("network", "n", False, "ensure"))
    data = json.loads(json.dumps(result.to_data()))
    assert data["edges"] == [{"service": "x", "needs": "y", "why": "w"}]
    assert data["creates"][0]["kind"] == "network"
