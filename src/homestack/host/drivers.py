"""`homestack install drivers`: what the GPU needs so containers can use it, and the check.

NVIDIA: the driver, the NVIDIA Container Toolkit, and Docker's `nvidia` runtime
(`nvidia-ctk runtime configure --runtime=docker`). AMD: amdgpu with its firmware (/dev/kfd)
and the user in `render`/`video`. Intel: the user in `render`/`video`. The plan runs only
with --yes; afterwards a container must see the GPU's device nodes.
"""

from __future__ import annotations

from ..engine import hostcli
from ..errors import OperationFailed
from ..events import EventSink
from ..gpu import GpuReport, assess
from .osinfo import OsRelease, read_os, refuse_unsupported
from .probe import HostProbe
from .steps import (
    HostPlan,
    HostResult,
    Step,
    apt_install,
    apt_repository,
    apt_update,
    describe,
    execute,
    invoking_user,
    join_groups,
    reporter,
)

TOOLKIT_URL = "https://nvidia.github.io/libnvidia-container"
TOOLKIT_KEY = "/etc/apt/keyrings/nvidia-container-toolkit.asc"
TOOLKIT_SOURCES = "/etc/apt/sources.list.d/nvidia-container-toolkit.list"
TOOLKIT_LIST = f"deb [signed-by={TOOLKIT_KEY}] {TOOLKIT_URL}/stable/deb/$(ARCH) /\n"


def _nvidia_steps(
    probe: HostProbe, release: OsRelease, report: GpuReport
) -> tuple[list[Step], list[str]]:
    steps: list[Step] = []
    notes: list[str] = []
    has_driver = any(d.vendor == "nvidia" for d in report.devices)
    if not has_driver:
        if release.id == "ubuntu":
            steps += [
                Step("refresh the package lists", apt_update()),
                Step("install ubuntu-drivers", apt_install("ubuntu-drivers-common")),
                Step("install the recommended NVIDIA driver", ("ubuntu-drivers", "install")),
            ]
        else:
            steps += [
                Step("refresh the package lists", apt_update()),
                Step(
                    "install the NVIDIA driver from Debian's non-free section",
                    apt_install("linux-headers-amd64", "nvidia-driver", "firmware-misc-nonfree"),
                    hint="Enable the contrib, non-free and non-free-firmware components in "
                    "/etc/apt/sources.list, run `apt-get update`, then run this again.",
                ),
            ]
        notes.append("reboot after the driver is installed, then run this again")
    toolkit = bool(report.docker.toolkit)
    if not toolkit:
        steps += apt_repository(
            probe,
            "NVIDIA's container toolkit",
            key_url=f"{TOOLKIT_URL}/gpgkey",
            keyring=TOOLKIT_KEY,
            sources=TOOLKIT_SOURCES,
            line=TOOLKIT_LIST,
        )
        steps.append(
            Step("install the NVIDIA Container Toolkit", apt_install("nvidia-container-toolkit"))
        )
    configured = "nvidia" in report.docker.runtimes
    steps.append(
        Step(
            "register the nvidia runtime in Docker (/etc/docker/daemon.json)",
            ("nvidia-ctk", "runtime", "configure", "--runtime=docker"),
            done=configured,
        )
    )
    if not configured:
        if report.docker.installed and probe.systemd:
            steps.append(Step("restart Docker to load it", ("systemctl", "restart", "docker")))
        elif report.docker.installed:
            notes.append("restart the Docker engine (dockerd) to load the nvidia runtime")
        else:
            notes.append("Docker is not installed yet: `homestack install docker` comes next")
    return steps, notes


def _amd_steps(release: OsRelease, report: GpuReport, kfd: bool) -> tuple[list[Step], list[str]]:
    if kfd:
        return [], []
    firmware = "linux-firmware" if release.id == "ubuntu" else "firmware-amd-graphics"
    return (
        [
            Step("refresh the package lists", apt_update()),
            Step(f"install the amdgpu firmware ({firmware})", apt_install(firmware)),
        ],
        ["reboot so amdgpu loads with its firmware and creates /dev/kfd"],
    )


def _group_steps(probe: HostProbe) -> list[Step]:
    user = invoking_user(probe)
    return join_groups(probe, user, ("render", "video")) if user else []


def plan_drivers(probe: HostProbe, report: GpuReport | None = None) -> HostPlan:
    """What this host's GPU still needs (the report defaults to a fresh detection)."""
    report = report or assess(probe)
    release = read_os(probe)
    facts = {"gpu": report.to_data(), "os": release.to_data()}
    if not report.present_vendors:
        return HostPlan(
            "drivers",
            "no GPU found: nothing to install; GPU services run on the CPU",
            facts=facts,
        )
    steps: list[Step] = []
    notes: list[str] = []
    kfd = probe.exists("/dev/kfd")
    for vendor in report.present_vendors:
        if vendor == "nvidia":
            more, extra = _nvidia_steps(probe, release, report)
        elif vendor == "amd":
            more, extra = _amd_steps(release, report, kfd)
        else:
            more, extra = [], []
        steps += more
        notes += extra
    if {"amd", "intel"} & set(report.present_vendors):
        steps += _group_steps(probe)
    steps = _dedupe(steps)
    found = ", ".join(report.reasons.get(v, v) for v in report.present_vendors)
    plan = HostPlan("drivers", found, tuple(steps), tuple(notes), facts)
    if plan.pending and not release.supported:
        raise refuse_unsupported(release, "install GPU drivers")
    return plan


def _dedupe(steps: list[Step]) -> list[Step]:
    seen: set[str] = set()
    kept = []
    for step in steps:
        key = step.command()
        if key in seen and not step.write:
            continue
        seen.add(key)
        kept.append(step)
    return kept


def verify_command(report: GpuReport, image: str) -> tuple[str, ...] | None:
    """A container that lists the GPU's device nodes (None: no GPU to check)."""
    for vendor in ("nvidia", "amd", "intel"):  # the first one present is checked
        if vendor in report.present_vendors:
            return hostcli.gpu_check_argv(vendor, image)
    return None


def verify(probe: HostProbe, report: GpuReport, image: str) -> str:
    """Run the check container; raise when it cannot see the GPU."""
    command = verify_command(report, image)
    if command is None:
        return "no GPU to check"
    done = probe.run(command, timeout=300)
    if not done.ok:
        raise OperationFailed(
            f"a container cannot see the GPU: `{' '.join(command)}` exited {done.returncode}: "
            + (done.stderr or done.stdout).strip()[-300:],
            "Reboot if a driver was just installed, then run `homestack install drivers` again.",
        )
    nodes = " ".join(done.stdout.split())
    return f"a container sees the GPU ({nodes})"


def install_drivers(
    probe: HostProbe,
    sink: EventSink,
    *,
    yes: bool = False,
    dry_run: bool = False,
    image: str | None = None,
    report: GpuReport | None = None,
) -> HostResult:
    """Print the plan; with yes (and not dry_run) run it, then verify with a container."""
    report = report or assess(probe)
    plan = plan_drivers(probe, report)
    echo = reporter(sink, "drivers")
    describe(plan, echo, dry_run=dry_run or not yes)
    if not plan.pending:
        echo("drivers: nothing to change")
        verified: str | None = plan.summary
        if image and not dry_run and report.present_vendors and report.docker.running:
            verified = verify(probe, report, image)
            echo(f"drivers: {verified}")
        return HostResult(plan, dry_run=dry_run, verified=verified)
    if dry_run or not yes:
        if not dry_run:
            echo("drivers: not changed; run with --yes to carry out the plan above")
        return HostResult(plan, dry_run=dry_run, ok=True)
    ran = execute(plan, probe, echo)
    after = assess(probe)
    verified = None
    if image and after.docker.running and not plan.notes:
        verified = verify(probe, after, image)
        echo(f"drivers: {verified}")
    elif plan.notes:
        verified = "not checked yet: " + "; ".join(plan.notes)
        echo(f"drivers: {verified}")
    return HostResult(plan, executed=True, ran=ran, verified=verified)
