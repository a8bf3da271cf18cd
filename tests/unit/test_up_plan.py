"""Pure parts of `up`: the stand-in override, scheduling priority, the hash-cache key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.deploy.projects import fingerprint, select
from homestack.deploy.standin import override_text, service_ports
from homestack.deploy.up import _depths
from homestack.resolved import resolve
from testkit.sites import up_site


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    monkeypatch.setenv("HOMESTACK_PREFIX", "unit_")
    root = up_site(
        tmp_path / "site",
        {
            "essentials": {"services": {"db": {"secret": True}}},
            "ai": {"depends_on": ["essentials"], "services": {"app": {"needs": ["db"]}}},
        },
    )
    return Site.load(root)


def test_depth_counts_the_longest_chain_waiting_for_a_service() -> None:
    needs = {"a": set(), "b": {"a"}, "c": {"b"}, "d": {"a"}, "e": set()}
    assert _depths(needs) == {"a": 2, "b": 1, "c": 0, "d": 0, "e": 0}


def test_standin_override_replaces_image_and_drops_what_it_cannot_honour(site: Site) -> None:
    stack = site.stacks["essentials"]
    db = stack.services["db"]
    db.compose["ports"] = ["127.0.0.1:5432:5432", "53:53/udp"]
    db.compose["user"] = "1000:1000"
    db.compose["cap_drop"] = ["ALL"]
    text = override_text(site, stack, [db], "homestack/standin:local", {"db": 2.5})
    assert '"homestack/standin:local"' in text
    assert "httpd -p 8080 -h /etc" in text  # the web port
    assert "httpd -p 5432 -h /etc" in text
    assert "-p 53 " not in text  # UDP is not stood in: busybox nc has no -u
    assert "sleep 2.5" in text
    for key in ("user: !reset null", "cap_drop: !reset []", "ports: !reset []"):
        assert key in text
    assert "secrets" not in text  # secrets, volumes and networks stay as the service has them
    assert service_ports(resolve(site, [db]).of(db)).tcp[:2] == (8080, 5432)


def test_fingerprint_changes_with_a_file_or_a_variable_it_uses(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = select(site, ["essentials"], overlays=False).projects["essentials"]
    first = fingerprint(project)
    assert fingerprint(project) == first
    monkeypatch.setenv("DATA_ROOT", "/elsewhere")  # the volume's device uses it
    reloaded = select(Site.load(site.root), ["essentials"], overlays=False)
    assert fingerprint(reloaded.projects["essentials"]) != first
    monkeypatch.delenv("DATA_ROOT")
    service = site.root / "essentials-stack" / "services" / "db.docker-compose.yaml"
    doc = json.loads(service.read_text())
    doc["services"]["db"]["environment"] = {"X": "1"}
    service.write_text(json.dumps(doc))
    assert fingerprint(project) != first


def test_stand_in_takes_an_optional_image_among_the_names() -> None:
    from homestack.cli.deploy_cmds import _delays, _split_image

    assert _split_image(["media"], False, None) == (["media"], None)
    assert _split_image(["media"], True, None) == (["media"], "")
    assert _split_image(["busybox:1.36", "media"], True, None) == (["media"], "busybox:1.36")
    assert _split_image(None, True, "me/img:2") == (None, "me/img:2")
    assert _delays(["2", "ollama=5"]) == {"*": 2.0, "ollama": 5.0}
