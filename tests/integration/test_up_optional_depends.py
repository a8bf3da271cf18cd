"""`depends_on: {X: {condition: service_healthy, required: false}}` with X failing, on the
real engine. Measured with the real Compose (v2.40.3, the stand-in image): `docker compose
up -d` starts X, waits for it, logs 'optional dependency "x" failed to start: container …
is unhealthy' (or 'exited (3)') as a warning, starts the dependent anyway and exits 0.
`up` now does the same: the optional dependent starts once X has failed, a required one
stays blocked, and `up` still fails (X is not healthy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.deploy.up import up
from testkit.sites import up_site

pytestmark = pytest.mark.integration
NEVER = {"test": ["CMD", "false"], "interval": "1s", "timeout": "1s", "retries": 2}


def test_a_failed_optional_dependency_does_not_hold_back_its_dependent(
    tmp_path: Path,
    standin_image: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    soft = {"sick": {"condition": "service_healthy", "required": False}}
    hard = {"sick": {"condition": "service_healthy"}}
    stacks = {
        "media": {
            "services": {
                "sick": {"healthcheck": NEVER},
                "soft": {"depends_on": soft},
                "hard": {"depends_on": hard},
            }
        }
    }
    site = Site.load(up_site(tmp_path / "site", stacks))
    result = up(site, timeout=60)
    runs = {r.service: r for r in result.services}
    assert runs["sick"].state == "unhealthy"
    assert runs["hard"].state == "blocked" and runs["hard"].blocked_by == "sick"
    assert runs["soft"].state == "healthy", runs["soft"].to_data()
    assert "started without sick" in runs["soft"].detail
    assert not result.ok and [r.service for r in result.failed] == ["sick"]
