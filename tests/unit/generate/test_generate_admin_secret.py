"""Authelia's admin password secret is part of generate's one change: it is created only
when every generated file is written, is gone again when a later file fails (a users file
with its hash is not written either), and an existing secret is never replaced."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.errors import OperationFailed
from homestack.generate import authelia, generate_all, homepage


def _secret(site: Site) -> Path:
    return site.secrets_dir / authelia.ADMIN_SECRET


def _users(site: Site) -> Path:
    return site.data_root / "config/authelia/users_database.yml"


def test_a_renderer_failing_after_authelia_leaves_no_secret(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> list[object]:
        raise OperationFailed("planted failure in the homepage renderer")

    monkeypatch.setattr(homepage, "generate", broken)
    with pytest.raises(OperationFailed, match="planted"):
        generate_all(site)
    assert not _secret(site).exists()
    assert not site.secrets_dir.exists()  # nor the folder made for it
    assert not site.data_root.exists()


def test_a_config_file_that_cannot_be_written_takes_the_new_secret_back(site: Site) -> None:
    caddyfile = site.data_root / "config/caddy/Caddyfile"
    caddyfile.mkdir(parents=True)  # a folder in its place: the rename onto it fails
    with pytest.raises(OperationFailed):
        generate_all(site)
    assert not _secret(site).exists()
    assert not _users(site).exists()


def test_the_secret_is_made_with_the_files_and_its_hash_matches(site: Site) -> None:
    report = generate_all(site)
    secret = _secret(site)
    assert [(f.service, f.action) for f in report.files if f.path == str(secret)] == [
        ("authelia", "create")
    ]
    assert secret.stat().st_mode & 0o777 == 0o600
    digest = _users(site).read_text(encoding="utf-8").split("password: ")[1].split()[0]
    assert authelia.verify_password(secret.read_text(encoding="utf-8"), digest.strip("'\""))
    assert not [p for p in site.secrets_dir.iterdir() if p.name.startswith(".")]


def test_an_existing_secret_is_never_replaced(site: Site) -> None:
    secret = _secret(site)
    secret.parent.mkdir(parents=True)
    secret.write_text("the-users-own-password", encoding="utf-8")
    os.chmod(secret, 0o600)
    report = generate_all(site)
    assert secret.read_text(encoding="utf-8") == "the-users-own-password"
    assert str(secret) not in [f.path for f in report.files]
    text = _users(site).read_text(encoding="utf-8")
    digest = text.split("password: ")[1].split()[0].strip("'\"")
    assert authelia.verify_password("the-users-own-password", digest)


def test_a_secret_that_appears_meanwhile_is_kept_and_nothing_is_written(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = authelia.generate

    def racing(*args: object, **kwargs: object) -> list[object]:
        files = real(*args, **kwargs)  # type: ignore[arg-type]
        _secret(site).parent.mkdir(parents=True, exist_ok=True)
        _secret(site).write_text("made-by-another-run", encoding="utf-8")
        return files

    monkeypatch.setattr(authelia, "generate", racing)
    with pytest.raises(OperationFailed, match="appeared"):
        generate_all(site)
    assert _secret(site).read_text(encoding="utf-8") == "made-by-another-run"
    assert not site.data_root.exists()


def test_a_dry_run_lists_the_secret_and_makes_nothing(site: Site) -> None:
    report = generate_all(site, dry_run=True)
    assert str(_secret(site)) in [f.path for f in report.files if f.action == "create"]
    assert not site.secrets_dir.exists()
