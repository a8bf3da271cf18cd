"""Enabling a service that stack.yaml does not list yet, after a commented last entry."""

from __future__ import annotations

from pathlib import Path

from homestack.catalog import Site
from homestack.stackfile import toggle

SERVICE = """services:
  {name}:
    x-homestack: {{title: {name}, description: test}}
    image: example/{name}:1.0
"""


def test_append_after_commented_entry_keeps_the_list_indent(tmp_path: Path) -> None:
    (tmp_path / "base.docker-compose.yaml").write_text("networks: {}\n")
    stack = tmp_path / "ai-stack"
    (stack / "services").mkdir(parents=True)
    for name in ("one", "two", "three"):
        (stack / "services" / f"{name}.docker-compose.yaml").write_text(SERVICE.format(name=name))
    (stack / "stack.yaml").write_text(
        "description: t\nservices:\n    - one\n    # - two  # off for now\n"
    )
    result = toggle(Site.load(tmp_path), ["three"], enable=True)
    assert result.changed == ["three"]
    text = (stack / "stack.yaml").read_text()
    assert text == "description: t\nservices:\n    - one\n    # - two  # off for now\n    - three\n"
    reloaded = Site.load(tmp_path).stacks["ai"]
    assert [s.id for s in reloaded.enabled] == ["one", "three"]


def test_append_to_a_crlf_file_writes_crlf_lines(tmp_path: Path) -> None:
    (tmp_path / "base.docker-compose.yaml").write_text("networks: {}\n")
    stack = tmp_path / "ai-stack"
    (stack / "services").mkdir(parents=True)
    for name in ("one", "two"):
        (stack / "services" / f"{name}.docker-compose.yaml").write_text(SERVICE.format(name=name))
    path = stack / "stack.yaml"
    path.write_bytes(b"description: t\r\nservices:\r\n")
    toggle(Site.load(tmp_path), ["one"], enable=True)  # into the empty list
    assert path.read_bytes() == b"description: t\r\nservices:\r\n  - one\r\n"
    toggle(Site.load(tmp_path), ["two"], enable=True)  # after the last entry
    assert path.read_bytes() == b"description: t\r\nservices:\r\n  - one\r\n  - two\r\n"
    path.write_bytes(b"description: t")  # no services key, no final newline: LF is fine
    toggle(Site.load(tmp_path), ["one"], enable=True)
    assert path.read_bytes() == b"description: t\nservices:\n  - one\n"
