"""up / down / restart given files Compose would refuse: exit 2 naming the file, its line and
the fix, before any secret, folder, network or container is made or stopped."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from homestack.cli.app import run
from testkit.engine import remove_everything_named
from testkit.sites import copy_catalog, make_site, service_yaml

OLLAMA = "ai-stack/services/ollama.docker-compose.yaml"


@pytest.fixture
def site_root(tmp_path: Path, test_prefix: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A site under a unique prefix. These refusals need no engine; should one regress and
    reach the engine, what it made under the prefix is removed all the same."""
    monkeypatch.setenv("HOMESTACK_PREFIX", test_prefix)
    monkeypatch.setenv("HOMESTACK_NO_CACHE", "1")
    yield make_site(tmp_path / "site")
    with contextlib.suppress(OSError):  # no docker CLI: nothing can have been made
        remove_everything_named(test_prefix)


def _untouched(root: Path) -> None:
    assert not (root / "secrets").exists()
    assert not (root / "DATA").exists()


def test_up_refuses_an_empty_service_file_before_writing_anything(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site_root / OLLAMA).write_text("", encoding="utf-8")
    assert run(["--site", str(site_root), "up", "ollama"]) == 2
    err = capsys.readouterr().err
    assert "ollama.docker-compose.yaml is empty" in err
    assert "homestack disable ollama" in err
    assert "Traceback" not in err
    _untouched(site_root)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("services:\n  - ollama\n", "has no `services:` mapping"),
        ("services:\n  ollama: 5\n", "defines services.ollama as int, not a mapping"),
        ("services:\n  other: {image: x:1}\n", "does not define services.ollama"),
        ("- just\n- a list\n", "is not a mapping of compose keys"),
    ],
)
def test_up_refuses_a_service_file_without_its_service(
    site_root: Path, capsys: pytest.CaptureFixture[str], text: str, said: str
) -> None:
    (site_root / OLLAMA).write_text(text, encoding="utf-8")
    assert run(["--site", str(site_root), "up", "ollama"]) == 2
    err = capsys.readouterr().err
    assert said in err and OLLAMA.rsplit("/", 1)[1] in err
    _untouched(site_root)


def test_a_duplicate_key_is_refused_at_its_line_by_up_down_and_restart(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = service_yaml("ollama").replace(
        "    restart: unless-stopped\n", "    restart: unless-stopped\n    restart: always\n"
    )
    (site_root / OLLAMA).write_text(text, encoding="utf-8")
    line = text.splitlines().index("    restart: always") + 1
    for command in (["up", "ollama"], ["down", "ollama"], ["restart", "ollama"], ["down", "ai"]):
        assert run(["--site", str(site_root), *command]) == 2, command
        err = capsys.readouterr().err
        assert "key services.ollama.restart is given twice" in err, command
        assert f"{OLLAMA}:{line}" in err, command
        assert "Delete one of the two entries" in err
    _untouched(site_root)


def test_up_refuses_another_files_problem_in_the_same_stack(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Compose reads every file of the stack: a broken webui stops `up ollama` too."""
    (site_root / "ai-stack/services/webui.docker-compose.yaml").write_text("", encoding="utf-8")
    assert run(["--site", str(site_root), "up", "ollama"]) == 2
    assert "webui.docker-compose.yaml is empty" in capsys.readouterr().err
    _untouched(site_root)


def test_up_refuses_a_nan_timeout(site_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`elapsed > nan` is never true: up would wait forever for a service that never starts."""
    assert run(["--site", str(site_root), "up", "ollama", "--timeout", "nan"]) == 2
    assert "--timeout must be a number of seconds" in capsys.readouterr().err
    _untouched(site_root)


def test_up_refuses_a_stand_in_image_that_is_not_a_reference(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--site", str(site_root), "up", "ollama", "--stand-in-image", "bad name!"]) == 2
    err = capsys.readouterr().err
    assert "'bad name!' is not an image reference" in err
    assert "busybox:1.36" in err
    _untouched(site_root)


@pytest.mark.integration
@pytest.mark.parametrize("rehearsal", [[], ["--stand-in"]], ids=["real", "stand-in"])
def test_what_compose_refuses_is_bad_input_before_anything_is_made(
    site_root: Path,
    engine_cleanup: str,
    standin_image: str,
    capsys: pytest.CaptureFixture[str],
    rehearsal: list[str],
) -> None:
    """A key Compose's schema does not know: only Compose sees it; `up` reports it as bad
    input (exit 2, Compose's reason, the validate hint) and has made no secret or network,
    written nothing under DATA (the good stacks' config hashes are remembered only once
    every stack passed) and, under --stand-in, no override file."""
    text = service_yaml("ollama").replace(
        "    restart: unless-stopped\n", "    restart: unless-stopped\n    bogus_key: 1\n"
    )
    (site_root / OLLAMA).write_text(text, encoding="utf-8")
    assert run(["--site", str(site_root), "up", "ollama", *rehearsal]) == 2
    err = capsys.readouterr().err
    assert "Compose refuses the files of stack ai" in err
    assert "bogus_key" in err
    assert "homestack validate ai" in err
    _untouched(site_root)  # no secret, and nothing under DATA: not the other stacks'
    # remembered config hashes, not the stand-in's override
    networks = subprocess.run(
        ["docker", "network", "ls", "-q", "--filter", f"name={engine_cleanup}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert networks.stdout.strip() == ""


@pytest.mark.integration
def test_a_setting_compose_refuses_points_at_the_settings_file(
    site_root: Path, engine_cleanup: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """BIND_ADDRESS=999.1.1.1: Compose names no file, so the fix names where settings live."""
    (site_root / ".env").write_text("DATA_ROOT=./DATA\nBIND_ADDRESS=999.1.1.1\n", "utf-8")
    assert run(["--site", str(site_root), "up", "ollama"]) == 2
    err = capsys.readouterr().err
    assert "invalid IP address: 999.1.1.1" in err
    assert f"the setting (in {site_root / '.env'}" in err
    assert not (site_root / "secrets").exists()


def test_a_setting_the_generated_configs_cannot_use_is_refused_before_secrets(
    tmp_path: Path,
    test_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """DOMAIN=https://home.arpa: the Caddyfile cannot be made; up said so only after it had
    generated secrets and made DATA folders and networks."""
    monkeypatch.setenv("HOMESTACK_PREFIX", test_prefix)
    root = copy_catalog(tmp_path / "site")
    (root / ".env").write_text(
        (root / ".env.example").read_text(encoding="utf-8") + "DOMAIN=https://home.arpa\n",
        encoding="utf-8",
    )
    try:
        assert run(["--site", str(root), "up", "caddy"]) == 2
    finally:
        with contextlib.suppress(OSError):
            remove_everything_named(test_prefix)
    err = capsys.readouterr().err
    assert "DOMAIN" in err and "is not a host name" in err
    _untouched(root)
