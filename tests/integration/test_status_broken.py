"""`homestack status` when a file of the site cannot be read: the rest is still shown, and
the broken file is named (stderr, a flagged row, `problems` in --json) with the fix."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.observe.status import DISABLED_RUNNING, MISSING
from testkit.engine import (
    container_state,
    create_networks,
    new_prefix,
    remove_everything_named,
    start,
    wait_for,
)
from testkit.sites import running_site

pytestmark = pytest.mark.integration

LOOP = "command: ['sh', '-c', 'while true; do sleep 1; done']"
BAD = "ai-stack/services/bad.docker-compose.yaml"


@pytest.fixture
def site(tmp_path: Path, docker_engine: str) -> Iterator[Site]:
    prefix = new_prefix()
    yield running_site(
        tmp_path / "site",
        prefix,
        {
            "ai": {"good": (True, LOOP, ""), "bad": (True, LOOP, "")},
            "media": {"player": (True, LOOP, "")},
        },
    )
    remove_everything_named(prefix)


def _status(site: Site, capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(["--site", str(site.root), "status", *argv])
    out, err = capfd.readouterr()
    return code, out, err


def test_a_broken_service_file_is_named_and_the_rest_shown(
    site: Site, capfd: pytest.CaptureFixture[str]
) -> None:
    (site.root / BAD).write_text("services:\n  bad:\n    image: [unclosed\n")
    code, out, err = _status(site, capfd)
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert {"good", "bad", "player"} <= set(rows)
    assert "broken file" in rows["bad"] and "broken file" not in rows["good"]
    assert f"{BAD}:" in err
    assert "homestack validate" in err

    code, out, err = _status(site, capfd, "--json")
    data = json.loads(out)
    assert code == 0 and err == ""
    assert {"taken_at", "backups_known", "services", "problems"} <= set(data)
    by_service = {row["service"]: row for row in data["services"]}
    assert by_service["bad"]["broken_file"] == BAD
    assert by_service["bad"]["flag"] == MISSING  # the existing fields keep their meaning
    assert by_service["good"]["broken_file"] is None
    [problem] = data["problems"]
    assert problem["file"] == BAD and problem["service"] == "bad" and problem["stack"] == "ai"
    assert problem["rule"] == "yaml.syntax" and problem["line"]

    code, out, _ = _status(site, capfd, "player", "--json")  # asked about another service
    assert json.loads(out)["problems"] == []


def test_a_broken_stack_yaml_does_not_call_its_running_services_disabled(
    site: Site, capfd: pytest.CaptureFixture[str], standin_image: str
) -> None:
    create_networks(site.prefix, ["media-services"])
    start(site, "media", ["player"])
    assert wait_for(lambda: container_state(f"{site.prefix}media-player-1") == "running")
    (site.root / "media-stack" / "stack.yaml").write_text("services:\n  - player\n bad: [\n")
    code, out, _ = _status(site, capfd, "--json")
    assert code == 0
    data = json.loads(out)
    player = next(row for row in data["services"] if row["service"] == "player")
    assert player["state"] == "running"
    assert player["flag"] != DISABLED_RUNNING  # which services are enabled is not known
    assert player["broken_file"] == "media-stack/stack.yaml"
    assert [p["file"] for p in data["problems"]] == ["media-stack/stack.yaml"]
    assert {row["service"] for row in data["services"]} >= {"good", "bad"}


def test_a_broken_env_file_of_one_stack_does_not_stop_status(
    site: Site, capfd: pytest.CaptureFixture[str]
) -> None:
    (site.root / "ai-stack" / ".env").write_text("FOO BAR\n")
    code, out, err = _status(site, capfd)
    assert code == 0  # was 2: the error of one stack's .env, and no table at all
    assert "player" in out and "good" in out
    assert "ai-stack/.env:1" in err and "KEY=value" in err


@pytest.mark.parametrize(
    "text",
    [
        "services:\n  - bad\n",  # a list, not a mapping
        "services:\n  other:\n    image: x:1\n",  # another service's name
        "services:\n  bad: just text\n",
    ],
)
def test_a_service_file_that_does_not_define_its_service_is_named(
    site: Site, capfd: pytest.CaptureFixture[str], text: str
) -> None:
    # valid YAML, so the site loader passed it; status showed the service as merely missing
    (site.root / BAD).write_text(text)
    code, out, _ = _status(site, capfd, "--json")
    assert code == 0
    data = json.loads(out)
    bad = next(row for row in data["services"] if row["service"] == "bad")
    assert bad["broken_file"] == BAD
    [problem] = data["problems"]
    assert problem["file"] == BAD and problem["service"] == "bad"
    assert "services.bad" in problem["message"]


def test_a_service_file_that_is_a_symlink_loop_is_named(
    site: Site, capfd: pytest.CaptureFixture[str]
) -> None:
    bad = site.root / BAD
    bad.unlink()
    bad.symlink_to(bad.name)  # points at itself
    code, out, err = _status(site, capfd)
    assert code == 0, err
    assert "internal error" not in err and "Traceback" not in err
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "broken file" in rows["bad"] and "broken file" not in rows["good"]
    assert BAD in err and "Too many levels of symbolic links" in err
