"""Resolve once, then act (issue 16, part 5): `plan` reads each service's settings, as up
will use them, one time (tests/integration/test_resolve_once_up.py counts `up` and `down`)."""

from __future__ import annotations

from pathlib import Path

from homestack.catalog import Site
from homestack.plan import make_plan
from homestack.resolved import resolve
from testkit.resolutions import count_resolutions
from testkit.sites import copy_catalog


def test_plan_resolves_each_service_once(tmp_path: Path) -> None:
    site = Site.load(copy_catalog(tmp_path / "site"))
    enabled = {s.id for s in site.services(enabled_only=True)}
    with count_resolutions() as counts:
        make_plan(site)
    assert dict(counts) == dict.fromkeys(enabled, 1)


def test_the_resolved_service_is_what_the_phases_used_to_derive(tmp_path: Path) -> None:
    """Same answers as the per-phase code gave: the user (Site.container_user), the data
    volume's engine name and bind, the image."""
    site = Site.load(copy_catalog(tmp_path / "site"))
    services = site.services(enabled_only=True)
    resolved = resolve(site, services)
    volumes = 0
    for service in services:
        one = resolved.of(service)
        assert one.user == site.container_user(service)
        assert one.image
        assert "$" not in one.image
        if one.volume is None:  # a service without a data volume (homepage)
            continue
        volumes += 1
        assert one.volume[0] == site.prefix + service.volume_name
        device = one.volume[1]["driver_opts"]["device"]
        assert device == str(site.data_root / service.id)
    assert volumes > len(services) // 2
