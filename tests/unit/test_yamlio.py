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


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("on", "on"),
        ("yes", "yes"),
        ("Off", "Off"),
        ("NO", "NO"),
        ("53:53", "53:53"),  # YAML 1.1: the base-60 integer 3233
        ("22:22/tcp", "22:22/tcp"),
        ("2024-01-01", "2024-01-01"),
        ("1_000", "1_000"),
        ("true", True),
        ("False", False),
        ("~", None),
        ("-3", -3),
        ("0x1f", 31),
        ("0o17", 15),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("'on'", "on"),
    ],
)
def test_plain_scalars_resolve_as_compose_reads_them(text: str, value: object) -> None:
    """The YAML 1.2 core schema (Compose's), not PyYAML's YAML 1.1 defaults."""
    doc = yamlio.parse(f"v: {text}\n{text}: key\n", Path("f.yaml"))
    assert doc.data["v"] == value
    assert type(doc.data["v"]) is type(value)
    assert list(doc.data)[1] == value


def test_empty_document_has_no_data() -> None:
    assert yamlio.parse("# only a comment\n", Path("f.yaml")).data is None


def test_load_reads_files_and_reports_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    assert yamlio.load(path).data == {"a": 1}
    with pytest.raises(BadInput) as caught:
        yamlio.load(tmp_path / "missing.yaml")
    assert caught.value.file == str(tmp_path / "missing.yaml")


# ---- the parse cache Site.load uses ----------------------------------------------------------


def test_cache_returns_the_same_document_and_stores_it(tmp_path: Path) -> None:
    store = tmp_path / "cache" / "yaml.marshal"
    with yamlio.cached(store):
        first = yamlio.parse(TEXT, Path("a.yaml"))
    assert store.is_file()
    with yamlio.cached(store):
        again = yamlio.parse(TEXT, Path("b.yaml"))
    assert (again.data, again.lines, again.duplicates) == (
        first.data,
        first.lines,
        first.duplicates,
    )
    assert again.path == Path("b.yaml")


def test_cache_hands_out_private_copies(tmp_path: Path) -> None:
    store = tmp_path / "yaml.marshal"
    with yamlio.cached(store):
        doc = yamlio.parse(TEXT, Path("a.yaml"))
        doc.data["services"]["web"]["image"] = "changed:1"
        other = yamlio.parse(TEXT, Path("a.yaml"))
    assert other.data["services"]["web"]["image"] == "nginx:1.27"
    with yamlio.cached(store):
        assert yamlio.parse(TEXT, Path("a.yaml")).data["services"]["web"]["image"] == "nginx:1.27"


def test_changed_text_is_parsed_again(tmp_path: Path) -> None:
    store = tmp_path / "yaml.marshal"
    with yamlio.cached(store):
        yamlio.parse("a: 1\n", Path("a.yaml"))
    with yamlio.cached(store):
        assert yamlio.parse("a: 2\n", Path("a.yaml")).data == {"a": 2}
        with pytest.raises(BadInput):
            yamlio.parse("a: [\n", Path("a.yaml"))  # errors are never cached away


def test_values_marshal_cannot_keep_are_parsed_every_time(tmp_path: Path) -> None:
    store = tmp_path / "yaml.marshal"
    with yamlio.cached(store):
        doc = yamlio.parse("when: !!timestamp 2024-01-01\n", Path("a.yaml"))
    assert str(doc.data["when"]) == "2024-01-01"
    assert not store.exists()


def test_a_corrupt_cache_is_ignored_and_replaced(tmp_path: Path) -> None:
    store = tmp_path / "yaml.marshal"
    store.write_bytes(b"\x00not marshal")
    with yamlio.cached(store):
        assert yamlio.parse("a: 1\n", Path("a.yaml")).data == {"a": 1}
    with yamlio.cached(store):
        assert yamlio.parse("a: 1\n", Path("a.yaml")).data == {"a": 1}


def test_no_cache_when_switched_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMESTACK_NO_CACHE", "1")
    store = tmp_path / "yaml.marshal"
    with yamlio.cached(store):
        yamlio.parse("a: 1\n", Path("a.yaml"))
    assert not store.exists()


def test_site_load_reads_the_same_catalog_from_the_cache(tmp_path: Path) -> None:
    from homestack.catalog import Site
    from testkit.sites import make_site

    root = make_site(tmp_path)
    cold = Site.load(root)
    assert (root / ".homestack/cache/yaml.marshal").is_file()
    warm = Site.load(root)
    for name, service in cold.stacks["ai"].services.items():
        assert warm.stacks["ai"].services[name].compose == service.compose
        assert warm.stacks["ai"].services[name].meta == service.meta
    path = root / "ai-stack/services/webui.docker-compose.yaml"
    path.write_text(path.read_text("utf-8").replace("example/app:1.2.3", "example/app:9.9.9"))
    assert Site.load(root).service("webui").compose["image"] == "example/app:9.9.9"
