"""The .env made from .env.example reads as .env.example did: a file that is not UTF-8 is
bad input at its line (it was an internal UnicodeDecodeError), and its carriage returns are
kept (Compose keeps a CR inside a quoted value; universal newlines turned it into LF)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from homestack import settings
from homestack.errors import BadInput
from homestack.host.envfile import ensure_env
from homestack.host.probe import CommandResult, HostProbe, no_nvml


def _no_timedatectl(argv: Sequence[str], *, timeout: float = 60.0) -> CommandResult:
    return CommandResult(tuple(argv), 127, "", "timedatectl: command not found")


def _probe(tmp_path: Path) -> HostProbe:
    host = tmp_path / "host"
    (host / "etc").mkdir(parents=True)
    (host / "etc/timezone").write_text("Europe/Berlin\n")
    env = {"SUDO_UID": "1001", "SUDO_GID": "1002"}
    return HostProbe(root=host, env=env, nvml=no_nvml, run=_no_timedatectl)


def test_fake_host_an_example_that_is_not_utf8_is_bad_input_at_its_line(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / ".env.example").write_bytes(b"TZ=Etc/UTC\nTITLE=Caf\xe9\n")
    with pytest.raises(BadInput) as caught:
        ensure_env(site, _probe(tmp_path))
    assert caught.value.file == str(site / ".env.example")
    assert caught.value.line == 2
    assert not (site / ".env").exists()


def test_fake_host_carriage_returns_of_the_example_are_kept(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / ".env.example").write_bytes(b'TZ=Etc/UTC\r\nMOTD="one\r\ntwo"\r\nPUID=1000\r\n')
    ensure_env(site, _probe(tmp_path))
    env = settings.read_env(site / ".env")
    assert env is not None
    assert env.values["MOTD"] == "one\r\ntwo"
    assert (env.values["TZ"], env.values["PUID"], env.values["PGID"]) == (
        "Europe/Berlin",
        "1001",
        "1002",
    )
