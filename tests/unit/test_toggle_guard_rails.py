"""Guard rails on enable/disable (issue 15): `disable` of a critical service (the proxy every
web UI goes through) succeeded in silence; `enable` of a file without an x-homestack block
said "enabled" and the file failed only at `up`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testkit.cli import cli_output
from testkit.sites import make_site


def test_disabling_a_critical_service_warns_naming_what_goes_through_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site(tmp_path / "site")
    code, out = cli_output(capsys, "--site", str(root), "disable", "proxy")
    text = " ".join(out.split())
    assert code == 0, out
    assert "proxy is critical" in text and "every web UI goes through it" in text
    assert "webui" in text and "homestack enable proxy" in text
    code, out = cli_output(capsys, "--site", str(root), "enable", "proxy", "--json")
    assert code == 0 and json.loads(out)["changed"] == ["proxy"]  # --json as it was


def test_enable_refuses_a_file_up_would_refuse_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = "services:\n  whisper:\n    image: example/whisper:1.0\n"
    root = make_site(tmp_path / "site", {"ai-stack/services/whisper.docker-compose.yaml": broken})
    stack = root / "ai-stack" / "stack.yaml"
    before = stack.read_text()
    code, out = cli_output(capsys, "--site", str(root), "enable", "whisper")
    text = " ".join(out.split())
    assert code == 2, out
    assert "whisper was not enabled" in text and "x-homestack" in text
    assert "whisper.docker-compose.yaml" in text
    assert stack.read_text() == before
