"""Resolve once, then act (issue 16, part 5): `up` (a stand-in rehearsal, on a real engine)
and `down` read each service's settings one time, whatever phases they pass through (the
stand-in override, DATA folders and volumes, secrets, host ports). Before, a service with a
`user:` and a published port had them re-derived five times in one `up`."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.deploy.down import down
from homestack.deploy.up import up
from testkit.resolutions import count_resolutions
from testkit.sites import up_site

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_up_and_down_resolve_each_service_once(
    tmp_path: Path, standin_image: str, engine_cleanup: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    root = up_site(
        tmp_path / "site",
        {
            "essentials": {"services": {"door": {}}},
            "ai": {"depends_on": ["essentials"], "services": {"app": {"secret": True}}},
        },
    )
    # the shapes that made each phase interpolate again: a `user:` of variables, a port
    app = root / "ai-stack" / "services" / "app.docker-compose.yaml"
    doc = json.loads(app.read_text())
    doc["services"]["app"]["user"] = "${PUID:-1000}:${PGID:-1000}"
    doc["services"]["app"]["ports"] = [f"127.0.0.1:${{APP_PORT:-{_free_port()}}}:8080"]
    app.write_text(json.dumps(doc, indent=2))

    site = Site.load(root)
    with count_resolutions() as counts:
        result = up(site, stand_in=standin_image)
    assert result.ok, result
    assert dict(counts) == {"door": 1, "app": 1}

    with count_resolutions() as counts:
        down(Site.load(root))
    assert dict(counts) == {"door": 1, "app": 1}
