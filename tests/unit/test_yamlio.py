"""Fast YAML reading: line numbers, duplicate keys, syntax errors with their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack import yamlio
from homestack.errors import BadInput

TEXT = """\
# leading comment
services:
  web:
    image: nginx:1.27
    ports:
      - "8080:80"
      - "8443:443"
    environment:
      A: 1
volumes:
  data: {}
"""


def test_values_and_line_of_every_key_path() -> None:
    doc = yamlio.parse(TEXT, Path("f.yaml"))
    assert doc.data["services"]["web"]["ports"] == ["8080:80", "8443:443"]
    assert doc.data["services"]["web"]["environment"] == {"A": 1}
    assert doc.line("services") == 2
    assert doc.line("services", "web") == 3
    assert doc.line("services", "web", "image") == 4
    assert doc.line("services", "web", "ports", 1) == 7
    assert doc.line("volumes", "data") == 11
    assert doc.duplicates == []


def test_unknown_path_falls_back_to_its_deepest_known_ancestor() -> None:
    doc = yamlio.parse(TEXT, Path("f.yaml"))
    assert doc.line("services", "web", "healthcheck", "test") == 3
    assert doc.line("nowhere") == 1


def test_duplicate_keys_are_recorded_with_their_line() -> None:
    text = "services:\n  a:\n    image: x:1\n    image: x:2\n  a:\n    image: y:1\n"
    doc = yamlio.parse(text, Path("f.yaml"))
    assert (("services", "a", "image"), 4) in doc.duplicates
    assert (("services", "a"), 5) in doc.duplicates
    assert doc.data["services"]["a"] == {"image": "y:1"}  # the last one wins, as in Compose


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("services:\n  a:\n    image: x\n   bad: indent\n", 4),
        ("a: 1\nb: [1, 2\nc: 3\n", 3),
        ('a: "unclosed\nb: 2\n', 3),
        ("a: 1\n\tb: 2\n", 2),
    ],
)
def test_syntax_error_names_file_and_line(text: str, line: int) -> None:
    with pytest.raises(BadInput) as caught:
        yamlio.parse(text, Path("stack/services/a.docker-compose.yaml"))
    error = caught.value
    assert error.line == line
    assert error.file == "stack/services/a.docker-compose.yaml"
    assert "not valid YAML" in error.message
    assert error.hint


def test_anchors_and_merge_keys_resolve() -> None:
    text = (
        "x-defaults: &defaults\n  restart: unless-stopped\n  init: true\n"
        "services:\n  a:\n    <<: *defaults\n    init: false\n"
    )
    doc = yamlio.parse(text, Path("f.yaml"))
    assert doc.data["services"]["a"] == {"restart": "unless-stopped", "init": False}
    assert doc.duplicates == []


def test_scalars_keep_yaml_types() -> None:
    doc = yamlio.parse("a: 1\nb: true\nc: null\nd: '1'\ne: 1.5\n", Path("f.yaml"))
    assert doc.data == {"a": 1, "b": True, "c": None, "d": "1", "e": 1.5}


def test_empty_document_has_no_data() -> None:
    assert yamlio.parse("# only a comment\n", Path("f.yaml")).data is None


def test_load_reads_files_and_reports_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    assert yamlio.load(path).data == {"a": 1}
    with pytest.raises(BadInput) as caught:
        yamlio.load(tmp_path / "missing.yaml")
    assert caught.value.file == str(tmp_path / "missing.yaml")
