"""Image tags as versions: parse the shapes the catalog uses and compare them semver-aware.

A tag is `{prefix}{numbers}{suffix}`: `2.10.2`, `v1.2.3`, `1.2.3-alpine`, LinuxServer's
`version-4.1.1` and `gpu-v2.4.0-ls72`, date tags (`2025.10.4`, `20241001`). Two tags compare
only when they have the same *shape*: the same prefix, as many numbers, and the same suffix
once its digits are blanked (`-alpine`, `-ls#`, `-rocm`). So `1.2.3-alpine` is only ever
offered `1.2.4-alpine`, never `1.2.4` or `1.3.0-rc1`; a suffix's own numbers (`-ls72`) order
rebuilds of one version.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Level = Literal["patch", "minor", "major"]
_TAG = re.compile(
    r"^(?P<prefix>(?:[A-Za-z][A-Za-z_]*-)*v?)(?P<numbers>\d+(?:\.\d+)*)(?P<suffix>[-+_.].*)?$"
)
_DIGITS = re.compile(r"\d+")
#: a first number this large is a date (2025.10.4, 20241001): its parts are not semver levels
DATE_YEAR = 1970


@dataclass(frozen=True, order=False)
class Version:
    tag: str
    prefix: str
    numbers: tuple[int, ...]
    suffix: str

    @property
    def shape(self) -> tuple[str, int, str]:
        return (self.prefix, len(self.numbers), _DIGITS.sub("#", self.suffix))

    @property
    def suffix_numbers(self) -> tuple[int, ...]:
        return tuple(int(n) for n in _DIGITS.findall(self.suffix))

    @property
    def is_date(self) -> bool:
        return bool(self.numbers) and self.numbers[0] >= DATE_YEAR

    @property
    def key(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return (self.numbers, self.suffix_numbers)

    def level_to(self, newer: Version) -> Level | None:
        """How big the step from this version to `newer` is (None: not newer)."""
        if newer.shape != self.shape or newer.key <= self.key:
            return None
        for index, (mine, theirs) in enumerate(zip(self.numbers, newer.numbers, strict=True)):
            if mine != theirs:
                if self.is_date:  # a new year or month of a date stream is no major break
                    return "minor" if index <= 1 else "patch"
                return "major" if index == 0 else "minor" if index == 1 else "patch"
        return "patch"  # the same numbers, a newer rebuild (-ls73 after -ls72)

    def is_major_step(self, newer: Version) -> bool:
        return self.level_to(newer) == "major"


def parse(tag: str) -> Version | None:
    """The version a tag names, or None (`latest`, `stable`, a commit hash)."""
    match = _TAG.match(tag)
    if match is None:
        return None
    numbers = tuple(int(n) for n in match["numbers"].split("."))
    return Version(tag, match["prefix"], numbers, match["suffix"] or "")


def same_shape(current: Version, tags: Iterable[str]) -> list[Version]:
    """The tags of `current`'s shape, oldest first."""
    found = [v for v in (parse(t) for t in tags) if v is not None and v.shape == current.shape]
    return sorted(found, key=lambda v: v.key)


@dataclass(frozen=True)
class Newer:
    """The newest tag at each level above the current one (None where there is none)."""

    patch: str | None = None
    minor: str | None = None
    major: str | None = None

    def best(self, allowed: Level) -> str | None:
        if allowed == "major":
            return self.major or self.minor or self.patch
        if allowed == "minor":
            return self.minor or self.patch
        return self.patch


def newer_versions(current_tag: str, tags: Iterable[str]) -> Newer | None:
    """The newest patch, minor and major releases after `current_tag` among `tags`; None when
    the current tag is not a version (nothing can be compared)."""
    current = parse(current_tag)
    if current is None:
        return None
    best: dict[Level, Version] = {}
    for version in same_shape(current, tags):
        level = current.level_to(version)
        if level is not None and (level not in best or version.key > best[level].key):
            best[level] = version
    return Newer(*(best[lv].tag if lv in best else None for lv in ("patch", "minor", "major")))
