"""`homestack config` with no stack prints one YAML document per stack (issue 15): the
models back to back repeated `name:` and `services:`, so the whole was not valid YAML.
Real Compose CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from testkit.cli import cli_output
from testkit.sites import make_site

pytestmark = pytest.mark.integration


def test_config_of_every_stack_is_valid_yaml_one_document_each(
    tmp_path: Path, compose_cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site(tmp_path / "site", {".env": "HOMESTACK_PREFIX=hstcfg_\nSECRETS_DIR=./s\n"})
    code, out = cli_output(capsys, "--site", str(root), "config")
    assert code == 0, out
    documents = list(yaml.safe_load_all(out))
    assert sorted(d["name"] for d in documents) == ["hstcfg_ai", "hstcfg_essentials"]
    assert any("ollama" in d["services"] for d in documents)
