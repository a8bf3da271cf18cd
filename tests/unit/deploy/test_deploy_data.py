"""install data on real folders (the volume check needs no engine when none is declared)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.deploy import ensure_data
from homestack.deploy.data import declared_volume
from homestack.errors import BadInput
from testkit.sites import service_file, tiny_site

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")


def _site(tmp_path: Path, env: str = "PUID=4321\nPGID=4322\n", volume: bool = False) -> Site:
    tiny_site(
        tmp_path / "site",
        {"app": service_file("app", volume=volume), "db": service_file("db", volume=volume)},
        env=env,
    )
    return Site.load(tmp_path / "site")


@root_only
def test_folders_created_owned_by_puid_pgid_then_unchanged(tmp_path: Path) -> None:
    site = _site(tmp_path)
    report = ensure_data(site, site.services(enabled_only=True))
    data = site.data_root
    for service in ("app", "db"):
        for folder in (data / service, data / "config" / service, data / "backups" / service):
            assert folder.is_dir()
            assert (folder.stat().st_uid, folder.stat().st_gid) == (4321, 4322)
            assert str(folder) in report.created
    assert stat.S_IMODE((data / "backups" / "app").stat().st_mode) == 0o700
    # no other local user reads a service's data or config (its databases, its keys)
    assert stat.S_IMODE((data / "app").stat().st_mode) == 0o750
    assert stat.S_IMODE((data / "config" / "app").stat().st_mode) == 0o750
    assert report.owner == "4321:4322" and report.changed
    again = ensure_data(site, site.services(enabled_only=True))
    assert not again.changed and again.created == []
    assert len(again.unchanged) == 6


@root_only
def test_existing_folder_with_another_owner_is_reported_not_chowned(tmp_path: Path) -> None:
    site = _site(tmp_path)
    foreign = site.data_root / "app"
    foreign.mkdir(parents=True)
    os.chown(foreign, 999, 999)
    report = ensure_data(site, site.services(enabled_only=True))
    assert report.foreign == [str(foreign)]
    assert (foreign.stat().st_uid, foreign.stat().st_gid) == (999, 999)
    row = next(f for f in report.folders if f.path == str(foreign))
    assert row.action == "foreign-owner" and "chown -R 4321:4322" in row.detail


@root_only
def test_install_data_does_not_say_nothing_to_change_over_foreign_owners(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After PUID changed, every folder has the old owner: 'data: nothing to change' read as
    if all was well (found living with a site)."""
    site = _site(tmp_path)
    assert run(["--site", str(site.root), "install", "data"]) == 0
    for folder in site.data_root.rglob("*"):
        os.chown(folder, 999, 999)
    capsys.readouterr()
    assert run(["--site", str(site.root), "install", "data"]) == 0
    out = capsys.readouterr().out
    assert "nothing to change" not in out
    assert "data: 6 folders left with another owner (above)" in out
    assert "is owned by 999:999:" in out


def test_dry_run_creates_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = _site(tmp_path)
    code = run(["--site", str(site.root), "install", "data", "--dry-run", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["dry_run"] is True and str(site.data_root / "app") in data["created"]
    assert not site.data_root.exists()
    assert run(["--site", str(site.root), "install", "data", "--dry-run"]) == 0
    assert "would create" in capsys.readouterr().out


def test_bad_puid_is_bad_input(tmp_path: Path) -> None:
    site = _site(tmp_path, env="PUID=me\n")
    with pytest.raises(BadInput, match="PUID=me"):
        ensure_data(site, site.services(enabled_only=True))


def test_a_file_where_a_folder_belongs_is_an_error(tmp_path: Path) -> None:
    site = _site(tmp_path)
    (site.data_root / "config").mkdir(parents=True)
    (site.data_root / "config" / "db").write_text("oops")
    with pytest.raises(BadInput, match="not a folder"):
        ensure_data(site, site.services(enabled_only=True))


def test_declared_volume_resolves_prefix_and_device(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", "hstunit_")
    site = _site(tmp_path, volume=True)
    found = declared_volume(site, site.service("app"))
    assert found is not None
    name, definition = found
    assert name == "hstunit_ai_app_data"
    assert definition["driver_opts"]["device"] == str(site.data_root / "app")


@root_only
def test_data_and_config_follow_the_containers_user_backups_stay_puid(tmp_path: Path) -> None:
    tiny_site(
        tmp_path / "site",
        {
            "rootapp": service_file("rootapp", meta="uid: 0", volume=False),
            "nobody": service_file("nobody", meta="uid: 65534\ngid: 65533", volume=False),
        },
        env="PUID=4321\nPGID=4322\n",
    )
    site = Site.load(tmp_path / "site")
    ensure_data(site, site.services(enabled_only=True))
    data = site.data_root

    def owner(path: Path) -> tuple[int, int]:
        return path.stat().st_uid, path.stat().st_gid

    assert owner(data / "rootapp") == (0, 0)
    assert owner(data / "config" / "rootapp") == (0, 0)
    assert owner(data / "nobody") == (65534, 65533)
    assert owner(data / "backups" / "nobody") == (4321, 4322)


@root_only
def test_owner_follows_a_numeric_compose_user_after_interpolation(tmp_path: Path) -> None:
    tiny_site(
        tmp_path / "site",
        {"app": service_file("app", body='user: "${PUID:-1000}:${PGID:-1000}"', volume=False)},
        env="PUID=4321\nPGID=4322\n",
    )
    site = Site.load(tmp_path / "site")
    service = site.service("app")
    assert site.container_user(service) == (4321, 4322)
    ensure_data(site, [service])
    assert (site.data_root / "config" / "app").stat().st_uid == 4321
