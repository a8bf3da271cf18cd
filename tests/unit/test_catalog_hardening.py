"""Every shipped service caps its processes and either runs with a read-only root
filesystem or says in its file why it cannot (issue 13, docs/security.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from homestack.catalog import Site

REPO = Path(__file__).resolve().parents[2]
SITE = Site.load(REPO)
SERVICES = sorted(SITE.services(), key=lambda s: s.id)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.id)
def test_pids_are_limited(service: object) -> None:
    from homestack.catalog import Service

    assert isinstance(service, Service)
    limits = service.compose["deploy"]["resources"]["limits"]
    assert isinstance(limits.get("pids"), int) and 0 < limits["pids"] <= 8192


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.id)
def test_read_only_or_the_reason_it_is_not(service: object) -> None:
    from homestack.catalog import Service

    assert isinstance(service, Service)
    if service.compose.get("read_only") is True:
        return
    text = service.file.read_text(encoding="utf-8")
    reason = re.search(r"(?m)^    # read_only: not set: (.{20,})$", text)
    assert reason, f"{service.file.name}: read_only: true, or a comment saying why not"


def test_the_stateless_go_services_run_read_only() -> None:
    read_only = {s.id for s in SERVICES if s.compose.get("read_only") is True}
    assert {"socket-proxy", "blackbox-exporter", "dozzle", "prometheus", "caddy"} <= read_only
