"""`install drivers` plans: the recorded H100 host and constructed (fake_) AMD/Intel/none hosts."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from homestack.errors import OperationFailed
from homestack.events import ProgressLines
from homestack.host.drivers import install_drivers, plan_drivers
from homestack.host.probe import CommandResult
from homestack.host.recording import RecordedHost

Load = Callable[..., RecordedHost]
H100 = "gpu/nvidia-h100-no-toolkit"


def commands(plan) -> list[str]:
    return [step.command() for step in plan.pending]


def test_recorded_host_h100_needs_toolkit_and_runtime_not_driver(host: Load) -> None:
    plan = plan_drivers(host(H100).probe())
    cmds = commands(plan)
    assert "NVIDIA H100 80GB HBM3 (driver 580.159.04)" in plan.summary
    assert not any("nvidia-driver" in c or "ubuntu-drivers" in c for c in cmds)
    assert cmds[-1] == "nvidia-ctk runtime configure --runtime=docker"
    assert any(c.endswith("nvidia-container-toolkit") for c in cmds)
    assert "write /etc/apt/sources.list.d/nvidia-container-toolkit.list" in cmds
    assert any("Docker is not installed yet" in n for n in plan.notes)


def test_recorded_host_h100_without_yes_prints_the_plan_and_changes_nothing(host: Load) -> None:
    recorded = host(H100, succeed_unrecorded=True)
    lines = ProgressLines()
    result = install_drivers(recorded.probe(), lines)
    assert not result.changed and not result.executed
    assert "drivers: not changed; run with --yes to carry out the plan above" in lines
    assert any("would install the NVIDIA Container Toolkit" in line for line in lines)
    assert not recorded.ran("apt-get")


def test_recorded_host_h100_with_yes_runs_the_plan_with_fake_apt(host: Load) -> None:
    recorded = host(H100, succeed_unrecorded=True)
    replay = recorded.run

    def apt(argv: Sequence[str], *, timeout: float = 60.0) -> CommandResult:
        if "nvidia-container-toolkit" in argv:  # the fake apt "installs" the toolkit
            recorded.missing.discard("nvidia-ctk")
            recorded.tools["nvidia-ctk"] = "/usr/bin/nvidia-ctk"
        return replay(argv, timeout=timeout)

    recorded.run = apt  # type: ignore[method-assign]
    lines = ProgressLines()
    result = install_drivers(recorded.probe(), lines, yes=True, image="standin")
    assert result.executed
    assert recorded.ran(
        "apt-get", "install", "-y", "--no-install-recommends", "nvidia-container-toolkit"
    )
    assert recorded.ran("nvidia-ctk runtime configure --runtime=docker")
    listed = (recorded.root / "etc/apt/sources.list.d/nvidia-container-toolkit.list").read_text()
    assert "signed-by=/etc/apt/keyrings/nvidia-container-toolkit.asc" in listed
    # Docker is not there yet, so the container check waits for it
    assert result.verified and result.verified.startswith("not checked yet")
    assert not recorded.ran("docker", "run")


def test_recorded_host_h100_dry_run_says_would(host: Load) -> None:
    lines = ProgressLines()
    result = install_drivers(host(H100).probe(), lines, yes=True, dry_run=True)
    assert result.dry_run and not result.executed
    assert any(line.startswith("  would register the nvidia runtime") for line in lines)


def test_fake_nvidia_on_pci_without_driver_plans_the_driver(host: Load) -> None:
    for os_file, expected in (
        ("hosts/fake-os-debian-12.txt", "nvidia-driver firmware-misc-nonfree"),
        ("hosts/fake-os-ubuntu-24.04.txt", "ubuntu-drivers install"),
    ):
        recorded = host("gpu/fake-none", os_file)
        device = recorded.root / "sys/bus/pci/devices/0000:01:00.0"
        device.mkdir(parents=True, exist_ok=True)
        (device / "class").write_text("0x030000\n")
        (device / "vendor").write_text("0x10de\n")
        plan = plan_drivers(recorded.probe())
        assert any(expected in c for c in commands(plan)), os_file
        assert any("reboot" in n for n in plan.notes)


def test_fake_nvidia_with_toolkit_needs_nothing_and_verifies_in_a_container(host: Load) -> None:
    recorded = host("gpu/fake-nvidia-toolkit")
    key = "docker run --rm --gpus all standin sh -c ls /dev/nvidia*"
    recorded.outputs[key] = CommandResult((), 0, "/dev/nvidia0\n/dev/nvidiactl\n")
    lines = ProgressLines()
    result = install_drivers(recorded.probe(), lines, yes=True, image="standin")
    assert result.plan.pending == [] and not result.changed
    assert result.verified == "a container sees the GPU (/dev/nvidia0 /dev/nvidiactl)"


def test_fake_nvidia_container_that_cannot_see_the_gpu_fails(host: Load) -> None:
    recorded = host("gpu/fake-nvidia-toolkit")
    key = "docker run --rm --gpus all standin sh -c ls /dev/nvidia*"
    recorded.outputs[key] = CommandResult((), 125, "", "could not select device driver")
    with pytest.raises(OperationFailed, match="cannot see the GPU"):
        install_drivers(recorded.probe(), lambda _: None, image="standin")


def test_fake_amd_adds_user_to_render_and_video(host: Load) -> None:
    recorded = host("gpu/fake-amd-rx7900", succeed_unrecorded=True)
    plan = plan_drivers(recorded.probe())
    assert commands(plan) == ["usermod -aG render alice", "usermod -aG video alice"]
    result = install_drivers(recorded.probe(), lambda _: None, yes=True, image="standin")
    assert result.ran == ("add alice to the render group", "add alice to the video group")
    assert recorded.ran("docker run --rm --device /dev/kfd --device /dev/dri standin ls /dev/kfd")


def test_fake_amd_without_kfd_installs_firmware(host: Load) -> None:
    recorded = host("gpu/fake-amd-rx7900")
    (recorded.root / "dev/kfd").unlink()
    plan = plan_drivers(recorded.probe())
    assert any(c.endswith("firmware-amd-graphics") for c in commands(plan))


def test_fake_intel_with_user_in_groups_needs_nothing(host: Load) -> None:
    plan = plan_drivers(host("gpu/fake-intel-uhd770").probe())
    assert plan.pending == []
    assert [s.done for s in plan.steps] == [True, True]


def test_fake_none_has_nothing_to_install(host: Load) -> None:
    lines = ProgressLines()
    result = install_drivers(host("gpu/fake-none").probe(), lines, yes=True)
    assert result.plan.summary.startswith("no GPU found")
    assert "drivers: nothing to change" in lines


def test_fake_fedora_with_a_gpu_to_set_up_is_refused(host: Load) -> None:
    with pytest.raises(OperationFailed, match="install GPU drivers on Fedora"):
        plan_drivers(host(H100, "hosts/fake-os-fedora-41.txt").probe())
