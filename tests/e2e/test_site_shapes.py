"""A missing stack.yaml and a stack.yaml that is not a mapping (or whose services is not a
list): exit 2 naming the file (and line) with the fix, never an internal error or a stack
silently without services."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.cli import cli_output as _hs
from testkit.sites import make_site


@pytest.fixture
def site_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HOMESTACK_SITE", raising=False)
    monkeypatch.setenv("HOMESTACK_NO_CACHE", "1")
    return make_site(tmp_path / "site")


@pytest.mark.parametrize("command", ["plan", "up"])
def test_missing_stack_yaml_says_the_fix(
    site_root: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    (site_root / "ai-stack" / "stack.yaml").unlink()
    code, said = _hs(capsys, "--site", str(site_root), command, "ai")
    assert code == 2
    assert "ai-stack/stack.yaml is missing" in said
    assert "fix: Create stack.yaml" in said


@pytest.mark.parametrize(
    ("text", "kind", "line"),
    [
        ("- ollama\n- webui\n", "not a list", 1),
        ("# the ai stack\nollama\n", "not the text 'ollama'", 2),
        ("42\n", "not the number 42", 1),
    ],
)
def test_stack_yaml_that_is_not_a_mapping_is_refused_at_its_line(
    site_root: Path, capsys: pytest.CaptureFixture[str], text: str, kind: str, line: int
) -> None:
    stack_file = site_root / "ai-stack" / "stack.yaml"
    stack_file.write_text(text, encoding="utf-8")
    code, said = _hs(capsys, "--site", str(site_root), "plan", "ai")
    assert code == 2, said
    assert f"stack.yaml must be a mapping (description, depends_on, services), {kind}" in said
    assert f"{stack_file}:{line}" in said
    assert "fix: Write `description: …` and `services:`" in said
    code, said = _hs(capsys, "--site", str(site_root), "validate", "--offline", "ai")
    assert code == 1
    assert "stack.schema" in said and "must be a mapping" in said


@pytest.mark.parametrize("value", ["ollama", "5", "{ollama: 1}", "true"])
def test_stack_yaml_services_that_is_not_a_list_is_refused(
    site_root: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    (site_root / "ai-stack" / "stack.yaml").write_text(
        f"description: AI\nservices: {value}\n", encoding="utf-8"
    )
    code, said = _hs(capsys, "--site", str(site_root), "plan", "ai")
    assert code == 2, said
    assert "services: Input should be a valid list" in said
    assert "internal error" not in said
