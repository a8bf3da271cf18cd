"""Which running services go down with `down STACK|SERVICE…`, and why (pure: no engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.deploy.dependents import find_dependents, is_running, order_within
from homestack.deploy.down import DownPlan, DownResult, plan_down, refusal
from homestack.errors import ExitStatus
from homestack.plan import build_graph
from testkit.sites import copy_catalog, make_site, service_yaml, stack_yaml


@pytest.fixture(autouse=True)
def _no_site_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOMESTACK_PREFIX", "DATA_ROOT", "SECRETS_DIR"):
        monkeypatch.delenv(name, raising=False)


def _with_media(tmp_path: Path) -> Site:
    """make_site plus a media stack (no stack depends_on) whose player needs ai's webui."""
    return Site.load(
        make_site(
            tmp_path,
            {
                "media-stack/stack.yaml": stack_yaml(["player"]),
                "media-stack/services/player.docker-compose.yaml": service_yaml(
                    "player", "media", meta="depends_on: [webui]"
                ),
            },
        )
    )


def test_direct_dependents_across_stacks_with_the_edge_that_makes_them(tmp_path: Path) -> None:
    site = Site.load(make_site(tmp_path))
    graph = build_graph(site)
    found = find_dependents(graph, ["proxy"], {"proxy", "ollama", "webui"})
    assert [(d.stack, d.service, d.needs) for d in found] == [
        ("ai", "ollama", "proxy"),
        ("ai", "webui", "proxy"),
    ]
    assert found[0].reason() == "ai/ollama needs essentials/proxy (stack depends_on essentials)"
    assert found[0].to_data() == {
        "service": "ollama",
        "stack": "ai",
        "needs": "proxy",
        "needs_stack": "essentials",
        "why": "stack depends_on essentials",
        "target": "proxy",
        "path": ["ai/ollama", "essentials/proxy"],
        "reason": "ai/ollama needs essentials/proxy (stack depends_on essentials)",
    }


def test_only_running_services_are_dependents(tmp_path: Path) -> None:
    graph = build_graph(Site.load(make_site(tmp_path)))
    assert [d.service for d in find_dependents(graph, ["ollama"], {"webui"})] == ["webui"]
    assert find_dependents(graph, ["ollama"], {"proxy", "ollama"}) == []
    # the targets themselves are never their own dependents
    assert find_dependents(graph, ["ollama", "webui"], {"ollama", "webui"}) == []


def test_transitive_dependent_through_a_stopped_service_names_the_whole_path(
    tmp_path: Path,
) -> None:
    graph = build_graph(_with_media(tmp_path))
    (only,) = find_dependents(graph, ["ollama"], {"ollama", "player"})  # webui is stopped
    assert only.service == "player"
    assert only.path == ("player", "webui", "ollama")
    assert only.target == "ollama"
    assert only.reason() == (
        "media/player needs ai/webui (x-homestack depends_on), which needs ai/ollama"
    )
    both = find_dependents(graph, ["ollama"], {"ollama", "webui", "player"})
    assert [(d.service, d.needs) for d in both] == [("webui", "ollama"), ("player", "webui")]


def test_shipped_catalog_down_essentials_takes_every_other_stack_with_it(
    tmp_path: Path,
) -> None:
    site = Site.load(copy_catalog(tmp_path / "site"))
    graph = build_graph(site)
    essentials = [s.id for s in site.stacks["essentials"].enabled]
    everything = set(graph.services)
    found = {d.service: d for d in find_dependents(graph, essentials, everything)}
    others = {s.id for s in site.services(enabled_only=True) if s.stack != "essentials"}
    assert set(found) == others
    assert found["open-webui"].reason() == (
        "ai/open-webui needs essentials/authelia (stack depends_on essentials)"
    )


def test_shipped_catalog_down_authelia_takes_caddy_of_its_own_stack_too(tmp_path: Path) -> None:
    site = Site.load(copy_catalog(tmp_path / "site"))
    graph = build_graph(site)
    found = {d.service: d for d in find_dependents(graph, ["authelia"], {"caddy", "homepage"})}
    assert set(found) == {"caddy"}  # homepage does not need authelia
    assert found["caddy"].why == "x-homestack depends_on"


def test_down_of_everything_or_of_what_nothing_else_needs_asks_no_engine(
    tmp_path: Path,
) -> None:
    # no engine runs in unit tests: plan_down only asks one when a candidate exists
    site = Site.load(make_site(tmp_path))
    everything = plan_down(site, None)
    assert everything.whole == list(site.stacks)
    assert set(everything.targets) == {"proxy", "ollama", "webui"}
    assert everything.dependents == []
    leaf = plan_down(site, ["webui"])
    assert (leaf.targets, leaf.whole, leaf.dependents) == (["webui"], [], [])
    # a stack and a service together: the stack whole, plus the service
    mixed = plan_down(site, ["ai-stack", "proxy"])
    assert mixed.whole == ["ai"]
    assert mixed.targets == ["ollama", "webui", "proxy"]
    assert mixed.dependents == []


def test_refusal_is_bad_input_naming_each_dependent_and_the_fix(tmp_path: Path) -> None:
    graph = build_graph(Site.load(make_site(tmp_path)))
    found = find_dependents(graph, ["proxy"], {"ollama", "webui"})
    error = refusal(DownPlan(["essentials"], ["proxy"], ["essentials"], found))
    assert error.exit_status == ExitStatus.USAGE
    assert error.message.splitlines() == [
        "`down essentials` would leave 2 running services without something they need:",
        "  ai/ollama needs essentials/proxy (stack depends_on essentials)",
        "  ai/webui needs essentials/proxy (stack depends_on essentials)",
    ]
    assert error.hint is not None
    assert "Drop --no-dependents" in error.hint
    assert "`homestack down ollama webui`" in error.hint
    assert "`homestack up ollama webui`" in error.hint


def test_down_result_json_lists_the_dependents(tmp_path: Path) -> None:
    graph = build_graph(Site.load(make_site(tmp_path)))
    found = find_dependents(graph, ["ollama"], {"webui"})
    data = DownResult(["ollama"], [], False, 1.234, [], found).to_data()
    assert data["removed"] == ["ollama"]
    assert [d["service"] for d in data["dependents"]] == ["webui"]
    assert data["dependents"][0]["why"] == "compose depends_on"
    assert data["elapsed"] == 1.23


def test_running_states() -> None:
    assert all(is_running(s) for s in ("running", "restarting", "paused"))
    assert not any(is_running(s) for s in ("created", "exited", "dead", ""))


def test_removal_order_keeps_needs_that_pass_through_services_left_out() -> None:
    full = {"a": set(), "b": {"a"}, "c": {"b"}, "d": set()}
    # b is not chosen (not running): c still comes after a, so down removes c before a
    assert order_within(full, {"a": set(), "c": set(), "d": set()}) == [["a", "d"], ["c"]]
    # a service outside the full graph (a disabled one named) keeps its own needs
    assert order_within(full, {"a": set(), "x": {"a"}}) == [["a"], ["x"]]


@pytest.mark.parametrize("command", ["down", "restart", "pull"])
def test_a_broken_env_layer_is_bad_input_before_compose_runs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    command: str,
) -> None:
    """`up` said which .env line is wrong (exit 2); down/restart/pull let compose fail
    half-way with its own words (exit 1)."""
    from homestack.cli.app import run

    monkeypatch.setenv("HOMESTACK_PREFIX", "hsunitenv_")  # never the unprefixed projects
    root = make_site(tmp_path, {"ai-stack/services/ollama/.env": "not a setting\n"})
    assert run(["--site", str(root), command, "webui"]) == 2
    err = capfd.readouterr().err
    assert "ollama/.env:1: not a KEY=value line" in err
    assert "docker compose" not in err


def test_a_stack_with_every_service_disabled_is_valid_and_can_go_down(tmp_path: Path) -> None:
    """`homestack disable` of a stack's last service leaves `services:` with only commented
    lines (YAML null): up, down and plan refused the whole site as invalid."""
    root = make_site(tmp_path)
    stack_file = root / "essentials-stack" / "stack.yaml"
    stack_file.write_text(stack_file.read_text().replace("  - proxy", "  # - proxy"))
    site = Site.load(root)
    site.require_valid()
    assert site.stacks["essentials"].enabled == []
    assert plan_down(site, ["essentials"]).whole == ["essentials"]
