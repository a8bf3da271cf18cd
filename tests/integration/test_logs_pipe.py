"""`homestack logs | head -2` on a real engine: two lines, then a quiet end (see test_cli_pipe)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from homestack.catalog import Site
from testkit.engine import (
    container_state,
    create_networks,
    new_prefix,
    remove_everything_named,
    start,
    wait_for,
)
from testkit.sites import running_site

pytestmark = pytest.mark.integration

SCRIPT = Path(sys.executable).parent / "homestack"
LINES = 3000  # ~40 KiB as rendered: more than the pipe holds once the reader has gone
CHATTY = (
    "command: ['sh', '-c', 'i=0; while [ $$i -lt "
    f"{LINES}"
    " ]; do i=$$((i+1)); echo chatty line $$i; done']\nrestart: 'no'"
)


@pytest.fixture(scope="module")
def chatty_site(tmp_path_factory: pytest.TempPathFactory, standin_image: str) -> Iterator[Site]:
    prefix = new_prefix()
    site = running_site(
        tmp_path_factory.mktemp("logspipe") / "site",
        prefix,
        {"media": {"chatty": (True, CHATTY, "")}},
    )
    create_networks(prefix, ["media-services"])
    start(site, "media", ["chatty"])
    assert wait_for(lambda: container_state(f"{prefix}media-chatty-1") == "exited")
    yield site
    remove_everything_named(prefix)


@pytest.mark.parametrize("argv", [["logs"], ["logs", "--json"]])
def test_logs_into_head_ends_quietly(chatty_site: Site, argv: list[str]) -> None:
    command = subprocess.Popen(
        [str(SCRIPT), "--site", str(chatty_site.root), *argv, "chatty"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert command.stdout is not None and command.stderr is not None
    head = [command.stdout.readline().decode() for _ in range(2)]
    command.stdout.close()  # what `head -2` does once it has its lines
    err = command.stderr.read().decode()
    code = command.wait(timeout=120)
    assert all("chatty line" in line for line in head)
    assert err == ""
    assert code == 141  # as `ls | head` in the shell: 128 + SIGPIPE, and no message
