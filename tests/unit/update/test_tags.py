"""Tag parsing and sorting: the shapes the catalog uses, and real tag lists of its images
(tests/fixtures/tags/*.txt, each file says where its list came from)."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.update.tags import Newer, newer_versions, parse, same_shape

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tags"


def real_tags(name: str) -> list[str]:
    lines = (FIXTURES / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


@pytest.mark.parametrize(
    ("tag", "prefix", "numbers", "suffix"),
    [
        ("2.10.2", "", (2, 10, 2), ""),
        ("v1.2.3", "v", (1, 2, 3), ""),
        ("2.10.2-alpine", "", (2, 10, 2), "-alpine"),
        ("version-4.1.1", "version-", (4, 1, 1), ""),
        ("version-v2.4.0", "version-v", (2, 4, 0), ""),
        ("gpu-v2.4.0-ls72", "gpu-v", (2, 4, 0), "-ls72"),
        ("2025.10.4", "", (2025, 10, 4), ""),
        ("20241001", "", (20241001,), ""),
        ("4.4.2-4.7.0-ubuntu22.04", "", (4, 4, 2), "-4.7.0-ubuntu22.04"),
        ("1.12.0-ffmpeg", "", (1, 12, 0), "-ffmpeg"),
    ],
)
def test_catalog_tag_shapes_parse(
    tag: str, prefix: str, numbers: tuple[int, ...], suffix: str
) -> None:
    version = parse(tag)
    assert version is not None
    assert (version.prefix, version.numbers, version.suffix) == (prefix, numbers, suffix)


@pytest.mark.parametrize("tag", ["latest", "stable", "alpine", "main", "sha-1a2b3c"])
def test_words_are_not_versions(tag: str) -> None:
    assert parse(tag) is None
    assert newer_versions(tag, ["1.0.0", "2.0.0"]) is None


def test_sorting_is_numeric_not_lexical() -> None:
    tags = ["1.10.0", "1.9.0", "1.2.0", "1.10.1"]
    current = parse("1.2.0")
    assert current is not None
    assert [v.tag for v in same_shape(current, tags)] == ["1.2.0", "1.9.0", "1.10.0", "1.10.1"]
    assert newer_versions("1.9.0", tags) == Newer(patch=None, minor="1.10.1", major=None)


def test_levels_and_the_suffix_is_kept() -> None:
    tags = [
        "1.2.3-alpine", "1.2.4-alpine", "1.2.5", "1.3.0-alpine", "1.3.1-rc1-alpine",
        "2.0.0-alpine", "2.0.0", "1.2.9-rc1", "1.4-alpine",
    ]  # fmt: skip
    assert newer_versions("1.2.3-alpine", tags) == Newer(
        "1.2.4-alpine", "1.3.0-alpine", "2.0.0-alpine"
    )
    assert newer_versions("1.2.3", tags) == Newer("1.2.5", None, "2.0.0")


def test_v_prefix_and_linuxserver_version_prefix_stay_apart() -> None:
    tags = ["v1.0.1", "1.0.2", "version-1.0.3", "version-1.1.0", "v2.0.0"]
    assert newer_versions("v1.0.0", tags) == Newer("v1.0.1", None, "v2.0.0")
    assert newer_versions("version-1.0.0", tags) == Newer("version-1.0.3", "version-1.1.0", None)


def test_date_tags_never_count_as_a_major() -> None:
    tags = ["2025.10.4", "2025.10.5", "2025.11.0", "2026.1.0", "2026.1.0b3", "2025.10.4-dev"]
    assert newer_versions("2025.10.4", tags) == Newer("2025.10.5", "2026.1.0", None)
    assert newer_versions("20241001", ["20241001", "20241115", "2.0"]) == Newer(
        None, "20241115", None
    )


def test_real_linuxserver_tags_faster_whisper() -> None:
    tags = real_tags("faster-whisper")
    assert len(tags) > 300
    # the catalog's GPU pin: rebuilds (-lsN) of 2.4.0 are patches, later versions keep gpu-v
    newer = newer_versions("gpu-v2.4.0-ls72", tags)
    assert newer is not None and newer.patch == "gpu-v2.4.0-ls79"
    assert newer.minor is not None and newer.minor.startswith("gpu-v2.")
    assert newer.major is not None and newer.major.startswith("gpu-v3.")
    for found in (newer.patch, newer.minor, newer.major):
        assert found in tags and "legacy" not in found
    # the older unprefixed shape only sees its own rebuilds
    older = newer_versions("2.0.0-ls20", tags)
    assert older == Newer("2.0.0-ls55", None, None)


def test_real_v_prefixed_tags_dozzle_and_prometheus() -> None:
    dozzle = real_tags("dozzle")
    newer = newer_versions("v8.14.6", dozzle)
    assert newer is not None and newer.patch == "v8.14.12" and newer.major == "v10.7.3"
    prometheus = real_tags("prometheus")
    newer = newer_versions("v2.53.0", prometheus)
    assert newer == Newer("v2.53.5", "v2.55.1", newer.major if newer else None)
    assert newer is not None and newer.major is not None and newer.major.startswith("v3.")
    # release candidates are another shape: never offered to a release
    assert all("-rc" not in (t or "") for t in (newer.patch, newer.minor, newer.major))
    assert any("-rc" in t for t in prometheus)


def test_real_caddy_official_image_tags_do_not_offer_a_beta() -> None:
    tags = real_tags("caddy")
    assert "2.7.0-beta.2-alpine" in tags
    assert newer_versions("2.6.4-alpine", tags) == Newer(None, None, None)
    assert newer_versions("2.6.4", tags) == Newer(None, None, None)
