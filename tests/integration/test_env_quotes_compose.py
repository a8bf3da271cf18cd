"""homestack reads quoted .env values as the real `docker compose config` does: a quoted
value may span lines, what follows its closing quote is the next statement, and a quote that
is never closed is refused (exit 2 at the file and the line where it opens) where Compose
refuses the file with 'unterminated quoted value'. Before, the reader took `DOMAIN="home.arpa`
literally (URLs read https://ollama."home.arpa/) and only Compose, later, refused it."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.engine.compose import ComposeProject
from homestack.errors import BadInput, CommandFailed
from testkit.sites import external_networks, make_site, write_tree

pytestmark = pytest.mark.integration

VARS = ("FOO", "BAR", "BAZ")


def _site(root: Path, env_text: str) -> Site:
    env = "".join(f"      E_{v}: ${{{v}-unset}}\n" for v in VARS)
    write_tree(
        root,
        {
            "base.docker-compose.yaml": external_networks("ai-services"),
            "ai-stack/stack.yaml": "services:\n  - web\n",
            "ai-stack/.env": env_text,
            "ai-stack/services/web.docker-compose.yaml": (
                "services:\n  web:\n    x-homestack:\n      title: web\n"
                "      description: web\n    image: example/web:1.0\n"
                f"    environment:\n{env}    networks:\n      - ai-services\n"
            ),
        },
    )
    return Site.load(root)


ACCEPTED = [
    'FOO="bar"\n',
    'FOO="two\nlines"\nBAR=after\n',  # a double-quoted value may span lines
    "FOO='two\nlines'\n",
    'FOO="a\nBAR=inside"\nBAZ=3\n',  # the quote swallows what looks like an assignment
    'FOO="bar"baz\nBAR=1\n',  # text glued after the closing quote: a bare KEY
    'FOO="a" BAR=2\n',  # ... or the next assignment on the same line
    'FOO="a" # comment\n',
    'FOO="x\\\\"\n',  # an escaped backslash, then the closing quote
    "FOO='it\\'s'\n",
    'FOO="a"\r\nBAR=2\r\n',  # CRLF line ends
    'FOO="one\r\ntwo"\r\nBAR=2\r\n',  # a CRLF inside quotes keeps its CR
    "FOO='one\r\ntwo'\r\nBAR=plain \r\n",
    'FOO=va\rlue\nBAR="x\ry"\n',  # a CR alone is no line break
    "FOO=one\rBAR=two\n",
    'FOO=bar"\n',  # a quote inside an unquoted value is a character
    "FOO=a#b\nBAR=a #b\n",
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_quoted_values_read_as_compose_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compose_cli: None, text: str
) -> None:
    for key in VARS:
        monkeypatch.delenv(key, raising=False)
    site = _site(tmp_path / "site", text)
    stack = site.stacks["ai"]
    model = ComposeProject(site, stack).config()
    compose = {k[2:]: v for k, v in model["services"]["web"]["environment"].items()}
    env = site.stack_env(stack)
    ours = {key: env.get(key, "unset") for key in VARS}
    assert ours == compose


REFUSED = [
    ('FOO="bar\n', 1),
    ('A=1\nDOMAIN="home.arpa\nB=2\n', 2),
    ("X=1\nFOO='bar\n", 2),
    ('FOO="x\\"y\n', 1),  # the only quote after x is escaped
    ('FOO="a\nb\n', 1),
]


@pytest.mark.parametrize(("text", "line"), REFUSED)
def test_an_unclosed_quote_is_refused_at_its_line_as_compose_refuses_it(
    tmp_path: Path, compose_cli: None, text: str, line: int
) -> None:
    site = _site(tmp_path / "site", text)
    stack = site.stacks["ai"]
    with pytest.raises(CommandFailed) as compose:
        ComposeProject(site, stack).config()
    assert "unterminated quoted value" in compose.value.stderr
    with pytest.raises(BadInput) as ours:
        site.stack_env(stack)
    assert ours.value.line == line
    assert ours.value.file == str(stack.dir / ".env")
    assert "unterminated quoted value" in ours.value.message
    assert ours.value.hint and "Close the quote" in ours.value.hint


@pytest.mark.parametrize("command", [["status"], ["generate", "--dry-run"], ["up", "ai"]])
def test_commands_refuse_an_unclosed_domain_quote_at_its_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    engine_cleanup: str,
    command: list[str],
) -> None:
    # engine_cleanup: should up regress and reach the engine, nothing stays behind
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    monkeypatch.setenv("HOMESTACK_NO_CACHE", "1")
    monkeypatch.delenv("DOMAIN", raising=False)
    root = make_site(tmp_path / "site")
    (root / ".env").write_text(
        'TZ=Etc/UTC\nDATA_ROOT=./DATA\nDOMAIN="home.arpa\nBIND_ADDRESS=127.0.0.1\n',
        encoding="utf-8",
    )
    code = run(["--site", str(root), *command])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{root / '.env'}:3: unterminated quoted value" in err
    assert "fix: Close the quote" in err
    assert not (root / "DATA").exists() and not (root / "secrets").exists()
