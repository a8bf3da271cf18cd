"""`homestack disable X` names the enabled services that need X (and through what), then
disables it anyway, as `enable` and `down` act by default; `--no-dependents` refuses instead
(exit 2, stack.yaml untouched), as `down --no-dependents` does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from testkit.sites import copy_catalog


@pytest.fixture
def site_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HOMESTACK_SITE", raising=False)
    return copy_catalog(tmp_path / "site")


def _hs(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = run(["--site", str(root), *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _enabled(root: Path, name: str) -> bool:
    return Site.load(root).service(name).enabled


def test_disable_names_the_enabled_services_that_need_it_and_still_disables(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _hs(capsys, site_root, "disable", "ollama")
    assert code == 0
    assert "disabled ollama" in out
    assert "ai/open-webui needs ai/ollama (x-homestack depends_on)" in out
    assert "ai/anythingllm needs ai/ollama (x-homestack depends_on)" in out
    assert "homestack disable anythingllm open-webui" in out  # the way out, ready to paste
    assert not _enabled(site_root, "ollama")
    assert _enabled(site_root, "open-webui")


def test_json_lists_needed_by(site_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _hs(capsys, site_root, "disable", "ollama", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["changed"] == ["ollama"]
    assert {(d["service"], d["needs"], d["why"]) for d in data["needed_by"]} == {
        ("anythingllm", "ollama", "x-homestack depends_on"),
        ("open-webui", "ollama", "x-homestack depends_on"),
    }


def test_no_dependents_refuses_and_changes_nothing(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_yaml = site_root / "ai-stack/stack.yaml"
    before = stack_yaml.read_bytes()
    code, out = _hs(capsys, site_root, "disable", "ollama", "--no-dependents")
    assert code == 2
    assert "open-webui" in out and "anythingllm" in out
    assert stack_yaml.read_bytes() == before


def test_disabling_it_with_what_needs_it_is_quiet(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _hs(
        capsys, site_root, "disable", "ollama", "open-webui", "anythingllm", "--no-dependents"
    )
    assert code == 0
    assert "needs" not in out
    assert not _enabled(site_root, "ollama")


def test_a_disabled_dependent_does_not_count(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _hs(capsys, site_root, "disable", "open-webui", "anythingllm")
    code, out = _hs(capsys, site_root, "disable", "ollama", "--no-dependents")
    assert code == 0, out
    assert "needs" not in out


def test_an_optional_compose_dependency_counts(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Compose refuses `required: false` on a service not in the project ('depends on
    undefined service'; tests/integration/test_optional_depends_compose.py), so disabling
    what it names leaves the stack refused like any other need."""
    _hs(capsys, site_root, "disable", "open-webui", "anythingllm")
    path = site_root / "ai-stack/services/libretranslate.docker-compose.yaml"
    text = path.read_text(encoding="utf-8")
    optional = "    depends_on:\n      ollama:\n        condition: service_started\n"
    optional += "        required: false\n    image:"
    path.write_text(text.replace("    image:", optional, 1), encoding="utf-8")
    code, out = _hs(capsys, site_root, "disable", "ollama", "--no-dependents")
    assert code == 2, out
    assert "ai/libretranslate needs ai/ollama (compose depends_on (required: false))" in out


def test_a_service_that_needs_it_through_another_is_named_with_the_path(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = site_root / "ai-stack/services/libretranslate.docker-compose.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("    x-homestack:\n", "    x-homestack:\n      depends_on: [open-webui]\n", 1),
        encoding="utf-8",
    )
    code, out = _hs(capsys, site_root, "disable", "ollama")
    assert code == 0
    assert (
        "ai/libretranslate needs ai/open-webui (x-homestack depends_on), which needs ai/ollama"
        in out
    )


# ---- enable: what the enabled service needs that is disabled -------------------------------


def test_enable_names_the_disabled_services_it_needs_and_still_enables(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _hs(capsys, site_root, "disable", "ollama", "open-webui", "anythingllm")
    code, out = _hs(capsys, site_root, "enable", "open-webui")
    assert code == 0
    assert "enabled open-webui" in out
    assert "ai/open-webui needs ai/ollama (x-homestack depends_on)" in out
    assert "homestack enable ollama" in out
    assert _enabled(site_root, "open-webui") and not _enabled(site_root, "ollama")
    code, out = _hs(capsys, site_root, "enable", "anythingllm", "ollama", "--json")
    assert code == 0
    assert json.loads(out)["needs_disabled"] == []
