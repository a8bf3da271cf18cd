"""`plan` says what is already in place in one line instead of listing every existing folder
as "exists" (issue 15: 90 such lines on a deployed site). A real site on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.cli import cli_output
from testkit.sites import make_site


def test_plan_counts_what_is_in_place_and_lists_only_what_it_would_create(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site(tmp_path / "site")
    for folder in ("DATA/proxy", "DATA/config/proxy", "DATA/backups/proxy", "DATA/ollama"):
        (root / folder).mkdir(parents=True)
    code, out = cli_output(capsys, "--site", str(root), "plan")
    assert code == 0, out
    assert "exists" not in out
    assert "Already in place 4 folders (`plan --json` lists them)" in out
    assert f"create folder   {root / 'DATA' / 'webui'}" in out
