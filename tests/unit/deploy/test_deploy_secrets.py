"""install secrets / secrets ls on real files (no engine needed)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.deploy import ensure_secrets, list_secrets
from homestack.deploy.secrets import ALPHABETS, generate
from homestack.errors import BadInput
from homestack.models import SecretSpec
from testkit.sites import service_file, tiny_site

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")

META = """
secrets:
  - name: db_password
  - name: api_token
    length: 48
    alphabet: hex
    uid: 1234
    gid: 2345
"""


@pytest.fixture
def site(tmp_path: Path) -> Site:
    tiny_site(tmp_path / "site", {"app": service_file("app", meta=META)})
    return Site.load(tmp_path / "site")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("alphabet", sorted(ALPHABETS))
def test_generate_uses_the_alphabet_and_length(alphabet: str) -> None:
    spec = SecretSpec(name="x", length=64, alphabet=alphabet)  # type: ignore[arg-type]
    values = {generate(spec) for _ in range(3)}
    assert len(values) == 3
    for value in values:
        assert len(value) == 64
        assert set(value) <= set(ALPHABETS[alphabet])


@root_only
def test_secrets_created_with_modes_and_owners_then_never_rewritten(site: Site) -> None:
    report = ensure_secrets(site, site.services(enabled_only=True))
    folder = site.secrets_dir
    private, shared = folder / "app_db_password", folder / "app_api_token"
    assert sorted(report.created) == ["app_api_token", "app_db_password"]
    assert report.changed
    assert _mode(folder) == 0o700
    assert _mode(private) == 0o600
    assert (private.stat().st_uid, private.stat().st_gid) == (os.geteuid(), os.getegid())
    assert _mode(shared) == 0o440
    assert (shared.stat().st_uid, shared.stat().st_gid) == (1234, 2345)
    assert len(private.read_text()) == 32
    assert len(shared.read_text()) == 48
    assert set(shared.read_text()) <= set("0123456789abcdef")
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp file left

    before = {p.name: _digest(p) for p in folder.iterdir()}
    again = ensure_secrets(site, site.services(enabled_only=True))
    assert again.created == [] and not again.changed
    assert sorted(again.unchanged) == ["app_api_token", "app_db_password"]
    assert {p.name: _digest(p) for p in folder.iterdir()} == before


@root_only
def test_loose_mode_or_wrong_owner_is_fixed_without_rewriting(site: Site) -> None:
    ensure_secrets(site, site.services(enabled_only=True))
    shared = site.secrets_dir / "app_api_token"
    digest = _digest(shared)
    os.chown(shared, 0, 0)
    shared.chmod(0o640)
    site.secrets_dir.chmod(0o755)
    report = ensure_secrets(site, site.services(enabled_only=True))
    assert report.fixed == ["app_api_token"]
    assert _mode(shared) == 0o440 and shared.stat().st_uid == 1234
    assert _mode(site.secrets_dir) == 0o700
    assert _digest(shared) == digest


def test_dry_run_writes_nothing(site: Site) -> None:
    report = ensure_secrets(site, site.services(enabled_only=True), dry_run=True)
    assert sorted(report.created) == ["app_api_token", "app_db_password"]
    assert report.dry_run
    assert not site.secrets_dir.exists()


def _bad_empty(path: Path) -> None:
    path.write_text("")
    path.chmod(0o600)


def _bad_directory(path: Path) -> None:
    path.mkdir()


def _bad_symlink_out(path: Path) -> None:
    outside = path.parent.parent / "elsewhere"
    outside.write_text("x" * 40)
    outside.chmod(0o600)
    path.symlink_to(outside)


def _bad_world_readable(path: Path) -> None:
    path.write_text("y" * 40)
    path.chmod(0o644)


def _bad_group_writable(path: Path) -> None:
    path.write_text("y" * 40)
    path.chmod(0o620)


@pytest.mark.parametrize(
    ("make_bad", "words"),
    [
        (_bad_empty, "is empty"),
        (_bad_directory, "is a directory"),
        (_bad_symlink_out, "symlink pointing out"),
        (_bad_world_readable, "world-accessible"),
        (_bad_group_writable, "group-writable"),
    ],
)
def test_bad_secret_file_is_an_error_naming_it_and_nothing_is_written(
    site: Site, make_bad: object, words: str
) -> None:
    site.secrets_dir.mkdir(mode=0o700)
    bad = site.secrets_dir / "app_db_password"
    make_bad(bad)  # type: ignore[operator]
    with pytest.raises(BadInput) as caught:
        ensure_secrets(site, site.services(enabled_only=True))
    assert str(bad) in caught.value.message
    assert words in caught.value.message
    assert caught.value.hint
    assert not (site.secrets_dir / "app_api_token").exists()
    listing = list_secrets(site)
    row = next(r for r in listing.rows if r.name == "app_db_password")
    assert row.problem is not None and words in row.problem


def test_symlink_inside_the_folder_is_accepted(site: Site) -> None:
    folder = site.secrets_dir
    folder.mkdir(mode=0o700)
    (folder / "shared_value").write_text("z" * 40)
    (folder / "shared_value").chmod(0o600)
    (folder / "app_db_password").symlink_to("shared_value")
    report = ensure_secrets(site, site.services(enabled_only=True))
    assert "app_db_password" in report.unchanged or "app_db_password" in report.fixed


def test_secrets_ls_shows_metadata_never_values(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    ensure_secrets(site, site.services(enabled_only=True))
    values = [p.read_text() for p in site.secrets_dir.iterdir()]
    code = run(["--site", str(site.root), "secrets", "ls", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out)
    rows = {row["name"]: row for row in data["secrets"]}
    assert set(rows) == {"app_db_password", "app_api_token"}
    assert rows["app_db_password"]["service"] == "app"
    assert rows["app_db_password"]["size"] == 32
    assert rows["app_db_password"]["mode"] == "0600"
    assert rows["app_db_password"]["age_s"] >= 0
    for value in values:
        assert value not in out

    assert run(["--site", str(site.root), "secrets", "ls"]) == 0
    table = capsys.readouterr().out
    assert "app_db_password" in table
    for value in values:
        assert value not in table


def test_install_secrets_cli_never_prints_a_value(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--site", str(site.root), "install", "secrets"]) == 0
    printed = capsys.readouterr()
    assert "app_db_password" in printed.out
    for path in site.secrets_dir.iterdir():
        assert path.read_text() not in printed.out + printed.err
    assert run(["--site", str(site.root), "install", "secrets", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["changed"] is False
    assert data["created"] == []


def test_secrets_ls_exits_1_on_a_bad_file(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    site.secrets_dir.mkdir(mode=0o700)
    (site.secrets_dir / "app_db_password").write_text("")
    assert run(["--site", str(site.root), "secrets", "ls"]) == 1
    assert "is empty" in capsys.readouterr().out


def test_a_stricter_mode_is_kept_and_a_loose_folder_counts_as_a_change(site: Site) -> None:
    ensure_secrets(site, site.services(enabled_only=True))
    private = site.secrets_dir / "app_db_password"
    private.chmod(0o400)
    site.secrets_dir.chmod(0o750)
    report = ensure_secrets(site, site.services(enabled_only=True))
    assert "app_db_password" in report.unchanged
    assert _mode(private) == 0o400
    assert report.changed and report.folder_changed
    assert _mode(site.secrets_dir) == 0o700
    assert not ensure_secrets(site, site.services(enabled_only=True)).changed


def test_secrets_dir_may_be_a_symlink_to_a_folder(tmp_path: Path) -> None:
    real = tmp_path / "vault"
    real.mkdir(mode=0o700)
    root = tiny_site(
        tmp_path / "site",
        {"app": service_file("app", meta=META)},
        env="SECRETS_DIR=./linked\n",
    )
    (root / "linked").symlink_to(real)
    site = Site.load(root)
    report = ensure_secrets(site, site.services(enabled_only=True), dry_run=False)
    assert "app_db_password" in report.created
    assert (real / "app_db_password").is_file()


@root_only
def test_secret_of_a_service_running_as_puid_is_readable_by_that_user(tmp_path: Path) -> None:
    tiny_site(
        tmp_path / "site",
        {
            "app": service_file(
                "app",
                meta="secrets:\n  - name: jwt",
                body='user: "${PUID:-1000}:${PGID:-1000}"',
            )
        },
        env="PUID=4321\nPGID=4322\n",
    )
    site = Site.load(tmp_path / "site")
    ensure_secrets(site, site.services(enabled_only=True))
    path = site.secrets_dir / "app_jwt"
    assert (path.stat().st_uid, path.stat().st_gid) == (4321, 4322)
    assert _mode(path) == 0o440


def test_a_secret_made_anew_beside_existing_data_says_how_to_get_the_old_one(
    site: Site,
) -> None:
    """A secret deleted by mistake is made anew by the next up; data made with the old value
    (an encryption key, an admin password) may refuse it. A first install says nothing."""
    first = ensure_secrets(site, site.services(enabled_only=True), dry_run=True)
    assert first.notes == [] or all("NEW value" not in n for n in first.notes)
    (site.data_root / "app").mkdir(parents=True)
    (site.data_root / "app" / "db.sqlite").write_text("made with the old key")
    report = ensure_secrets(site, site.services(enabled_only=True), dry_run=True)
    news = [n for n in report.notes if "NEW value" in n]
    assert len(news) == 2
    (db_note,) = [n for n in news if n.startswith("app_db_password:")]
    assert f"{site.data_root / 'app'} already holds data made with the old one" in db_note
    assert "homestack restore app" in db_note and "homestack restart app" in db_note
    assert str(site.secrets_dir / "app_db_password") in db_note
