"""The `tools` part of `install all` (restic, a static busybox) on recorded and constructed
(fake_) hosts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from homestack.events import ProgressLines
from homestack.host.recording import RecordedHost
from homestack.host.tools_install import install_tools, plan_tools

Load = Callable[..., RecordedHost]
APT = "env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends"
TOOLS = "hosts/fake-tools-installed.txt"


def test_fake_host_with_both_tools_changes_nothing(host: Load) -> None:
    recorded = host("hosts/debian12-docker-20.10", TOOLS)
    lines = ProgressLines()
    result = install_tools(recorded.probe(), lines)
    summary = "restic 0.14.0 and a static busybox (/bin/busybox) are installed"
    assert result.plan.summary == summary
    assert not result.changed and result.ok
    assert lines == [f"tools: {summary}", "tools: nothing to change"]
    assert not recorded.ran("apt-get")


def test_fake_debian12_without_tools_installs_both_with_apt(host: Load) -> None:
    recorded = host("hosts/fake-os-debian-12.txt", "hosts/fake-docker-none.txt")
    plan = plan_tools(recorded.probe())
    assert plan.summary.startswith("missing: restic (every backup command needs it), ")
    assert "busybox-static (doctor's network checks and --stand-in needs it)" in plan.summary
    assert [step.command() for step in plan.pending][-1] == f"{APT} restic busybox-static"

    dry = ProgressLines()
    install_tools(recorded.probe(), dry, dry_run=True)
    wanted = f"  would install restic busybox-static from Debian GNU/Linux 12 (bookworm): {APT}"
    assert any(line.startswith(wanted) for line in dry), dry
    assert not recorded.ran("apt-get")

    recorded.succeed_unrecorded = True
    lines = ProgressLines()
    result = install_tools(recorded.probe(), lines)
    assert recorded.ran("apt-get install -y --no-install-recommends restic busybox-static")
    assert result.changed
    # the recording has neither afterwards either: the check says so
    assert not result.ok and lines[-1].startswith("tools: missing: restic")


@pytest.mark.parametrize(
    ("extra", "package"),
    [("hosts/fake-busybox-dynamic.txt", "busybox-static")],
)
def test_fake_dynamic_busybox_does_not_count(host: Load, extra: str, package: str) -> None:
    """Debian's `busybox` is dynamically linked: the FROM scratch stand-in cannot run it."""
    recorded = host("hosts/fake-os-debian-12.txt", "hosts/fake-docker-none.txt", extra)
    assert [step.command() for step in plan_tools(recorded.probe()).pending][-1].endswith(
        f"restic {package}"
    )


def test_fake_host_not_root_gets_a_note_and_no_apt(host: Load) -> None:
    recorded = host("hosts/fake-os-ubuntu-24.04.txt", "hosts/fake-docker-none.txt", euid=1000)
    lines = ProgressLines()
    result = install_tools(recorded.probe(), lines)
    assert not result.changed and not recorded.ran("apt-get")
    assert "sudo apt-get install restic busybox-static" in lines[-1]


def test_fake_unsupported_system_gets_a_note_not_a_refusal(host: Load) -> None:
    recorded = host("hosts/fake-os-fedora-41.txt", "hosts/fake-docker-none.txt")
    lines = ProgressLines()
    result = install_tools(recorded.probe(), lines)
    assert result.plan.pending == [] and not recorded.ran("apt-get")
    assert any("install restic and busybox-static with Fedora" in line for line in lines), lines
