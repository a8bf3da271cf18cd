"""`up`/`down` on a real engine: order, health gates, failures, idempotency, secrets."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.context import Context
from homestack.deploy.down import down
from homestack.deploy.up import REMOVED, raise_for, up
from homestack.errors import OperationFailed
from homestack.events import Event, ServiceChanged
from testkit.sites import up_site

pytestmark = pytest.mark.integration
# failing checks inside start_period do not count: a container with it stays "starting"
STUCK = {"test": ["CMD", "false"], "interval": "1s", "start_period": "120s", "retries": 1}

THREE_STACKS = {
    "essentials": {"services": {"db": {"secret": True}}},
    "ai": {
        "depends_on": ["essentials"],
        "services": {"app": {"needs": ["db"]}, "worker": {"needs": ["app"], "critical": False}},
    },
    "media": {"services": {"web": {"needs": ["app"]}}},
}


def _containers(prefix: str) -> dict[str, str]:
    """container name → id for everything under the prefix."""
    done = subprocess.run(
        ["docker", "ps", "-aq", "--no-trunc", "--filter", f"name=^/?{prefix}"],
        capture_output=True,
        text=True,
        check=True,
    )
    ids = done.stdout.split()
    if not ids:
        return {}
    raw = json.loads(
        subprocess.run(
            ["docker", "inspect", *ids], capture_output=True, text=True, check=True
        ).stdout
    )
    return {c["Name"].lstrip("/"): c["Id"] for c in raw}


def _site(tmp_path: Path, prefix: str, monkeypatch: pytest.MonkeyPatch, stacks: dict) -> Site:  # type: ignore[type-arg]
    monkeypatch.setenv("HOMESTACK_PREFIX", prefix)
    root = up_site(tmp_path / "site", stacks)
    return Site.load(root)


def test_up_orders_by_health_is_idempotent_and_down_leaves_nothing(
    tmp_path: Path,
    standin_image: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prefix = engine_cleanup
    site = _site(tmp_path, prefix, monkeypatch, THREE_STACKS)

    first = up(site)
    assert first.ok, first.to_data()
    runs = {r.service: r for r in first.services}
    assert {r.state for r in runs.values()} == {"healthy"}
    # each service was launched only after everything it needs was healthy
    for service, needs in (("app", "db"), ("worker", "app"), ("web", "app")):
        assert runs[service].launched_at is not None
        assert runs[needs].ready_at is not None
        assert runs[service].launched_at >= runs[needs].ready_at

    secret = site.secrets_dir / "db_password"
    value = secret.read_text().strip()
    secret_hash = hashlib.sha256(secret.read_bytes()).hexdigest()
    before = _containers(prefix)
    assert len(before) == 4

    # the secret is a file in the container, never an environment value
    inspect = subprocess.run(
        ["docker", "inspect", *before.values()], capture_output=True, text=True, check=True
    ).stdout
    assert value not in inspect
    cat = subprocess.run(
        ["docker", "exec", f"{prefix}essentials-db-1", "cat", "/run/secrets/db_password"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert cat.stdout.strip() == value

    second = up(Site.load(site.root))
    assert second.ok
    assert not second.changed
    assert "nothing to do" in second.summary()
    assert {r.action for r in second.services} == {"none"}
    assert second.secrets["created"] == []
    assert second.networks["created"] == []
    assert _containers(prefix) == before
    assert hashlib.sha256(secret.read_bytes()).hexdigest() == secret_hash

    # change one service: only it is recreated (Compose's config hash, not a guess)
    web_file = site.root / "media-stack" / "services" / "web.docker-compose.yaml"
    doc = json.loads(web_file.read_text())
    doc["services"]["web"]["environment"] = {"GREETING": "hello"}
    web_file.write_text(json.dumps(doc))
    third = up(Site.load(site.root))
    assert {r.service: r.action for r in third.services} == {
        "db": "none",
        "app": "none",
        "worker": "none",
        "web": "recreate",
    }
    after = _containers(prefix)
    assert after[f"{prefix}media-web-1"] != before[f"{prefix}media-web-1"]
    assert after[f"{prefix}ai-app-1"] == before[f"{prefix}ai-app-1"]

    gone = down(Site.load(site.root))
    assert gone.left == []
    assert _containers(prefix) == {}
    assert secret.is_file()  # down keeps secrets and DATA
    assert (site.data_root / "db").is_dir()


def test_failed_dependency_blocks_dependents_and_rollback_removes_this_run(
    tmp_path: Path,
    standin_image: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prefix = engine_cleanup
    never = {
        "test": ["CMD", "false"],
        "interval": "1s",
        "timeout": "1s",
        "retries": 2,
    }
    stacks = {
        "essentials": {
            "services": {
                "crashes": {"script": "echo starting crashes; exit 1"},
                "sick": {"healthcheck": never},
                "fine": {},
            }
        },
        "ai": {
            "services": {
                "needs-crash": {"needs": ["crashes"]},
                "needs-sick": {"needs": ["sick"]},
                "needs-fine": {"needs": ["fine"]},
            }
        },
    }
    site = _site(tmp_path, prefix, monkeypatch, stacks)
    result = up(site, ["ai"], rollback=True, timeout=60)
    runs = {r.service: r for r in result.services}
    assert not result.ok
    assert runs["crashes"].state == "exited"
    assert "code 1" in runs["crashes"].detail
    assert any("starting crashes" in line for line in runs["crashes"].log_tail)
    assert runs["sick"].state == "unhealthy"
    assert runs["needs-crash"].state == "blocked"
    assert runs["needs-crash"].blocked_by == "crashes"
    assert runs["needs-sick"].state == "blocked"
    assert runs["needs-fine"].state == "healthy"  # independent branches still come up
    assert sorted(result.rolled_back) == sorted(runs)
    # nothing that depends on a failed service was ever created; rollback removed the rest
    assert _containers(prefix) == {}


def test_a_service_never_healthy_times_out_and_blocks_its_dependents(
    tmp_path: Path,
    standin_image: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stacks = {
        "media": {"services": {"stuck": {"healthcheck": STUCK}, "after": {"needs": ["stuck"]}}}
    }
    site = _site(tmp_path, engine_cleanup, monkeypatch, stacks)
    result = up(site, timeout=4)
    runs = {r.service: r for r in result.services}
    assert runs["stuck"].state == "timeout"
    assert "not healthy after 4s" in runs["stuck"].detail
    assert runs["after"].state == "blocked"
    assert f"{engine_cleanup}media-after-1" not in _containers(engine_cleanup)
    assert f"{engine_cleanup}media-stuck-1" in _containers(engine_cleanup)  # left to inspect


def test_up_without_image_and_registry_names_the_image(
    tmp_path: Path,
    docker_engine: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from homestack.errors import OperationFailed

    # a registry on loopback that is not there: the pull fails without leaving this machine
    image = "127.0.0.1:5999/homestack/not-here:1.0"
    site = _site(
        tmp_path, engine_cleanup, monkeypatch, {"media": {"services": {"x": {"image": image}}}}
    )
    with pytest.raises(OperationFailed) as caught:
        up(site)
    assert image in caught.value.message
    assert "--stand-in" in (caught.value.hint or "")
    assert _containers(engine_cleanup) == {}


def test_a_container_removed_by_hand_while_starting_fails_at_once(
    tmp_path: Path,
    standin_image: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # it stays "starting" (STUCK) until removed; up waited for it until --timeout,
    # saying "no container after 300s"
    stacks = {"media": {"services": {"gone": {"healthcheck": STUCK}}}}
    site = _site(tmp_path, engine_cleanup, monkeypatch, stacks)
    removed: list[str] = []

    def remove_when_started(event: Event) -> None:
        if isinstance(event, ServiceChanged) and event.run.state == "starting" and not removed:
            name = f"{engine_cleanup}media-gone-1"
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=True)
            removed.append(name)

    result = up(site, timeout=60, ctx=Context.for_site(site, sink=remove_when_started))
    gone = result.services[0]
    assert removed
    assert (gone.state, gone.detail) == ("failed", REMOVED)
    with pytest.raises(OperationFailed) as raised:
        raise_for(result)
    assert "homestack up` again" in (raised.value.hint or "")
