"""A stack is data: its network and title come from its stack.yaml, so a fifth stack is a
folder (stack.yaml + a service file) and no Python (issue 16, part 4)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.deploy.networks import wanted_specs
from homestack.lint import Severity, lint_site
from testkit.engine import REPO
from testkit.sites import copy_catalog

#: the fifth stack: a folder of data (stack.yaml, services/gnome.docker-compose.yaml)
GARDEN = Path(__file__).resolve().parents[1] / "fixtures" / "fifth-stack" / "garden-stack"
GARDEN_STACK = (GARDEN / "stack.yaml").read_text()


def add_garden(root: Path) -> Path:
    shutil.copytree(GARDEN, root / "garden-stack")
    return root


def test_the_shipped_stacks_keep_the_seed_networks_and_titles() -> None:
    """The seed's conventions, now read from each stack.yaml."""
    site = Site.load(REPO)
    assert {s.id: (s.network, s.title) for s in site.stacks.values()} == {
        "ai": ("ai-services", "AI"),
        "essentials": ("essential-services", "Essentials"),
        "management": ("management-services", "Management"),
        "media": ("media-services", "Media"),
    }
    # the shared networks in the base file's order (install networks creates them so)
    assert site.networks == [
        "ai-services",
        "media-services",
        "management-services",
        "essential-services",
        "signon-proxy",
        "iot_macvlan",
    ]


def test_a_fifth_stack_validates_plans_and_generates_with_no_python_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", "t16m_")
    root = add_garden(copy_catalog(tmp_path / "site"))
    site = Site.load(root)
    garden = site.stacks["garden"]
    assert (garden.network, garden.title) == ("garden-net", "Garden & Greenhouse")

    # validate's lint: no error anywhere (network.unknown / network.stack accept garden-net)
    errors = [f for f in lint_site(site, host_ports=False) if f.severity is Severity.ERROR]
    assert errors == []

    # plan: the stack after the one it needs; its network among what up would ensure
    assert run(["--site", str(root), "plan", "garden", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["stack_waves"] == [["essentials"], ["garden"]]
    assert plan["stacks"]["garden"] == ["gnome"]
    networks = [c["name"] for c in plan["creates"] if c["kind"] == "network"]
    assert networks[0] == "t16m_garden-net"
    # install networks (every shared network): the base file's, then the new stack's
    assert [s.name for s in wanted_specs(site, None)][-2:] == [
        "t16m_signon-proxy",
        "t16m_garden-net",
    ]

    # generate: the start page groups it under its title; the restart alert knows its name
    assert run(["--site", str(root), "generate", "--json"]) == 0
    capsys.readouterr()
    config = root / "DATA" / "config"
    groups = yaml.safe_load((config / "homepage" / "services.yaml").read_text())
    garden = next(
        group["Garden & Greenhouse"] for group in groups if "Garden & Greenhouse" in group
    )
    assert [list(entry) for entry in garden] == [["Gnome"]]
    layout = yaml.safe_load((config / "homepage" / "settings.yaml").read_text())["layout"]
    assert list(layout) == ["AI", "Essentials", "Garden & Greenhouse", "Management", "Media"]
    alerts = (config / "prometheus" / "alerts.yml").read_text()
    assert "(ai|essentials|garden|management|media)-(.+)-[0-9]+$" in alerts


@pytest.mark.parametrize(
    ("line", "said", "fix"),
    [
        (
            "network: garden net",
            "network: 'garden net' is not a Docker network name",
            "e.g. `network: garden-services`",
        ),
        (
            "network: signon-proxy",
            "is a shared network, not one of a stack's own",
            "e.g. `network: garden-services`",
        ),
        ("network: [a, b]", "network: Input should be a valid string", "network (a network name)"),
        ('title: "  "', "title: must be one line of text", "Write e.g. `title: Media`"),
    ],
)
def test_a_bad_network_or_title_is_refused_naming_the_file_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, said: str, fix: str
) -> None:
    root = add_garden(copy_catalog(tmp_path / "site"))
    stack_file = root / "garden-stack" / "stack.yaml"
    key = line.split(":", maxsplit=1)[0]
    text = "\n".join(
        line if row.startswith(f"{key}:") else row for row in GARDEN_STACK.splitlines()
    )
    stack_file.write_text(text + "\n")
    assert run(["--site", str(root), "plan", "garden"]) == 2
    err = capsys.readouterr().err
    assert said in err
    assert "garden-stack/stack.yaml" in err
    assert fix in err
    assert "Traceback" not in err
    # validate lists it as an error of that file, on its line
    findings = lint_site(Site.load(root), host_ports=False)
    found = [f for f in findings if f.file == stack_file and f.rule == "stack.schema"]
    assert [f.line for f in found] == [text.splitlines().index(line) + 1]
