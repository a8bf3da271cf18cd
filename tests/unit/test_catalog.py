"""Site discovery: stacks, services, overlays, the listed/commented services, problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site, find_root, parse_listed
from homestack.errors import BadInput, UnknownName
from testkit.sites import make_site, service_yaml, write_tree


@pytest.fixture(autouse=True)
def _no_site_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOMESTACK_SITE", raising=False)
    monkeypatch.delenv("HOMESTACK_PREFIX", raising=False)


def rules(site: Site) -> list[str]:
    return sorted(p.rule for p in site.all_problems())


def test_discovers_stacks_services_overlays_and_enabled(tmp_path: Path) -> None:
    site = Site.load(make_site(tmp_path))
    assert list(site.stacks) == ["ai", "essentials"]
    ai = site.stack("ai")
    assert sorted(ai.services) == ["ollama", "webui", "whisper"]
    assert [s.id for s in ai.enabled] == ["ollama", "webui"]
    assert ai.services["whisper"].enabled is False
    assert ai.services["ollama"].overlays == {
        "nvidia": tmp_path / "ai-stack/services/ollama.nvidia.docker-compose.yaml"
    }
    assert ai.meta.depends_on == ["essentials"]
    assert ai.network == "ai-services"
    assert site.stack("essentials").network == "essential-services"
    ollama = ai.services["ollama"]
    assert ollama.meta is not None
    assert ollama.meta.gpu == "optional"
    assert ollama.volume_name == "ai_ollama_data"
    assert ollama.compose["image"] == "example/app:1.2.3"
    assert site.all_problems() == []


def test_a_site_loads_from_a_string_path_as_from_a_path(tmp_path: Path) -> None:
    """A script's `Site.load("/srv/site")` (docs/api.md): it raised AttributeError."""
    root = make_site(tmp_path)
    assert Site.load(str(root)).root == Site.load(root).root == root.resolve()


def test_listed_parsing_reads_comments_as_disabled() -> None:
    text = (
        "description: x\n"
        "services:\n"
        "  - a\n"
        "  # - b\n"
        "  #- c\n"
        "  - d   # why d is on\n"
        "  # a plain comment, not an entry\n"
        "\n"
        "  - e.v2\n"
        "other:\n"
        "  - not-a-service\n"
    )
    listed = parse_listed(text)
    assert [(e.name, e.enabled, e.line) for e in listed] == [
        ("a", True, 3),
        ("b", False, 4),
        ("c", False, 5),
        ("d", True, 6),
        ("e.v2", True, 9),
    ]


def test_listed_service_without_a_file_gets_did_you_mean(tmp_path: Path) -> None:
    make_site(
        tmp_path,
        {"ai-stack/stack.yaml": "services:\n  - ollama\n  - webuii\n"},
    )
    site = Site.load(tmp_path)
    (problem,) = site.all_problems()
    assert problem.rule == "stack.unknown-service"
    assert problem.line == 3
    assert problem.file == tmp_path / "ai-stack/stack.yaml"
    assert problem.hint == "Did you mean webui?"


def test_service_file_not_listed_is_disabled(tmp_path: Path) -> None:
    make_site(tmp_path, {"ai-stack/stack.yaml": "services:\n  - ollama\n"})
    ai = Site.load(tmp_path).stack("ai")
    assert [s.id for s in ai.enabled] == ["ollama"]
    assert {s.id for s in ai.services.values() if not s.enabled} == {"webui", "whisper"}


def test_flow_style_services_list_is_a_problem(tmp_path: Path) -> None:
    make_site(tmp_path, {"ai-stack/stack.yaml": "services: [ollama, webui]\n"})
    site = Site.load(tmp_path)
    assert rules(site) == ["stack.services"]
    assert site.all_problems()[0].line == 1


def test_badly_named_files_and_orphan_overlays(tmp_path: Path) -> None:
    make_site(
        tmp_path,
        {
            "ai-stack/services/extra.yml": service_yaml("extra"),
            "ai-stack/services/compose.yaml": service_yaml("compose"),
            "ai-stack/services/ghost.amd.docker-compose.yaml": "services:\n  ghost: {}\n",
            "ai-stack/services/webui.iot.docker-compose.yaml": "services:\n  webui: {}\n",
        },
    )
    site = Site.load(tmp_path)
    problems = {p.file.name: p for p in site.all_problems()}
    assert set(problems) == {"extra.yml", "compose.yaml", "ghost.amd.docker-compose.yaml"}
    assert all(p.rule == "file.naming" for p in problems.values())
    assert "iot" in site.stack("ai").services["webui"].overlays


def test_meta_missing_and_schema_errors_point_at_the_line(tmp_path: Path) -> None:
    make_site(
        tmp_path,
        {
            "ai-stack/services/webui.docker-compose.yaml": (
                "services:\n  webui:\n    image: x/y:1\n"
            ),
            "ai-stack/services/whisper.docker-compose.yaml": service_yaml(
                "whisper", meta="gpu: sometimes"
            ),
        },
    )
    site = Site.load(tmp_path)
    by_service = {p.service: p for p in site.all_problems()}
    assert by_service["webui"].rule == "meta.missing"
    assert by_service["webui"].line == 2
    schema = by_service["whisper"]
    assert schema.rule == "meta.schema"
    assert "x-homestack.gpu" in schema.message
    assert schema.line == 6  # the gpu: line
    assert site.stack("ai").services["whisper"].meta is None


def test_yaml_syntax_error_in_a_service_is_kept_as_a_problem(tmp_path: Path) -> None:
    make_site(
        tmp_path,
        {"ai-stack/services/webui.docker-compose.yaml": "services:\n  webui:\n   - a\n  b: [\n"},
    )
    site = Site.load(tmp_path)
    (problem,) = site.all_problems()
    assert (problem.rule, problem.service) == ("yaml.syntax", "webui")
    assert problem.line is not None
    with pytest.raises(BadInput) as caught:
        site.require_valid()
    assert caught.value.file == str(tmp_path / "ai-stack/services/webui.docker-compose.yaml")


def test_broken_stack_yaml_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    make_site(tmp_path, {"ai-stack/stack.yaml": "services:\n  - a\n bad\n"})
    site = Site.load(tmp_path)
    assert "yaml.syntax" in rules(site)


def test_stack_schema_error(tmp_path: Path) -> None:
    make_site(tmp_path, {"ai-stack/stack.yaml": "depends_on: essentials\nservices:\n  - ollama\n"})
    site = Site.load(tmp_path)
    assert rules(site) == ["stack.schema"]
    assert site.all_problems()[0].line == 1


def test_duplicate_service_across_stacks(tmp_path: Path) -> None:
    make_site(
        tmp_path,
        {"essentials-stack/services/ollama.docker-compose.yaml": service_yaml("ollama")},
    )
    assert rules(Site.load(tmp_path)) == ["service.duplicate"] * 2  # one in each file


def test_lookup_by_stack_and_service_names(tmp_path: Path) -> None:
    site = Site.load(make_site(tmp_path))
    assert site.stack("ai-stack").id == "ai"
    assert site.service("webui").stack == "ai"
    stacks, services = site.select(["essentials", "webui"])
    assert [s.id for s in stacks] == ["essentials", "ai"]
    assert services is not None
    assert [s.id for s in services] == ["webui", "proxy"]  # essentials keeps its services
    assert site.select(None)[1] is None
    with pytest.raises(UnknownName) as caught:
        site.stack("media")
    assert caught.value.hint == "Stacks: ai, essentials."
    with pytest.raises(UnknownName) as caught:
        site.service("olama")
    assert caught.value.hint == "Did you mean ollama?"
    assert caught.value.exit_status == 2


def test_compose_files_base_first_then_services_and_chosen_overlays(tmp_path: Path) -> None:
    site = Site.load(make_site(tmp_path))
    ai = site.stack("ai")
    services = tmp_path / "ai-stack/services"
    assert site.compose_files(ai) == [
        tmp_path / "base.docker-compose.yaml",
        services / "ollama.docker-compose.yaml",
        services / "webui.docker-compose.yaml",
    ]
    with_gpu = site.compose_files(ai, overlays={"ollama": ["nvidia", "amd"]})
    assert with_gpu[2] == services / "ollama.nvidia.docker-compose.yaml"
    assert len(with_gpu) == 4


def test_find_root_walks_up_and_honours_homestack_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_site(tmp_path)
    deep = tmp_path / "ai-stack/services"
    assert find_root(deep) == tmp_path.resolve()
    with pytest.raises(BadInput) as caught:
        find_root(tmp_path.parent)
    assert caught.value.hint and "--site" in caught.value.hint
    monkeypatch.setenv("HOMESTACK_SITE", str(tmp_path))
    assert find_root(Path("/")) == tmp_path.resolve()
    monkeypatch.setenv("HOMESTACK_SITE", str(deep))
    with pytest.raises(BadInput):
        find_root()


def test_load_rejects_a_folder_that_is_not_a_site(tmp_path: Path) -> None:
    write_tree(tmp_path, {"README.md": "x"})
    with pytest.raises(BadInput):
        Site.load(tmp_path)


def test_the_shipped_catalog_loads_without_problems() -> None:
    site = Site.load(Path(__file__).resolve().parents[2])
    assert site.all_problems() == []
    assert "ai" in site.stacks
    for service in site.services():
        assert service.meta is not None, service.id


def test_yaml_1_1_lookalikes_read_as_compose_reads_them(tmp_path: Path) -> None:
    """A service named `on` and unquoted `5353:53` ports: strings to Compose (YAML 1.2),
    not True and the base-60 integer 321233 (YAML 1.1, PyYAML's default)."""
    from homestack.lint import lint_site

    site_root = make_site(
        tmp_path,
        {
            "essentials-stack/stack.yaml": "description: t\nservices:\n  - proxy\n  - on\n",
            "essentials-stack/services/on.docker-compose.yaml": service_yaml(
                "on", "essentials", body="ports:\n  - 5353:53"
            ),
            "ai-stack/services/ollama.docker-compose.yaml": service_yaml(
                "ollama", body="ports:\n  - 5353:53"
            ),
        },
    )
    site = Site.load(site_root)
    service = site.stack("essentials").services["on"]
    assert service.enabled and service.id == "on"
    assert service.compose["ports"] == ["5353:53"]
    conflicts = [f for f in lint_site(site) if f.rule == "ports.conflict"]
    assert conflicts and any("5353" in f.message for f in conflicts)


def test_a_service_listed_twice_is_a_problem_and_enabled_once(tmp_path: Path) -> None:
    make_site(tmp_path, {"ai-stack/stack.yaml": "services:\n  - ollama\n  - webui\n  - ollama\n"})
    site = Site.load(tmp_path)
    ai = site.stack("ai")
    assert [s.id for s in ai.enabled] == ["ollama", "webui"]
    (problem,) = site.all_problems()
    assert problem.rule == "stack.listed-twice"
    assert (problem.line, problem.service) == (4, "ollama")
    assert "lines 2 and 4" in problem.message
    assert problem.hint == "Delete line 4: each service is listed once."


@pytest.mark.parametrize(
    ("make_bad", "words", "hint"),
    [
        (lambda p: p.mkdir(), "is a folder", "Replace the folder with the file"),
        (lambda p: p.write_bytes(b"services:\n  - caf\xe9\n"), "not UTF-8", "Save it as UTF-8"),
    ],
    ids=["folder", "latin-1"],
)
def test_an_unreadable_stack_yaml_or_service_file_is_a_problem_with_its_fix(
    tmp_path: Path, make_bad: object, words: str, hint: str
) -> None:
    make_site(tmp_path)
    for name in ("ai-stack/stack.yaml", "ai-stack/services/webui.docker-compose.yaml"):
        path = tmp_path / name
        path.unlink()
        make_bad(path)  # type: ignore[operator]
    site = Site.load(tmp_path)  # raised IsADirectoryError / UnicodeDecodeError for stack.yaml
    problems = {p.file.name: p for p in site.all_problems()}
    assert set(problems) == {"stack.yaml", "webui.docker-compose.yaml"}
    for problem in problems.values():
        assert problem.rule == "yaml.syntax"
        assert words in problem.message
        assert problem.hint is not None
        assert problem.hint.startswith(hint)
    assert site.stack("essentials").enabled  # the other stack still loads


def test_a_stack_yaml_with_a_byte_order_mark_lists_its_services(tmp_path: Path) -> None:
    make_site(tmp_path)
    path = tmp_path / "ai-stack/stack.yaml"
    path.write_bytes(b"\xef\xbb\xbfservices:\n  - ollama\n")
    site = Site.load(tmp_path)
    assert [s.id for s in site.stack("ai").enabled] == ["ollama"]
    assert site.all_problems() == []


@pytest.mark.parametrize(
    ("meta", "key", "line", "hint"),
    [
        ("critcal: true", "critcal", 6, "Did you mean critical?"),
        ("web:\n  prot: 8080", "web.prot", 7, "Did you mean port?"),  # not "port: required"
        ("secrets:\n  - name: pw\n    lenght: 32", "secrets.0.lenght", 8, "Did you mean length?"),
    ],
    ids=["top", "nested", "in-a-list"],
)
def test_a_typo_in_x_homestack_names_the_key_and_the_close_one(
    tmp_path: Path, meta: str, key: str, line: int, hint: str
) -> None:
    make_site(
        tmp_path,
        {"ai-stack/services/ollama.docker-compose.yaml": service_yaml("ollama", meta=meta)},
    )
    (problem,) = Site.load(tmp_path).all_problems()
    assert problem.rule == "meta.schema"
    assert problem.message == f"services.ollama.x-homestack.{key}: unknown key"
    assert problem.line == line
    assert problem.hint is not None
    assert problem.hint.startswith(hint)


def test_a_service_given_where_a_stack_is_wanted_names_its_stack(tmp_path: Path) -> None:
    site = Site.load(make_site(tmp_path))
    with pytest.raises(UnknownName) as caught:
        site.stack("webui")  # `homestack validate webui`, `config webui`
    assert caught.value.hint == "webui is a service; its stack is ai."


def test_a_stack_yaml_schema_error_hints_at_stack_yaml_not_x_homestack(tmp_path: Path) -> None:
    make_site(tmp_path, {"ai-stack/stack.yaml": "depends_on: essentials\nservices:\n  - ollama\n"})
    (problem,) = Site.load(tmp_path).all_problems()
    assert problem.rule == "stack.schema"
    assert problem.hint is not None
    assert "depends_on (a list of stacks)" in problem.hint
