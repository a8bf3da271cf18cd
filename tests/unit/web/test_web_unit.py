"""`homestack install dashboard`: the systemd unit, written where asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.cli.app import run
from testkit.sites import write_tree


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HOMESTACK_PREFIX", raising=False)
    return write_tree(
        tmp_path / "site",
        {"base.docker-compose.yaml": "networks: {}\n", ".env": "DATA_ROOT=./DATA\n"},
    )


def test_install_dashboard_writes_a_unit_that_runs_serve_for_this_site(
    root: Path, tmp_path: Path
) -> None:
    target = tmp_path / "units"
    target.mkdir()
    assert run(["--site", str(root), "install", "dashboard", "--target", str(target)]) == 0
    unit = (target / "homestack-dashboard.service").read_text()
    assert f"--site {root} serve" in unit
    assert "WantedBy=multi-user.target" in unit and "NoNewPrivileges=yes" in unit
    # a second run changes nothing
    before = (target / "homestack-dashboard.service").stat().st_mtime_ns
    assert run(["--site", str(root), "install", "dashboard", "--target", str(target)]) == 0
    assert (target / "homestack-dashboard.service").stat().st_mtime_ns == before


def test_a_bad_port_is_refused_before_anything_is_written(root: Path, tmp_path: Path) -> None:
    (root / ".env").write_text("DATA_ROOT=./DATA\nDASHBOARD_PORT=http\n")
    target = tmp_path / "units"
    target.mkdir()
    assert run(["--site", str(root), "install", "dashboard", "--target", str(target)]) == 2
    assert not list(target.iterdir())
