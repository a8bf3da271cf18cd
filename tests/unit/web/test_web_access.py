"""The dashboard's access rules, without a server: password, sessions, proxy trust, audit."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.web import audit
from homestack.web.auth import HASH_FILE, LOGIN_TRIES, Access, new_password, state_dir
from testkit.sites import write_tree

pytest.importorskip("fastapi", reason="the web extra is not installed")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    monkeypatch.delenv("HOMESTACK_PREFIX", raising=False)
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


def test_the_password_is_kept_only_as_a_private_argon2_hash(site: Site) -> None:
    password = new_password(site)
    stored = state_dir(site) / HASH_FILE
    text = stored.read_text()
    assert password not in text and text.startswith("$argon2")
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    access = Access(site, proxy=None)
    assert access.check_password(password)
    assert not access.check_password(password + "x")
    assert not access.check_password("")


def test_a_session_cookie_carries_the_user_and_a_csrf_token_and_cannot_be_forged(
    site: Site,
) -> None:
    access = Access(site, proxy=None)
    cookie = access.session_cookie("admin")
    user = access.from_cookie(cookie)
    assert user is not None and user.name == "admin" and len(user.csrf) >= 24
    assert (
        access.from_cookie(cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1]) is None
    )
    other = Access(site, proxy=None, key=b"another key, another site")
    assert other.from_cookie(cookie) is None
    assert access.from_cookie(None) is None


def test_remote_user_is_believed_only_from_the_proxy_and_only_for_admins(site: Site) -> None:
    access = Access(site, proxy="172.18.0.5")
    admin = {"remote-user": "ann", "remote-groups": "users, admins"}
    assert access.from_proxy("172.18.0.5", admin) is not None
    assert access.from_proxy("127.0.0.1", admin) is None  # typed by anyone else
    assert access.from_proxy("172.18.0.5", {"remote-user": "bob", "remote-groups": "users"}) is None
    assert Access(site, proxy=None).from_proxy("172.18.0.5", admin) is None  # none configured


def test_login_tries_are_limited_per_address(site: Site) -> None:
    access = Access(site, proxy=None)
    assert all(access.allowed_to_try("10.0.0.9") for _ in range(LOGIN_TRIES))
    assert not access.allowed_to_try("10.0.0.9")
    assert access.allowed_to_try("10.0.0.10")  # another address has its own count


def test_the_audit_log_appends_json_lines_and_refuses_a_planted_symlink(
    site: Site, tmp_path: Path
) -> None:
    audit.record(site, user="ann", action="stop", target="one", result="ok", detail="stopped one")
    audit.record(site, user="ann", action="start", target="one", result="failed", detail="x")
    lines = audit.audit_path(site).read_text().splitlines()
    assert [json.loads(line)["action"] for line in lines] == ["stop", "start"]
    assert audit.read(site)[0]["action"] == "start"  # newest first
    elsewhere = tmp_path / "elsewhere.log"
    elsewhere.write_text("")
    audit.audit_path(site).unlink()
    os.symlink(elsewhere, audit.audit_path(site))
    with pytest.raises(OSError):
        audit.record(site, user="ann", action="stop", target="one", result="ok", detail="")
    assert elsewhere.read_text() == ""


def test_ls_and_plan_never_import_the_web_stack(site: Site) -> None:
    for command in ("ls", "plan"):
        code = (
            "import sys\nfrom homestack.cli.app import run\n"
            f"run(['--site', {str(site.root)!r}, {command!r}])\n"
            "heavy = [m for m in ('fastapi', 'starlette', 'uvicorn', 'jinja2', 'argon2') "
            "if m in sys.modules]\nsys.stderr.write('HEAVY=' + ','.join(heavy) + '\\n')\n"
        )
        done = subprocess.run([sys.executable, "-c", "import homestack.cli\n" + code],
                              capture_output=True, text=True, check=True)  # fmt: skip
        assert "HEAVY=\n" in done.stderr, (command, done.stderr)
