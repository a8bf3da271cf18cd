"""generate writes its files as one change: a failure at any file leaves every file as it
was (the ones already replaced get their old bytes back; new ones are removed)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.errors import HomestackError, OperationFailed
from homestack.generate import extras, generate_all
from homestack.stackfile import toggle


def _snapshot(data: Path) -> dict[str, bytes]:
    return {str(p.relative_to(data)): p.read_bytes() for p in data.rglob("*") if p.is_file()}


@pytest.fixture
def changed_site(site: Site) -> Site:
    """A site generated once, then changed so that several files must be rewritten."""
    generate_all(site)
    toggle(site, ["blocky"], enable=True)  # Caddyfile, targets, homepage: update; blocky: new
    return Site.load(site.root)


def test_a_renderer_failing_late_writes_nothing(
    changed_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(changed_site.data_root)

    def broken(*_: object) -> list[object]:
        raise OperationFailed("planted failure in the blocky renderer")

    monkeypatch.setattr(extras, "blocky", broken)
    with pytest.raises(OperationFailed, match="planted"):
        generate_all(changed_site)
    assert _snapshot(changed_site.data_root) == before


def test_a_target_that_cannot_be_replaced_puts_back_the_files_before_it(
    changed_site: Site,
) -> None:
    data = changed_site.data_root
    services = data / "config/homepage/services.yaml"  # third of four files to change
    services.unlink()
    services.mkdir()  # a folder in its place: the rename onto it fails
    before = _snapshot(data)
    with pytest.raises(OperationFailed) as caught:
        generate_all(changed_site)
    assert caught.value.file == str(services)
    assert "nothing" in caught.value.message  # says the set was left as it was
    assert _snapshot(data) == before  # Caddyfile and targets back, blocky's file not made
    assert not (data / "config/blocky").exists()  # nor the folder made for it
    assert services.is_dir()


def test_a_disk_error_mid_way_restores_every_replaced_file(
    changed_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = changed_site.data_root
    before = _snapshot(data)
    modes = {p: p.stat().st_mode for p in data.rglob("*") if p.is_file()}
    real_replace = os.replace
    calls: list[str] = []

    def failing_third(src: object, dst: object) -> None:
        calls.append(str(dst))
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", failing_third)
    with pytest.raises(HomestackError) as caught:
        generate_all(changed_site)
    monkeypatch.setattr(os, "replace", real_replace)
    assert "No space left" in caught.value.message
    assert _snapshot(data) == before
    assert {p: p.stat().st_mode for p in modes} == modes
    # and the next run, with the disk fixed, writes the whole set
    report = generate_all(Site.load(changed_site.root))
    assert report.changed
    assert "dns." in (data / "config/caddy/Caddyfile").read_text(encoding="utf-8")
    assert (data / "config/blocky/config.yml").is_file()
    assert not [p for p in data.rglob(".*") if p.is_file() and p.suffix in (".tmp", ".old")]


def test_a_rendered_file_that_does_not_parse_stops_the_run_before_any_write(
    changed_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    from homestack.generate import homepage
    from homestack.generate.files import GeneratedFile

    before = _snapshot(changed_site.data_root)
    real = homepage.generate

    def broken_yaml(view: object) -> list[GeneratedFile]:
        files = real(view)  # type: ignore[arg-type]
        bad = files[0]
        return [GeneratedFile(bad.service, bad.path, "a: [unclosed\n"), *files[1:]]

    monkeypatch.setattr(homepage, "generate", broken_yaml)
    with pytest.raises(OperationFailed) as caught:
        generate_all(changed_site)
    assert "nothing was written" in caught.value.message
    assert caught.value.service == "homepage"
    assert _snapshot(changed_site.data_root) == before
