"""The `restic` part of `install all` on recorded and constructed (fake_) hosts."""

from __future__ import annotations

from collections.abc import Callable

from homestack.host.recording import RecordedHost
from homestack.host.restic_install import install_restic, plan_restic

Load = Callable[..., RecordedHost]
APT_RESTIC = "env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends restic"


def test_fake_host_with_restic_changes_nothing(host: Load) -> None:
    recorded = host("hosts/debian12-docker-20.10", "hosts/fake-restic-installed.txt")
    lines: list[str] = []
    result = install_restic(recorded.probe(), lines.append)
    assert result.plan.summary == "restic 0.14.0 is installed"
    assert not result.changed and result.ok
    assert lines == ["restic: restic 0.14.0 is installed", "restic: nothing to change"]
    assert not recorded.ran("apt-get")


def test_fake_debian12_without_restic_installs_it_with_apt(host: Load) -> None:
    recorded = host("hosts/fake-os-debian-12.txt", "hosts/fake-docker-none.txt")
    plan = plan_restic(recorded.probe())
    assert plan.summary == "restic is missing (every backup command needs it)"
    assert [step.command() for step in plan.pending][-1] == APT_RESTIC

    dry: list[str] = []
    install_restic(recorded.probe(), dry.append, dry_run=True)
    assert f"  would install restic from Debian GNU/Linux 12 (bookworm): {APT_RESTIC}" in dry
    assert not recorded.ran("apt-get")

    recorded.succeed_unrecorded = True
    lines: list[str] = []
    result = install_restic(recorded.probe(), lines.append)
    assert recorded.ran("apt-get install -y --no-install-recommends restic")
    assert result.changed
    # the recording's PATH has no restic afterwards either: the check says so
    assert not result.ok and lines[-1] == "restic: restic still does not answer"


def test_fake_host_not_root_gets_a_note_and_no_apt(host: Load) -> None:
    recorded = host("hosts/fake-os-ubuntu-24.04.txt", "hosts/fake-docker-none.txt", euid=1000)
    lines: list[str] = []
    result = install_restic(recorded.probe(), lines.append)
    assert not result.changed and not recorded.ran("apt-get")
    assert "sudo apt-get install restic" in lines[-1]


def test_fake_unsupported_system_gets_a_note_not_a_refusal(host: Load) -> None:
    recorded = host("hosts/fake-os-fedora-41.txt", "hosts/fake-docker-none.txt")
    lines: list[str] = []
    result = install_restic(recorded.probe(), lines.append)
    assert result.plan.pending == [] and not recorded.ran("apt-get")
    assert any("install restic with Fedora" in line for line in lines), lines
