"""A YAML file that cannot be read says why and what to do about that reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.errors import BadInput
from homestack.yamlio import load


def test_a_symlink_loop_says_to_replace_the_link_not_to_fix_the_mode(tmp_path: Path) -> None:
    path = tmp_path / "ollama.docker-compose.yaml"
    path.symlink_to(path)
    with pytest.raises(BadInput) as caught:
        load(path)
    assert "Too many levels of symbolic links" in caught.value.message
    assert caught.value.hint is not None
    assert "Replace the symbolic link with the file itself" in caught.value.hint
    assert "mode" not in caught.value.hint


def test_a_folder_in_place_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "stack.yaml"
    path.mkdir()
    with pytest.raises(BadInput, match="is a folder, not a file"):
        load(path)


@pytest.mark.parametrize(
    "docs",
    [
        [1, 2],  # not a mapping of entries
        "text",
        {"ENTRY": 5},  # an entry that is not (data, lines, duplicates)
        {"ENTRY": ({"a": 9}, [], {})},
    ],
)
def test_a_damaged_parse_cache_is_ignored(tmp_path: Path, docs: object) -> None:
    """The cache in .homestack/ is homestack's own file, but a damaged one (another tool,
    a bad disk) must cost a parse, not an internal error in every command."""
    import hashlib
    import marshal

    from homestack import yamlio

    text = "a: 1\n"
    key = hashlib.blake2b(text.encode(), digest_size=20).digest()
    if isinstance(docs, dict):
        docs = {key: docs["ENTRY"]}
    store = tmp_path / "yaml.marshal"
    store.write_bytes(marshal.dumps({"version": yamlio._CACHE_VERSION, "docs": docs}))
    with yamlio.cached(store):
        assert yamlio.parse(text, Path("a.yaml")).data == {"a": 1}
