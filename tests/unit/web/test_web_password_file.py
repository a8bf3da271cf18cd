"""The dashboard's password is kept in a 0600 secret file and never printed: under systemd,
`serve`'s stderr is the journal, which more people read than the secrets folder."""

from __future__ import annotations

import os
import selectors
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.web.auth import HASH_FILE, Access, state_dir
from testkit.engine import free_port
from testkit.sites import write_tree

pytest.importorskip("fastapi", reason="the web extra is not installed")

PASSWORD_SECRET = "homestack_dashboard_password"  # under the site's SECRETS_DIR (docs/dashboard.md)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    for key in ("HOMESTACK_PREFIX", "DATA_ROOT", "SECRETS_DIR", "HOMESTACK_SITE"):
        monkeypatch.delenv(key, raising=False)
    root = write_tree(
        tmp_path / "site",
        {
            "base.docker-compose.yaml": "networks: {}\n",
            ".env": "DATA_ROOT=./DATA\nDOMAIN=home.test\n",
            "ai-stack/stack.yaml": "services:\n  - one\n",
            "ai-stack/services/one.docker-compose.yaml": (
                "services:\n  one:\n    image: busybox:1\n    x-homestack:\n      title: One\n"
            ),
        },
    )
    return Site.load(root)


def _first_serve_stderr(root: Path) -> str:
    """Run `homestack serve` as a user (or systemd) does, until it says where it listens."""
    server = subprocess.Popen(
        [sys.executable, "-m", "homestack", "--site", str(root), "serve", "--port",
         str(free_port())],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    assert server.stderr is not None
    os.set_blocking(server.stderr.fileno(), False)
    text = b""
    try:
        with selectors.DefaultSelector() as wait:
            wait.register(server.stderr, selectors.EVENT_READ)
            deadline = time.monotonic() + 30
            while b"homestack dashboard on" not in text and time.monotonic() < deadline:
                if server.poll() is not None:
                    break
                if wait.select(timeout=0.5):
                    text += server.stderr.read() or b""
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        text += server.stderr.read() or b""
        server.stderr.close()
    out = text.decode()
    assert "homestack dashboard on" in out, out
    return out


def test_the_first_serve_keeps_the_password_in_a_private_file_and_never_prints_it(
    site: Site,
) -> None:
    stderr = _first_serve_stderr(site.root)
    secret = site.secrets_dir / PASSWORD_SECRET
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert secret.stat().st_uid == os.geteuid()
    password = secret.read_text(encoding="utf-8")
    assert len(password) >= 20
    assert password not in stderr
    assert str(secret) in stderr  # where to read it instead
    assert Access(site, proxy=None).check_password(password)  # the hash is of that password
    assert password not in (state_dir(site) / HASH_FILE).read_text()


def test_new_password_replaces_the_file_and_prints_only_its_path(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--site", str(site.root), "serve", "--new-password"]) == 0
    secret = site.secrets_dir / PASSWORD_SECRET
    first = secret.read_text(encoding="utf-8")
    assert run(["--site", str(site.root), "serve", "--new-password"]) == 0
    second = secret.read_text(encoding="utf-8")
    printed = capsys.readouterr()
    assert first != second
    assert first not in printed.err + printed.out
    assert second not in printed.err + printed.out
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    access = Access(site, proxy=None)
    assert access.check_password(second)
    assert not access.check_password(first)
