"""Fast YAML reading that keeps line numbers and notices duplicate keys.

Read-only commands must be instant, so files are composed with libyaml's C parser into
nodes, then turned into plain Python values while every key path's line is recorded.
Round-trip edits (keeping comments) are done elsewhere with ruamel.yaml.

Parsing is still the largest cost of `homestack ls` on a big catalog, so `Site.load` keeps
what it parsed in `.homestack/cache/` (git-ignored), keyed by a hash of each file's text: a
file that changed in any way is parsed again. HOMESTACK_NO_CACHE=1 turns the cache off.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from . import fsutil
from .errors import BadInput
from .fsutil import read_text

try:
    _Base: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml is in every wheel we install
    _Base = yaml.SafeLoader


class _Loader(_Base):  # type: ignore[misc]
    """libyaml with the YAML 1.2 core schema's plain scalars, as Docker Compose reads them.

    PyYAML resolves plain scalars by YAML 1.1: `on`/`yes`/`off`/`no` become booleans,
    `53:53` the base-60 integer 3233, `2024-01-01` a date. Compose's parser (YAML 1.2)
    reads all of those as strings, so a service named `on` or an unquoted port mapping
    `53:53` must reach homestack as Compose sees it.
    """

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {}


def _core_schema() -> None:
    resolvers = (
        ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        (
            "tag:yaml.org,2002:int",
            r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
            "-+0123456789",
        ),
        (
            "tag:yaml.org,2002:float",
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            "-+.0123456789",
        ),
        ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
    )
    for tag, pattern, first in resolvers:
        _Loader.add_implicit_resolver(tag, re.compile(pattern), list(first))


_core_schema()

KeyPath = tuple[str | int, ...]


@dataclass
class YamlDoc:
    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    duplicates: list[tuple[KeyPath, int]] = field(default_factory=list)

    def line(self, *keys: str | int) -> int | None:
        """Line of the deepest known ancestor of `keys` (1-based)."""
        path: KeyPath = tuple(keys)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1


_CONSTRUCTOR = yaml.constructor.SafeConstructor()


_STR_TAG = "tag:yaml.org,2002:str"


def _scalar(node: yaml.ScalarNode) -> Any:
    # most scalars in compose files are plain strings: skip the constructor's dispatch
    if node.tag == _STR_TAG:
        return node.value
    return _CONSTRUCTOR.construct_object(node, deep=True)


def _walk(node: yaml.Node, path: KeyPath, doc: YamlDoc, anchors: dict[int, Any]) -> Any:
    if id(node) in anchors:
        return anchors[id(node)]
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        anchors[id(node)] = out
        explicit: set[Any] = set()  # keys written here; merged (<<) ones may be overridden
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged = _walk(value_node, path, doc, anchors)
                for item in merged if isinstance(merged, list) else [merged]:
                    if isinstance(item, dict):
                        for k, v in item.items():
                            out.setdefault(k, v)
                continue
            key = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            child = (*path, key)
            line = key_node.start_mark.line + 1
            if key in explicit:
                doc.duplicates.append((child, line))
            explicit.add(key)
            doc.lines[child] = line
            out[key] = _walk(value_node, child, doc, anchors)
        return out
    if isinstance(node, yaml.SequenceNode):
        seq: list[Any] = []
        anchors[id(node)] = seq
        for index, item in enumerate(node.value):
            child = (*path, index)
            doc.lines[child] = item.start_mark.line + 1
            seq.append(_walk(item, child, doc, anchors))
        return seq
    return _scalar(node)  # type: ignore[arg-type]


class _Cache:
    """Parsed documents by the hash of their text, stored with marshal (plain values only:
    no code runs when it is read, and a document marshal cannot hold is simply not kept)."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.used: dict[bytes, tuple[Any, Any, Any]] = {}
        self.stored: dict[bytes, tuple[Any, Any, Any]] = {}
        self.changed = False
        with contextlib.suppress(Exception):  # missing, unreadable or from another Python
            stored = marshal.loads(file.read_bytes())  # noqa: S302 - plain values we wrote
            if isinstance(stored, dict) and stored.get("version") == _CACHE_VERSION:
                docs = stored.get("docs")
                self.stored = docs if isinstance(docs, dict) else {}

    def get(self, key: bytes, path: Path) -> YamlDoc | None:
        entry = self.stored.get(key) or self.used.get(key)
        if entry is None or not _well_formed(entry):  # absent, or a damaged cache: parse it
            self.stored.pop(key, None)
            return None
        self.used[key] = entry
        data, lines, duplicates = marshal.loads(marshal.dumps(entry))  # noqa: S302 - a copy
        return YamlDoc(path, data, lines, duplicates)

    def put(self, key: bytes, doc: YamlDoc) -> None:
        entry = (doc.data, doc.lines, doc.duplicates)
        try:
            self.used[key] = marshal.loads(marshal.dumps(entry))  # noqa: S302 - a copy
        except ValueError:  # e.g. a YAML timestamp: parse that file every time
            return
        self.changed = True

    def save(self) -> None:
        if not self.changed and self.used.keys() == self.stored.keys():
            return
        with contextlib.suppress(OSError):  # a read-only checkout just goes uncached
            self.file.parent.mkdir(parents=True, exist_ok=True)
            payload = marshal.dumps({"version": _CACHE_VERSION, "docs": self.used})
            fsutil.write_atomic(self.file, payload, durable=False)  # a cache
            self._hand_over()

    def _hand_over(self) -> None:
        """`sudo homestack …` in a user's site (SITE/.homestack/cache/…): the cache and its
        folders stay the site owner's, so their own runs can replace it and make the lock
        beside it."""
        state = self.file.parent.parent
        if state.name == ".homestack" and os.geteuid() == 0:
            fsutil.hand_to_site_owner(state.parent, state, self.file.parent, self.file)


def _well_formed(entry: Any) -> bool:
    return (
        isinstance(entry, tuple)
        and len(entry) == 3
        and isinstance(entry[1], dict)
        and isinstance(entry[2], list)
    )


_CACHE_VERSION = f"homestack-yaml-2 (core schema) {sys.version} {yaml.__version__}"
_cache: _Cache | None = None


@contextlib.contextmanager
def cached(file: Path) -> Iterator[None]:
    """Within this block, parse() reuses documents stored in `file` and stores new ones."""
    global _cache  # noqa: PLW0603 - one cache per command run, set by Site.load
    if os.environ.get("HOMESTACK_NO_CACHE") == "1" or _cache is not None:
        yield
        return
    _cache = _Cache(file)
    try:
        yield
        _cache.save()
    finally:
        _cache = None


def parse(text: str, path: Path) -> YamlDoc:
    """Parse one YAML document, raising BadInput with file and line on a syntax error."""
    cache, key = _cache, b""
    if cache is not None:
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).digest()
        hit = cache.get(key, path)
        if hit is not None:
            return hit
    doc = _parse(text, path)
    if cache is not None:
        cache.put(key, doc)
    return doc


def _parse(text: str, path: Path) -> YamlDoc:
    doc = YamlDoc(path=path, data=None)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or str(exc)
        raise BadInput(
            f"{path}: not valid YAML: {problem}",
            "Fix the syntax at that line (indentation, a missing colon, an unclosed quote).",
            file=path,
            line=line,
        ) from None
    except yaml.YAMLError as exc:
        raise BadInput(f"{path}: not valid YAML: {exc}", file=path) from None
    if node is not None:
        doc.data = _walk(node, (), doc, {})
    return doc


def load(path: Path) -> YamlDoc:
    try:
        text = read_text(path)
    except FileNotFoundError:
        raise BadInput(f"{path}: file not found", file=path) from None
    return parse(text, path)
