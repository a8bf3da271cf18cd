"""enable/disable edit stack.yaml in place: byte-identical round trips, comments kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.errors import BadInput, UnknownName
from homestack.stackfile import toggle
from testkit.sites import make_site, service_yaml

STACK = (
    "# The AI stack.\n"
    "#   (un)comment a line to switch a service on or off\n"
    "description: AI things   # shown by ls\n"
    "depends_on:\n"
    "  - essentials\n"
    "\n"
    "services:\n"
    "  # the model server first\n"
    "  - ollama    # needs 8 GB\n"
    "\n"
    "  # - whisper\n"
    "  - webui\n"
    "# trailing comment\n"
)


@pytest.fixture
def site_root(tmp_path: Path) -> Path:
    return make_site(tmp_path, {"ai-stack/stack.yaml": STACK})


def stack_file(root: Path) -> Path:
    return root / "ai-stack/stack.yaml"


def enable(root: Path, *names: str) -> list[str]:
    return toggle(Site.load(root), list(names), enable=True).changed


def disable(root: Path, *names: str) -> list[str]:
    return toggle(Site.load(root), list(names), enable=False).changed


def test_disable_comments_only_that_line(site_root: Path) -> None:
    assert disable(site_root, "ollama") == ["ollama"]
    after = stack_file(site_root).read_text(encoding="utf-8")
    assert after == STACK.replace("  - ollama    # needs 8 GB", "  # - ollama    # needs 8 GB")
    ai = Site.load(site_root).stack("ai")
    assert [s.id for s in ai.enabled] == ["webui"]


def test_enable_uncomments_only_that_line(site_root: Path) -> None:
    assert enable(site_root, "whisper") == ["whisper"]
    after = stack_file(site_root).read_text(encoding="utf-8")
    assert after == STACK.replace("  # - whisper", "  - whisper")
    assert [s.id for s in Site.load(site_root).stack("ai").enabled] == [
        "ollama",
        "whisper",
        "webui",
    ]


@pytest.mark.parametrize(
    ("first", "second", "name"),
    [(disable, enable, "ollama"), (enable, disable, "whisper"), (disable, enable, "webui")],
)
def test_round_trip_is_byte_identical(
    site_root: Path, first: object, second: object, name: str
) -> None:
    before = stack_file(site_root).read_bytes()
    first(site_root, name)  # type: ignore[operator]
    assert stack_file(site_root).read_bytes() != before
    second(site_root, name)  # type: ignore[operator]
    assert stack_file(site_root).read_bytes() == before


def test_round_trip_keeps_crlf_and_a_missing_final_newline(tmp_path: Path) -> None:
    text = "services:\r\n  - ollama\r\n  # - whisper\r\n  - webui"
    root = make_site(tmp_path, {"ai-stack/stack.yaml": ""})
    stack_file(root).write_bytes(text.encode())
    disable(root, "webui", "ollama")
    enable(root, "whisper")
    assert [s.id for s in Site.load(root).stack("ai").enabled] == ["whisper"]
    enable(root, "webui", "ollama")
    disable(root, "whisper")
    assert stack_file(root).read_bytes() == text.encode()


def test_already_in_that_state_changes_nothing(site_root: Path) -> None:
    before = stack_file(site_root).read_bytes()
    result = toggle(Site.load(site_root), ["ollama"], enable=True)
    assert (result.changed, result.unchanged, result.files) == ([], ["ollama"], [])
    result = toggle(Site.load(site_root), ["whisper"], enable=False)
    assert result.unchanged == ["whisper"]
    assert stack_file(site_root).read_bytes() == before


def test_several_services_in_one_file_are_one_write(site_root: Path) -> None:
    result = toggle(Site.load(site_root), ["ollama", "webui"], enable=False)
    assert result.changed == ["ollama", "webui"]
    assert result.files == [str(stack_file(site_root))]
    assert Site.load(site_root).stack("ai").enabled == []


def test_services_in_two_stacks(site_root: Path) -> None:
    result = toggle(Site.load(site_root), ["proxy", "ollama"], enable=False)
    assert sorted(result.files) == sorted(
        [str(stack_file(site_root)), str(site_root / "essentials-stack/stack.yaml")]
    )


def test_unknown_name_gets_did_you_mean_and_changes_nothing(site_root: Path) -> None:
    before = stack_file(site_root).read_bytes()
    with pytest.raises(UnknownName) as caught:
        toggle(Site.load(site_root), ["ollama", "wisper"], enable=False)
    assert caught.value.exit_status == 2
    assert "wisper" in caught.value.message
    assert caught.value.hint == "Did you mean whisper?"
    assert stack_file(site_root).read_bytes() == before  # checked before any write


def test_enabling_an_unlisted_service_appends_it_to_the_list(site_root: Path) -> None:
    (site_root / "ai-stack/services/piper.docker-compose.yaml").write_text(
        service_yaml("piper"), encoding="utf-8"
    )
    assert enable(site_root, "piper") == ["piper"]
    after = stack_file(site_root).read_text(encoding="utf-8")
    assert after == STACK.replace("  - webui\n", "  - webui\n  - piper\n")
    assert [s.id for s in Site.load(site_root).stack("ai").enabled] == [
        "ollama",
        "webui",
        "piper",
    ]
    disable(site_root, "piper")
    assert "  # - piper\n" in stack_file(site_root).read_text(encoding="utf-8")


def test_disabling_an_unlisted_service_is_a_no_op(site_root: Path) -> None:
    (site_root / "ai-stack/services/piper.docker-compose.yaml").write_text(
        service_yaml("piper"), encoding="utf-8"
    )
    before = stack_file(site_root).read_bytes()
    assert toggle(Site.load(site_root), ["piper"], enable=False).unchanged == ["piper"]
    assert stack_file(site_root).read_bytes() == before


@pytest.mark.parametrize(
    "text",
    [
        "description: empty\nservices: []\n",
        "description: empty\nservices:\n",
        "description: no list at all\n",
        "description: no newline",
    ],
)
def test_enabling_into_an_empty_list(tmp_path: Path, text: str) -> None:
    root = make_site(tmp_path, {"ai-stack/stack.yaml": text})
    assert enable(root, "webui") == ["webui"]
    site = Site.load(root)
    assert site.all_problems() == []
    assert [s.id for s in site.stack("ai").enabled] == ["webui"]
    assert site.stack("ai").meta.description in ("empty", "no list at all", "no newline")


def test_a_broken_stack_yaml_is_refused_not_edited(tmp_path: Path) -> None:
    text = "services: [ollama, webui]\n"
    root = make_site(tmp_path, {"ai-stack/stack.yaml": text})
    with pytest.raises(BadInput) as caught:
        enable(root, "whisper")
    assert caught.value.file == str(stack_file(root))
    assert stack_file(root).read_text(encoding="utf-8") == text


def test_file_mode_is_kept_and_no_temp_files_remain(site_root: Path) -> None:
    stack_file(site_root).chmod(0o640)
    before = sorted(p.name for p in (site_root / "ai-stack").iterdir())
    disable(site_root, "ollama")
    assert stack_file(site_root).stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in (site_root / "ai-stack").iterdir()) == before


def test_a_service_listed_twice_is_disabled_on_every_line(tmp_path: Path) -> None:
    text = "services:\n  - ollama\n  - webui\n  - ollama\n"
    root = make_site(tmp_path, {"ai-stack/stack.yaml": text})
    assert disable(root, "ollama") == ["ollama"]
    after = stack_file(root).read_text(encoding="utf-8")
    assert after == "services:\n  # - ollama\n  - webui\n  # - ollama\n"
    assert enable(root, "ollama") == ["ollama"]
    assert stack_file(root).read_text(encoding="utf-8") == (
        "services:\n  - ollama\n  - webui\n  # - ollama\n"
    )
