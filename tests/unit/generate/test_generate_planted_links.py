"""generate never writes through a symlink planted inside a folder a container can write:
Home Assistant owns DATA/homeassistant (its `.storage` too), and a link there pointing
elsewhere on the host would turn homestack's root write into one anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.errors import OperationFailed
from homestack.generate import generate_all


def test_a_storage_folder_linked_elsewhere_is_refused_and_nothing_lands_there(
    site: Site, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    storage = site.data_root / "homeassistant" / ".storage"
    storage.parent.mkdir(parents=True, exist_ok=True)
    storage.symlink_to(elsewhere)
    with pytest.raises(OperationFailed, match=r"\.storage.*symlink") as raised:
        generate_all(site)
    assert "nothing was changed" in raised.value.message
    assert list(elsewhere.iterdir()) == []
    assert storage.is_symlink()


def test_a_config_subfolder_linked_elsewhere_is_refused(site: Site, tmp_path: Path) -> None:
    generate_all(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = site.data_root / "config"
    linked = next(p for p in config.rglob("*") if p.is_dir() and p.parent != config)
    files = sorted(p.name for p in linked.iterdir())
    for child in linked.iterdir():
        child.unlink()
    linked.rmdir()
    linked.symlink_to(elsewhere)
    with pytest.raises(OperationFailed, match="symlink"):
        generate_all(site)
    assert files and list(elsewhere.iterdir()) == []
