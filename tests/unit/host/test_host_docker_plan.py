"""`install docker` plans on recorded and constructed (fake_) host descriptions."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from homestack.errors import OperationFailed
from homestack.events import ProgressLines
from homestack.host.docker_install import install_docker, plan_docker
from homestack.host.probe import CommandResult
from homestack.host.recording import RecordedHost

Load = Callable[..., RecordedHost]
NONE = "hosts/fake-docker-none.txt"


def commands(plan) -> list[str]:
    return [step.command() for step in plan.pending]


def test_recorded_host_debian12_this_machine_is_a_noop(host: Load) -> None:
    recorded = host("hosts/debian12-docker-20.10")
    plan = plan_docker(recorded.probe())
    assert plan.pending == []
    assert plan.summary == "Docker Engine 20.10.24+dfsg1 and Compose 2.40.3 work"
    assert any("systemd is not PID 1" in note for note in plan.notes)
    lines = ProgressLines()
    result = install_docker(recorded.probe(), lines)
    assert not result.changed and "docker: nothing to change" in lines
    assert not recorded.ran("apt-get")


def test_recorded_host_h100_ubuntu2404_without_docker_uses_distro_packages(host: Load) -> None:
    recorded = host("gpu/nvidia-h100-no-toolkit", NONE)
    plan = plan_docker(recorded.probe())
    assert plan.summary.startswith("Docker is not installed; packages from the distribution")
    assert (
        "env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
        "docker.io docker-compose-v2" in commands(plan)
    )
    assert "systemctl enable --now docker" in commands(plan)
    assert "usermod -aG docker alice" in commands(plan)


def test_fake_debian12_without_docker_uses_dockers_repository(host: Load) -> None:
    plan = plan_docker(host(NONE, "hosts/fake-os-debian-12.txt").probe())
    cmds = commands(plan)
    assert (
        "curl -fsSL https://download.docker.com/linux/debian/gpg -o /etc/apt/keyrings/docker.asc"
        in cmds
    )
    assert "write /etc/apt/sources.list.d/docker.list" in cmds
    assert cmds[-3].endswith(
        "docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin"
    )
    (write,) = [s for s in plan.steps if s.write]
    assert write.write == (
        "/etc/apt/sources.list.d/docker.list",
        "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] "
        "https://download.docker.com/linux/debian bookworm stable\n",
    )


@pytest.mark.parametrize(
    ("os_file", "packages"),
    [
        ("fake-os-debian-13.txt", "docker.io docker-compose"),
        ("fake-os-ubuntu-22.04.txt", "docker.io docker-compose-v2"),
        ("fake-os-ubuntu-24.04.txt", "docker.io docker-compose-v2"),
    ],
)
def test_fake_distro_packages_where_compose_v2_is_packaged(
    host: Load, os_file: str, packages: str
) -> None:
    plan = plan_docker(host(NONE, f"hosts/{os_file}").probe())
    assert any(c.endswith(f"--no-install-recommends {packages}") for c in commands(plan))
    assert not any("download.docker.com" in c for c in commands(plan))


def test_fake_debian12_engine_without_compose_adds_only_the_plugin(host: Load) -> None:
    recorded = host("hosts/fake-docker-engine-no-compose.txt", "hosts/fake-os-debian-12.txt")
    plan = plan_docker(recorded.probe())
    assert plan.summary.startswith("the engine is installed but Compose v2 is missing")
    installs = [c for c in commands(plan) if " install " in c]
    assert installs[-1].endswith("--no-install-recommends docker-compose-plugin")
    assert "arch=arm64" in next(s.write[1] for s in plan.steps if s.write)
    assert not any(c.endswith("docker-ce") for c in installs)


def test_fake_debian12_distro_only_installs_the_engine_and_says_compose_is_missing(
    host: Load,
) -> None:
    """What CI does (`install docker --repo distro`): Debian's docker.io, Compose linked later."""
    recorded = host(NONE, "hosts/fake-os-debian-12.txt", succeed_unrecorded=True, init="bash")
    plan = plan_docker(recorded.probe(), repo="distro")
    assert [c for c in commands(plan) if " install " in c] == [
        "env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io"
    ]
    assert any("packages no Compose v2" in note for note in plan.notes)
    assert any("systemd is not PID 1" in note for note in plan.notes)
    result = install_docker(recorded.probe(), lambda _: None, repo="distro")
    assert result.executed and result.verified
    assert "the engine is not running; Compose v2 is not installed yet" in result.verified


def test_fake_fedora_is_refused_naming_what_to_do(host: Load) -> None:
    with pytest.raises(OperationFailed) as refused:
        plan_docker(host(NONE, "hosts/fake-os-fedora-41.txt").probe())
    assert "Fedora Linux 41" in refused.value.message
    assert "Debian 12, Debian 13, Ubuntu 22.04, Ubuntu 24.04" in refused.value.message
    assert refused.value.hint and "Compose v2" in refused.value.hint


def test_fake_fedora_with_working_docker_is_left_alone(host: Load) -> None:
    recorded = host("hosts/fake-docker-working.txt", "hosts/fake-os-fedora-41.txt")
    plan = plan_docker(recorded.probe())
    assert plan.pending == []
    assert [s.done for s in plan.steps] == [True, True]  # enabled at boot, alice in docker


def test_fake_dry_run_changes_nothing(host: Load) -> None:
    recorded = host(NONE, "hosts/fake-os-debian-12.txt", succeed_unrecorded=True)
    lines = ProgressLines()
    result = install_docker(recorded.probe(), lines, dry_run=True)
    assert result.dry_run and not result.changed
    assert any(line.startswith("  would install docker-ce") for line in lines)
    assert not recorded.ran("apt-get") and not recorded.ran("usermod")
    assert not (recorded.root / "etc/apt/sources.list.d/docker.list").exists()


def test_fake_apt_executes_the_debian12_plan_and_verifies(host: Load) -> None:
    recorded = host(NONE, "hosts/fake-os-debian-12.txt", succeed_unrecorded=True)
    replay = recorded.run

    def apt(argv: Sequence[str], *, timeout: float = 60.0) -> CommandResult:
        done = replay(argv, timeout=timeout)
        if "docker-ce" in argv:  # the fake apt "installs" Docker
            recorded.tools["docker"] = "/usr/bin/docker"
            recorded.missing.discard("docker")
            recorded.tools["dockerd"] = "/usr/sbin/dockerd"
            for key, out in (
                ("docker version --format {{.Server.Version}}", "27.3.1"),
                ("docker compose version --short", "2.29.7"),
            ):
                recorded.outputs[key] = CommandResult(tuple(key.split()), 0, out + "\n")
        return done

    recorded.run = apt  # type: ignore[method-assign]
    lines = ProgressLines()
    result = install_docker(recorded.probe(), lines)
    assert result.executed and result.verified == "Docker Engine 27.3.1 and Compose 2.29.7 work"
    order = [" ".join(c) for c in recorded.calls]
    install = next(i for i, c in enumerate(order) if "docker-ce" in c)
    assert order.index("systemctl enable --now docker") > install
    assert "usermod -aG docker alice" in order
    listed = (recorded.root / "etc/apt/sources.list.d/docker.list").read_text()
    assert "bookworm stable" in listed
    assert any(line.startswith("→ add Docker's apt repository") for line in lines)


def test_fake_non_root_execution_is_refused(host: Load) -> None:
    recorded = host(NONE, "hosts/fake-os-ubuntu-24.04.txt", euid=1000)
    with pytest.raises(OperationFailed, match="need root") as refused:
        install_docker(recorded.probe(), lambda _: None)
    assert refused.value.hint and "sudo" in refused.value.hint
    assert not recorded.ran("apt-get")


def test_fake_failed_apt_stops_with_its_output(host: Load) -> None:
    recorded = host(NONE, "hosts/fake-os-ubuntu-24.04.txt")
    recorded.outputs["apt-get update"] = CommandResult((), 100, "", "E: no network")
    recorded.outputs["env DEBIAN_FRONTEND=noninteractive apt-get update"] = CommandResult(
        (), 100, "", "E: Could not resolve host"
    )
    from homestack.errors import CommandFailed

    with pytest.raises(CommandFailed, match="Could not resolve host"):
        install_docker(recorded.probe(), lambda _: None)


def _stopped_engine(host: Load) -> RecordedHost:
    """This machine as CI finds it: docker.io installed, dockerd stopped, no systemd."""
    recorded = host("hosts/debian12-docker-20.10", succeed_unrecorded=True)
    recorded.outputs["docker version --format {{.Server.Version}}"] = CommandResult(
        (), 1, "", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock."
    )
    return recorded


def test_recorded_host_debian12_with_a_stopped_engine_says_how_to_start_it(host: Load) -> None:
    recorded = _stopped_engine(host)
    plan = plan_docker(recorded.probe(), repo="distro")
    assert plan.pending == []
    assert plan.summary == "Docker is installed but the engine does not answer"
    assert any("the engine is not running; start it yourself" in n for n in plan.notes)
    install_docker(recorded.probe(), lambda _: None, repo="distro")
    assert not recorded.ran("apt-get") and not recorded.ran("service")


def test_fake_systemd_host_with_a_stopped_engine_starts_it_and_waits(host: Load) -> None:
    recorded = _stopped_engine(host)
    recorded.init = "systemd"
    plan = plan_docker(recorded.probe())
    assert commands(plan) == ["systemctl enable --now docker"]
    replay = recorded.run

    def systemctl(argv: Sequence[str], *, timeout: float = 60.0) -> CommandResult:
        if list(argv) == ["systemctl", "enable", "--now", "docker"]:
            key = "docker version --format {{.Server.Version}}"
            recorded.outputs[key] = CommandResult((), 0, "20.10.24+dfsg1\n")
        return replay(argv, timeout=timeout)

    recorded.run = systemctl  # type: ignore[method-assign]
    result = install_docker(recorded.probe(), lambda _: None, wait_s=0)
    assert result.verified == "Docker Engine 20.10.24+dfsg1 and Compose 2.40.3 work"


def test_fake_systemd_engine_that_never_answers_fails(host: Load) -> None:
    recorded = _stopped_engine(host)
    recorded.init = "systemd"
    with pytest.raises(OperationFailed, match="the engine is not running"):
        install_docker(recorded.probe(), lambda _: None, wait_s=0)


DENIED = "hosts/fake-docker-permission-denied.txt"


def test_fake_user_refused_by_the_socket_is_told_to_join_docker_with_sudo(host: Load) -> None:
    recorded = host(DENIED, "hosts/fake-os-debian-12.txt")
    plan = plan_docker(recorded.probe())
    assert plan.summary == (
        "the Docker engine runs but hstest may not use it (permission denied on its socket)"
    )
    assert commands(plan) == ["usermod -aG docker hstest"]  # no package, no engine start
    lines = ProgressLines()
    with pytest.raises(OperationFailed, match="need root") as caught:
        install_docker(recorded.probe(), lines)
    assert "sudo" in (caught.value.hint or "")
    assert "docker: nothing to change" not in lines and not recorded.ran("usermod")


def test_fake_user_in_docker_but_not_this_login_is_told_to_log_in_again(host: Load) -> None:
    recorded = host(DENIED, "hosts/fake-os-debian-12.txt")
    recorded._write("/etc/group", "docker:x:999:alice,hstest\n")
    plan = plan_docker(recorded.probe())
    assert plan.pending == []
    with pytest.raises(OperationFailed, match="permission denied") as caught:
        install_docker(recorded.probe(), lambda _: None)
    assert "newgrp docker" in (caught.value.hint or "")
    dry = install_docker(recorded.probe(), lambda _: None, dry_run=True)
    assert not dry.changed


def test_fake_debian12_refreshes_the_package_lists_before_the_https_prerequisites(
    host: Load,
) -> None:
    """A fresh machine may have no (or stale) package lists: `apt-get install curl` first
    would fail with 'Unable to locate package'."""
    cmds = commands(plan_docker(host(NONE, "hosts/fake-os-debian-12.txt").probe()))
    update = "env DEBIAN_FRONTEND=noninteractive apt-get update"
    prerequisites = next(i for i, c in enumerate(cmds) if c.endswith("ca-certificates curl"))
    assert update in cmds[:prerequisites], cmds
