"""ComposeProject.environment() is Site.compose_environ(): the derived settings (absolute
DATA_ROOT and SECRETS_DIR, HOMESTACK_ROOT, HOMESTACK_PREFIX from the root .env) win over the
env files, the rest of the process environment passes through. A refactor pin: it held
before environment() called compose_environ, and must keep holding."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.engine.compose import ComposeProject
from testkit.sites import make_site


def test_compose_project_environment_is_the_sites_compose_environ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOMESTACK_PREFIX", raising=False)
    monkeypatch.delenv("DATA_ROOT", raising=False)
    monkeypatch.delenv("SECRETS_DIR", raising=False)
    monkeypatch.setenv("HOMESTACK_TEST_PASSTHROUGH", "kept")
    root = make_site(tmp_path / "site")
    (root / ".env").write_text(
        "HOMESTACK_PREFIX=hsx_\nDATA_ROOT=./data-here\nSECRETS_DIR=/srv/keys\n", encoding="utf-8"
    )
    site = Site.load(root)
    env = ComposeProject(site, site.stacks["ai"]).environment()
    assert env == site.compose_environ()
    assert env["HOMESTACK_PREFIX"] == "hsx_"
    assert env["DATA_ROOT"] == str((root / "data-here").resolve())
    assert env["SECRETS_DIR"] == "/srv/keys"
    assert env["HOMESTACK_ROOT"] == str(root.resolve())
    assert env["HOMESTACK_TEST_PASSTHROUGH"] == "kept"


def test_process_environment_wins_for_the_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", "fromproc_")
    root = make_site(tmp_path / "site")
    (root / ".env").write_text("HOMESTACK_PREFIX=fromfile_\n", encoding="utf-8")
    site = Site.load(root)
    env = ComposeProject(site, site.stacks["ai"]).environment()
    assert env["HOMESTACK_PREFIX"] == "fromproc_" == site.prefix
