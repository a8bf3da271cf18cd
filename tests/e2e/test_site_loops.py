"""A site path (--site, HOMESTACK_SITE) that is a symbolic-link loop is bad input naming it,
with the fix; DATA_ROOT or SECRETS_DIR under a loop does not stop the site from loading
(Path.resolve raised RuntimeError "Symlink loop" on Python 3.11: an internal error)."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from testkit.cli import cli_output as _hs
from testkit.sites import make_site


@pytest.fixture
def site_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HOMESTACK_SITE", raising=False)
    monkeypatch.setenv("HOMESTACK_NO_CACHE", "1")
    return make_site(tmp_path / "site")


def _loop(tmp_path: Path) -> Path:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    return tmp_path / "a"


def test_site_option_that_is_a_symlink_loop_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOMESTACK_SITE", raising=False)
    loop = _loop(tmp_path)
    code, said = _hs(capsys, "--site", str(loop), "ls")
    assert code == 2
    assert f"{loop} is not a homestack site (a symbolic-link loop)" in said
    assert "fix:" in said and "internal error" not in said


def test_homestack_site_that_is_a_symlink_loop_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = _loop(tmp_path)
    monkeypatch.setenv("HOMESTACK_SITE", str(loop))
    code, said = _hs(capsys, "ls")
    assert code == 2
    assert "(a symbolic-link loop)" in said and "fix:" in said


def test_install_all_with_a_symlink_loop_site_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOMESTACK_SITE", raising=False)
    loop = _loop(tmp_path)
    code, said = _hs(capsys, "--site", str(loop), "install", "all", "--dry-run")
    assert code == 2
    assert "(a symbolic-link loop)" in said


def test_data_root_that_is_a_symlink_loop_does_not_break_reading_the_site(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site_root / "loop").symlink_to(site_root / "loop")
    (site_root / ".env").write_text("DATA_ROOT=loop/data\nSECRETS_DIR=loop\n", encoding="utf-8")
    site = Site.load(site_root)
    assert site.data_root == site_root / "loop" / "data"
    assert site.secrets_dir == site_root / "loop"
    code, said = _hs(capsys, "--site", str(site_root), "ls")
    assert code == 0, said
