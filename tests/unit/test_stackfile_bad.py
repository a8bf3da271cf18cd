"""enable/disable on a stack.yaml that is missing, not a mapping, or has a key twice: exit 2
naming the file (and line) with the fix, the file untouched; no internal error."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.cli.app import run
from testkit.sites import make_site

STACK = "ai-stack/stack.yaml"


@pytest.fixture
def site_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOMESTACK_NO_CACHE", "1")
    return make_site(tmp_path / "site")


def test_enable_in_a_stack_without_stack_yaml(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site_root / STACK).unlink()
    assert run(["--site", str(site_root), "enable", "whisper"]) == 2
    err = capsys.readouterr().err
    assert f"{site_root / STACK} is missing" in err
    assert "Create it with `description:` and a `services:` list" in err
    assert "internal error" not in err
    assert not (site_root / STACK).exists()


def test_enable_in_a_stack_yaml_that_is_a_list(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site_root / STACK).write_text("- ollama\n- webui\n", encoding="utf-8")
    assert run(["--site", str(site_root), "enable", "whisper"]) == 2
    err = capsys.readouterr().err
    assert "the top level is a list, not a mapping" in err
    assert "internal error" not in err
    assert (site_root / STACK).read_text(encoding="utf-8") == "- ollama\n- webui\n"


@pytest.mark.parametrize("command", ["enable whisper", "disable webui"])
def test_a_key_given_twice_is_named_at_its_line(
    site_root: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    path = site_root / STACK
    text = path.read_text(encoding="utf-8") + "description: again\n"
    path.write_text(text, encoding="utf-8")
    assert run(["--site", str(site_root), *command.split()]) == 2
    err = capsys.readouterr().err
    assert "key description is given twice" in err
    assert f"{path}:{len(text.splitlines())}" in err
    assert "internal error" not in err
    assert path.read_text(encoding="utf-8") == text


def test_a_bom_and_crlf_file_is_edited_keeping_both(site_root: Path) -> None:
    path = site_root / STACK
    text = "\ufeff" + path.read_text(encoding="utf-8").replace("\n", "\r\n")
    path.write_bytes(text.encode("utf-8"))
    assert run(["--site", str(site_root), "enable", "whisper"]) == 0
    assert run(["--site", str(site_root), "disable", "webui"]) == 0
    after = path.read_bytes().decode("utf-8")
    assert after.startswith("\ufeff# test stack\r\n")
    assert "\r\n  - whisper\r\n" in after and "  # - webui\r\n" in after
    assert "\n" not in after.replace("\r\n", "")
