"""The stand-in's dump mapping: only a `--stand-in` container (its label) changes which dump
command a backup runs; a real container always runs the catalog's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from homestack.backup.run import _dump_command
from homestack.catalog import Site
from homestack.deploy.standin import DUMP_LABEL, override_text
from homestack.engine.model import Container
from homestack.errors import OperationFailed
from testkit.sites import copy_catalog


def _container(labels: dict[str, str]) -> Container:
    return Container(
        id="c0ffee",
        name="x-homeassistant-1",
        state="running",
        started_at="2026-01-01T00:00:00Z",
        labels=labels,
    )


def test_the_override_labels_the_dump_services_with_a_busybox_dump(tmp_path: Path) -> None:
    site = Site.load(copy_catalog(tmp_path / "site"))
    stack = site.stacks["ai"]
    text = override_text(site, stack, stack.enabled, "homestack/standin:local")
    assert "$" not in text.split(DUMP_LABEL, 1)[1].splitlines()[0]  # nothing to interpolate
    services = YAML().load(text)["services"]  # round trip: keeps !reset tags
    labels = services["homeassistant"]["labels"]
    command = json.loads(labels[DUMP_LABEL])
    assert command[:2] == ["sh", "-c"] and "python3" in command[2]
    assert all(DUMP_LABEL not in s["labels"] for n, s in services.items() if n != "homeassistant")


def test_a_real_container_runs_the_catalogs_dump_a_stand_in_its_own(tmp_path: Path) -> None:
    site = Site.load(copy_catalog(tmp_path / "site"))
    service = site.service("homeassistant")
    spec = service.meta.backup if service.meta else None
    assert spec is not None and spec.dump_command
    real, notes = _dump_command(service, spec, _container({"org.homestack.standin": "1"}))
    assert real == spec.dump_command and notes == []
    assert _dump_command(service, spec, None) == (spec.dump_command, [])
    standin = json.dumps(["sh", "-c", "echo dump"])
    command, notes = _dump_command(service, spec, _container({DUMP_LABEL: standin}))
    assert command == ["sh", "-c", "echo dump"]
    assert "instead of python3" in notes[0]
    with pytest.raises(OperationFailed, match="not a JSON list"):
        _dump_command(service, spec, _container({DUMP_LABEL: "python3"}))
