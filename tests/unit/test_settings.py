"""`.env` parsing, Compose-style interpolation and root → stack → service layering."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack import settings
from homestack.catalog import Site
from homestack.errors import BadInput
from homestack.settings import MissingVariable, interpolate, parse_env
from testkit.sites import make_site, write_tree

# ---- dotenv parsing ------------------------------------------------------------------------


def test_parse_env_values_comments_and_lines() -> None:
    text = (
        "# a comment\n"
        "\n"
        "PLAIN=value\n"
        "export EXPORTED=yes\n"
        "SPACED = padded  \n"
        "SINGLE='$NOT expanded # kept'\n"
        'DOUBLE="line\\nbreak \\"quoted\\""\n'
        "INLINE=value # trailing comment\n"
        "HASH=a#b\n"
        "EMPTY=\n"
        "# OPTIONAL=documented\n"
        "#   ALSO_OPTIONAL=1\n"
        "# lower=not a variable\n"
    )
    env = parse_env(text, Path(".env"))
    assert env.values == {
        "PLAIN": "value",
        "EXPORTED": "yes",
        "SPACED": "padded",
        "SINGLE": "$NOT expanded # kept",
        "DOUBLE": 'line\nbreak "quoted"',
        "INLINE": "value",
        "HASH": "a#b",
        "EMPTY": "",
    }
    assert env.lines["PLAIN"] == 3
    assert env.lines["EMPTY"] == 10
    assert env.commented == {"OPTIONAL", "ALSO_OPTIONAL"}


def test_commented_assignment_that_is_also_set_is_not_optional() -> None:
    env = parse_env("# KEY=old\nKEY=new\n", Path(".env"))
    assert env.values == {"KEY": "new"}
    assert env.commented == frozenset()


def test_last_assignment_wins() -> None:
    assert parse_env("A=1\nA=2\n", Path(".env")).values == {"A": "2"}


def test_bad_env_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("GOOD=1\nthis is not an assignment\n", encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        settings.read_env(path)
    assert caught.value.line == 2
    assert caught.value.file == str(path)
    assert caught.value.hint and "KEY=value" in caught.value.hint


def test_read_env_of_a_missing_file_is_none(tmp_path: Path) -> None:
    assert settings.read_env(tmp_path / ".env") is None


def test_layer_file_prefers_env_over_example(tmp_path: Path) -> None:
    assert settings.layer_file(tmp_path) is None
    write_tree(tmp_path, {".env.example": "A=1\n"})
    assert settings.layer_file(tmp_path) == tmp_path / ".env.example"
    write_tree(tmp_path, {".env": "A=2\n"})
    assert settings.layer_file(tmp_path) == tmp_path / ".env"


# ---- interpolation (Compose's rules) --------------------------------------------------------

ENV = {"SET": "value", "EMPTY": "", "INNER": "inner"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("$SET", "value"),
        ("${SET}", "value"),
        ("pre-${SET}-post", "pre-value-post"),
        ("$SET/$SET", "value/value"),
        ("${UNSET}", ""),
        ("$UNSET", ""),
        # :- default when unset or empty; - only when unset
        ("${UNSET:-dflt}", "dflt"),
        ("${EMPTY:-dflt}", "dflt"),
        ("${SET:-dflt}", "value"),
        ("${UNSET-dflt}", "dflt"),
        ("${EMPTY-dflt}", ""),
        ("${SET-dflt}", "value"),
        # :+ alternative when set and non-empty; + when set
        ("${SET:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${UNSET:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("${UNSET+alt}", ""),
        # ? without strict gives the value (empty when missing)
        ("${SET:?must be set}", "value"),
        ("${EMPTY?only unset fails}", ""),
        # nested defaults
        ("${UNSET:-${INNER}}", "inner"),
        ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
        ("${UNSET:-${SET:+alt}}", "alt"),
        ("${SET:+${INNER}}", "inner"),
        ("${UNSET:-127.0.0.1}:${PORT:-80}:80", "127.0.0.1:80:80"),
        # $$ is a literal dollar, and what follows it is not a variable
        ("$$", "$"),
        ("$$SET", "$SET"),
        ("cost: $$5 and ${SET}", "cost: $5 and value"),
        ("no variables here", "no variables here"),
        ("a lone $ sign", "a lone $ sign"),
    ],
)
def test_interpolate_like_compose(template: str, expected: str) -> None:
    assert interpolate(template, ENV) == expected


@pytest.mark.parametrize("template", ["${UNSET:?say why}", "${EMPTY:?say why}", "${UNSET?why}"])
def test_strict_required_variable_raises_with_its_message(template: str) -> None:
    with pytest.raises(MissingVariable) as caught:
        interpolate(template, ENV, strict=True)
    assert caught.value.name in ("UNSET", "EMPTY")
    assert "why" in caught.value.message
    assert caught.value.hint and ".env" in caught.value.hint


def test_strict_nested_required_inside_default() -> None:
    assert interpolate("${SET:-${UNSET:?x}}", ENV, strict=True) == "value"
    with pytest.raises(MissingVariable):
        interpolate("${UNSET:-${ALSO:?x}}", ENV, strict=True)


def test_variables_in_reports_nested_references_and_skips_escapes() -> None:
    found = settings.variables_in("$A ${B:-${C:?e}} $$D ${E+x}")
    assert found == [("A", None), ("B", ":-"), ("C", ":?"), ("E", "+")]


def test_interpolate_tree_walks_lists_and_mappings() -> None:
    tree = {"ports": ["${SET}:80", 8080], "env": {"K": "$INNER"}, "n": None, "flag": True}
    assert settings.interpolate_tree(tree, ENV) == {
        "ports": ["value:80", 8080],
        "env": {"K": "inner"},
        "n": None,
        "flag": True,
    }


# ---- layering -----------------------------------------------------------------------------


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("SHARED", "ROOT_ONLY", "STACK_ONLY", "DATA_ROOT", "SECRETS_DIR", "HOMESTACK_SITE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("HOMESTACK_PREFIX", raising=False)


def test_layers_root_then_stack_then_each_enabled_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clean_env(monkeypatch)
    make_site(
        tmp_path,
        {
            ".env.example": "SHARED=root\nROOT_ONLY=r\nDATA_ROOT=./DATA\n",
            ".env": "SHARED=root-env\nROOT_ONLY=r\nDATA_ROOT=./DATA\n",  # .env beats example
            "ai-stack/.env.example": "SHARED=stack\nSTACK_ONLY=s\n",
            "ai-stack/services/ollama/.env.example": "SHARED=ollama\nOLLAMA_ONLY=o\n",
            "ai-stack/services/webui/.env": "SHARED=webui\n",
            "ai-stack/services/whisper/.env": "SHARED=disabled-service\n",
        },
    )
    site = Site.load(tmp_path)
    ai = site.stack("ai")
    assert site.env_files(ai) == [
        tmp_path / ".env",
        tmp_path / "ai-stack/.env.example",
        tmp_path / "ai-stack/services/ollama/.env.example",
        tmp_path / "ai-stack/services/webui/.env",
    ]
    env = site.stack_env(ai)
    assert env["SHARED"] == "webui"  # the last layer wins; disabled services add nothing
    assert env["ROOT_ONLY"] == "r"
    assert env["STACK_ONLY"] == "s"
    assert env["OLLAMA_ONLY"] == "o"
    assert site.stack_env(site.stack("essentials"))["SHARED"] == "root-env"


def test_process_environment_beats_files_and_paths_become_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clean_env(monkeypatch)
    make_site(tmp_path, {".env.example": "SHARED=file\nDATA_ROOT=./data-here\n"})
    monkeypatch.setenv("SHARED", "process")
    site = Site.load(tmp_path)
    env = site.stack_env(site.stack("ai"))
    assert env["SHARED"] == "process"
    assert env["DATA_ROOT"] == str(tmp_path.resolve() / "data-here")
    assert env["SECRETS_DIR"] == str(tmp_path.resolve() / "secrets")
    assert env["HOMESTACK_ROOT"] == str(tmp_path.resolve())
    assert site.data_root == tmp_path.resolve() / "data-here"


def test_prefix_comes_from_root_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_env(monkeypatch)
    make_site(tmp_path, {".env": "HOMESTACK_PREFIX=t1_\n"})
    site = Site.load(tmp_path)
    assert site.prefix == "t1_"
    assert site.project_name(site.stack("ai")) == "t1_ai"
    assert site.network_name("ai-services") == "t1_ai-services"


def test_a_byte_order_mark_is_read_as_compose_reads_it(tmp_path: Path) -> None:
    # Windows editors save UTF-8 with a BOM; `docker compose --env-file` accepts it
    path = tmp_path / ".env"
    path.write_bytes(b"\xef\xbb\xbfTZ=Europe/Paris\nPUID=1000\n")
    env = settings.read_env(path)
    assert env is not None
    assert env.values == {"TZ": "Europe/Paris", "PUID": "1000"}
    assert env.lines["TZ"] == 1


def test_an_env_file_that_is_not_utf8_names_its_line_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"TZ=Etc/UTC\nNAME=caf\xe9\n")
    with pytest.raises(BadInput) as caught:
        settings.read_env(path)
    assert caught.value.line == 2
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("Save it as UTF-8")


def test_a_quoted_value_with_a_trailing_comment_is_unquoted_as_compose_does() -> None:
    text = (
        'DOMAIN="home.lan"   # my domain\n'
        "TITLE='My # home' # shown on the start page\n"
        'ESCAPED="say \\"hi\\"" # a comment\n'
        # Compose ends the value at its closing quote and reads `b` as the next statement
        # (a bare KEY); `docker compose config` gives GLUED=a
        'GLUED="a"b\n'
    )
    env = parse_env(text, Path(".env"))
    assert env.values == {
        "DOMAIN": "home.lan",  # was '"home.lan"', quotes and all, in generated configs
        "TITLE": "My # home",
        "ESCAPED": 'say "hi"',
        "GLUED": "a",
    }
    assert env.entries[-1].key == "b" and env.entries[-1].value is None
