"""doctor on a published port outside 1-65535: a failed check with the fix, not an internal
error (socket.bind raised OverflowError)."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.observe import doctor_net
from testkit.sites import make_site, service_yaml


@pytest.mark.parametrize(
    ("port", "fix"),
    [
        ('"99999:8443"', "Change the published port in proxy.docker-compose.yaml."),
        ('"${BIND_ADDRESS}:${PROXY_PORT:-70000}:443"', "Set PROXY_PORT to a free port in .env."),
    ],
)
def test_a_port_out_of_range_is_a_failed_check(tmp_path: Path, port: str, fix: str) -> None:
    proxy = service_yaml("proxy", "essentials", body=f"ports:\n  - {port}")
    site = Site.load(
        make_site(tmp_path, {"essentials-stack/services/proxy.docker-compose.yaml": proxy})
    )
    checks = doctor_net.check_ports(site, site.services(enabled_only=True), None)
    check = next(c for c in checks if c.name == "ports proxy")
    assert check.status == "fail"
    assert "is not a port (1-65535)" in check.detail
    assert check.fix == fix
