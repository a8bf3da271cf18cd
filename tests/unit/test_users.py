"""`homestack users`: Authelia's users file, argon2id hashes, never a password in argv."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from homestack import people
from homestack.catalog import Site
from homestack.cli.app import run
from homestack.cli.users_cmds import read_password
from homestack.domain import DEFAULT_DOMAIN as D
from homestack.errors import BadInput
from homestack.generate import generate_all
from testkit.sites import copy_catalog

PASSWORD = "correct horse battery"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    for key in ("DATA_ROOT", "SECRETS_DIR", "DOMAIN", "LAN_ADDRESS", "HOMESTACK_SITE"):
        monkeypatch.delenv(key, raising=False)
    root = copy_catalog(tmp_path / "site")
    (root / ".env").write_text("LAN_ADDRESS=10.78.0.1\n", encoding="utf-8")
    site = Site.load(root)
    generate_all(site)  # the first users file, with the admin
    yield site


def _users(site: Site) -> dict[str, dict[str, object]]:
    data = yaml.safe_load(people.users_path(site.data_root).read_text(encoding="utf-8"))
    users: dict[str, dict[str, object]] = data["users"]
    return users


def _cli(site: Site, *argv: str) -> int:
    return run(["--site", str(site.root), "users", *argv])


def test_add_ls_passwd_groups_rm(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    users_file = people.users_path(site.data_root)
    mode_before = stat.S_IMODE(users_file.stat().st_mode)
    assert _cli(site, "add", "alice", "--password-file", str(secret)) == 0
    alice = _users(site)["alice"]
    digest = str(alice["password"])
    assert digest.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert people.verify_password(digest, PASSWORD)  # the trailing newline is not part of it
    assert alice["groups"] == ["users"]
    assert alice["email"] == f"alice@{D}"
    assert PASSWORD not in users_file.read_text(encoding="utf-8")
    assert stat.S_IMODE(users_file.stat().st_mode) == mode_before == 0o600
    assert "admin" in _users(site)  # the first user is kept

    assert _cli(site, "ls", "--json") == 0
    listed = capsys.readouterr().out
    assert PASSWORD not in listed and "$argon2id" not in listed and "pbkdf2" not in listed
    assert '"name": "alice"' in listed

    secret.write_text("another long one", encoding="utf-8")
    assert _cli(site, "passwd", "alice", "--password-file", str(secret)) == 0
    assert people.verify_password(str(_users(site)["alice"]["password"]), "another long one")

    assert _cli(site, "groups", "alice", "admins", "users") == 0
    assert _users(site)["alice"]["groups"] == ["admins", "users"]
    assert _cli(site, "rm", "admin") == 0  # alice is an admin now
    assert _cli(site, "rm", "alice") == 2  # never the last admin
    assert "last admin" in capsys.readouterr().err
    assert _cli(site, "groups", "alice", "users") == 2
    assert _users(site)["alice"]["groups"] == ["admins", "users"]


def test_bad_input_is_refused_before_the_file_changes(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = people.users_path(site.data_root).read_bytes()
    short = tmp_path / "short"
    short.write_text("abc", encoding="utf-8")
    good = tmp_path / "good"
    good.write_text(PASSWORD, encoding="utf-8")
    assert _cli(site, "add", "bob", "--password-file", str(short)) == 2
    assert _cli(site, "add", "bob", "--group", "root", "--password-file", str(good)) == 2
    assert _cli(site, "add", "bad name", "--password-file", str(good)) == 2
    assert _cli(site, "add", "admin", "--password-file", str(good)) == 2
    assert _cli(site, "passwd", "nobody", "--password-file", str(good)) == 2
    err = capsys.readouterr().err
    assert "shorter than 8" in err and "unknown group 'root'" in err and "exists already" in err
    assert "Traceback" not in err
    assert people.users_path(site.data_root).read_bytes() == before


def test_without_a_terminal_or_a_file_no_password_is_taken(site: Site) -> None:
    with pytest.raises(BadInput, match="no terminal"):
        read_password(None, stdin_is_tty=False)
    # there is no option that takes the password itself
    assert _cli(site, "add", "bob", "--password", PASSWORD) == 2


def test_a_symbolic_link_in_the_containers_folder_is_not_followed(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users_file = people.users_path(site.data_root)
    elsewhere = tmp_path / "elsewhere.yml"
    elsewhere.write_text(users_file.read_text(encoding="utf-8"), encoding="utf-8")
    users_file.unlink()
    users_file.symlink_to(elsewhere)  # as the Authelia container could plant it
    assert _cli(site, "ls") == 1
    assert "symbolic link" in capsys.readouterr().err
    notification = people.notification_path(site.data_root)
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.symlink_to(elsewhere)
    assert _cli(site, "codes") == 1


def test_codes_shows_what_the_file_notifier_wrote(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(site, "codes") == 0
    assert "no message yet" in capsys.readouterr().out
    notification = people.notification_path(site.data_root)
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text("Date: now\nSubject: One-Time Code\nABCD1234\n", encoding="utf-8")
    assert _cli(site, "codes") == 0
    assert "ABCD1234" in capsys.readouterr().out


def test_the_users_file_keeps_its_owner(site: Site, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("chown needs root")
    users_file = people.users_path(site.data_root)
    os.chown(users_file, 4242, 4343)
    good = tmp_path / "good"
    good.write_text(PASSWORD, encoding="utf-8")
    people.set_password(site.data_root, "admin", good.read_text(encoding="utf-8"))
    info = users_file.stat()
    assert (info.st_uid, info.st_gid) == (4242, 4343)


def test_a_linked_users_folder_is_refused(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = people.users_path(site.data_root).parent
    moved = tmp_path / "moved"
    folder.rename(moved)
    folder.symlink_to(moved)
    good = tmp_path / "good"
    good.write_text(PASSWORD, encoding="utf-8")
    before = (moved / people.USERS_FILE).read_bytes()
    assert _cli(site, "add", "eve", "--password-file", str(good)) == 1
    assert "symbolic link" in capsys.readouterr().err
    assert (moved / people.USERS_FILE).read_bytes() == before
