"""A generated file the user replaced with a symbolic link is put back as that link when
generate rolls back: the rollback removed it (it was taken for a file new in this run), and
the run still said 'nothing was changed'."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.errors import OperationFailed
from homestack.generate import generate_all
from homestack.stackfile import toggle


def test_a_linked_file_is_put_back_as_the_link(site: Site, tmp_path: Path) -> None:
    generate_all(site)
    toggle(site, ["blocky"], enable=True)  # Caddyfile, targets, homepage: update
    site = Site.load(site.root)
    data = site.data_root
    caddyfile = data / "config/caddy/Caddyfile"
    kept = tmp_path / "my-configs" / "Caddyfile"
    kept.parent.mkdir()
    kept.write_text("# my own Caddyfile\n", encoding="utf-8")
    caddyfile.unlink()
    caddyfile.symlink_to(kept)
    services = data / "config/homepage/services.yaml"  # replaced after the Caddyfile
    services.unlink()
    services.mkdir()  # a folder in its place: the rename onto it fails
    with pytest.raises(OperationFailed, match="nothing was changed"):
        generate_all(site)
    assert caddyfile.is_symlink()
    assert os.readlink(caddyfile) == str(kept)
    assert kept.read_text(encoding="utf-8") == "# my own Caddyfile\n"
    assert not [p for p in data.rglob(".*") if p.suffix in (".tmp", ".old")]
