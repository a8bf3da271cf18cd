"""`homestack install docker`: Docker Engine and Compose v2, enabled at boot, user in `docker`.

Where the packages come from (`--repo auto`): the distribution when it ships Compose v2
(Debian 13: docker.io + docker-compose; Ubuntu 22.04/24.04: docker.io + docker-compose-v2),
else Docker's own apt repository (Debian 12: docker-ce + docker-compose-plugin). A working
engine with Compose v2 is left alone, whatever its origin.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..engine import hostcli
from ..errors import BadInput, OperationFailed
from ..events import EventSink
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

REPOS = ("auto", "distro", "docker")
#: the group whose members may use the engine (the engine's package makes it)
DOCKER_GROUP = "docker"
DOCKER_REPO_PACKAGES = (
    "docker-ce",
    "docker-ce-cli",
    "containerd.io",
    "docker-buildx-plugin",
    "docker-compose-plugin",
)
#: distribution packages: (engine, Compose v2) per (ID, VERSION_ID); None: no Compose v2 there
DISTRO_PACKAGES: dict[tuple[str, str], tuple[str, str | None]] = {
    ("debian", "12"): ("docker.io", None),
    ("debian", "13"): ("docker.io", "docker-compose"),
    ("ubuntu", "22.04"): ("docker.io", "docker-compose-v2"),
    ("ubuntu", "24.04"): ("docker.io", "docker-compose-v2"),
}
KEYRING = "/etc/apt/keyrings/docker.asc"
SOURCES = "/etc/apt/sources.list.d/docker.list"


@dataclass(frozen=True)
class DockerState:
    cli: str | None
    engine: str | None  # server version when it answers
    compose: str | None  # Compose v2 version
    dockerd: bool
    denied: bool = False  # the engine's socket refused this user (permission denied)

    @property
    def working(self) -> bool:
        return bool(self.engine and self.compose)


def docker_state(probe: HostProbe) -> DockerState:
    cli = probe.which("docker")
    engine = compose = None
    denied = False
    if cli:
        done = probe.run(hostcli.server_version_argv(cli), timeout=30)
        engine = done.stdout.strip() if done.ok and done.stdout.strip() else None
        denied = not engine and "permission denied" in (done.stderr + done.stdout).lower()
        done = probe.run(hostcli.compose_version_argv(cli), timeout=30)
        compose = hostcli.parse_compose_version(done.stdout) if done.ok else None
    return DockerState(cli, engine, compose, bool(probe.which("dockerd")), denied)


def _docker_repo_steps(
    probe: HostProbe, release: OsRelease, packages: tuple[str, ...]
) -> list[Step]:
    arch = probe.run(["dpkg", "--print-architecture"], timeout=10).stdout.strip() or "amd64"
    url = f"https://download.docker.com/linux/{release.id}"
    source = f"deb [arch={arch} signed-by={KEYRING}] {url} {release.codename or 'stable'} stable\n"
    return [
        *apt_repository(
            probe,
            "Docker's",
            key_url=f"{url}/gpg",
            keyring=KEYRING,
            sources=SOURCES,
            line=source,
            key_hint="Check this machine's internet access, then run it again.",
        ),
        Step(f"install {' '.join(packages)} from Docker's repository", apt_install(*packages)),
    ]


def _package_steps(
    probe: HostProbe, release: OsRelease, state: DockerState, repo: str
) -> tuple[list[Step], str]:
    engine_pkg, compose_pkg = DISTRO_PACKAGES[(release.id, release.version_id)]
    need_engine = not state.dockerd
    if repo == "docker" or (repo == "auto" and compose_pkg is None and not state.compose):
        if need_engine:
            return _docker_repo_steps(probe, release, DOCKER_REPO_PACKAGES), "Docker's repository"
        # an engine from the distribution is here: add only the Compose plugin
        return _docker_repo_steps(probe, release, ("docker-compose-plugin",)), (
            "Docker's repository (Compose plugin only)"
        )
    packages = [engine_pkg] if need_engine else []
    if not state.compose and compose_pkg:
        packages.append(compose_pkg)
    if not packages:  # nothing the distribution has would help (the notes say what would)
        return [], "the distribution"
    steps = [
        Step("refresh the package lists", apt_update()),
        Step(f"install {' '.join(packages)} from {release.pretty}", apt_install(*packages)),
    ]
    return steps, "the distribution"


def _service_steps(probe: HostProbe, state: DockerState) -> tuple[list[Step], list[str]]:
    steps: list[Step] = []
    notes: list[str] = []
    if probe.systemd:
        enabled = probe.run(["systemctl", "is-enabled", "docker"], timeout=10)
        steps.append(
            Step(
                "start Docker now and at every boot",
                ("systemctl", "enable", "--now", "docker"),
                done=bool(state.engine or state.denied) and enabled.stdout.strip() == "enabled",
            )
        )
    elif not state.denied:
        running = "" if state.engine else "the engine is not running; "
        notes.append(
            f"systemd is not PID 1 here, so nothing starts Docker at boot: {running}start it "
            "yourself (`service docker start`, or `dockerd > /var/log/dockerd.log 2>&1 &`)."
        )
    return steps, notes


def plan_docker(probe: HostProbe, repo: str = "auto") -> HostPlan:
    """What `install docker` would do on this host (nothing when Docker already works)."""
    if repo not in REPOS:
        raise BadInput(
            f"--repo {repo} is not one of {', '.join(REPOS)}",
            "Use --repo auto (the default), distro or docker; `homestack install docker --help` "
            "says what each means.",
        )
    release = read_os(probe)
    state = docker_state(probe)
    steps: list[Step] = []
    notes: list[str] = []
    facts: dict[str, Any] = {
        "os": release.to_data(),
        "engine": state.engine,
        "compose": state.compose,
        "denied": state.denied,
    }
    if state.working:
        summary = f"Docker Engine {state.engine} and Compose {state.compose} work"
    else:
        if not release.supported:
            raise refuse_unsupported(release, "install Docker")
        packages, source = _package_steps(probe, release, state, repo)
        if state.dockerd and not state.compose:
            summary = "the engine is installed but Compose v2 is missing"
        elif state.denied:
            summary = f"the Docker engine runs but {_current_user(probe)} may not use it "
            summary += "(permission denied on its socket)"
            packages = []
        elif state.dockerd:
            summary = "Docker is installed but the engine does not answer"
            packages = []
        else:
            summary = "Docker is not installed"
        steps += packages
        facts["source"] = source
        if DISTRO_PACKAGES[(release.id, release.version_id)][1] is None and repo == "distro":
            facts["compose_packaged"] = False
            notes.append(
                f"{release.pretty} packages no Compose v2: link a Compose v2 binary as the "
                "docker CLI plugin (/usr/local/lib/docker/cli-plugins/docker-compose), or use "
                "Docker's repository (--repo auto)"
            )
        summary += f"; packages from {source}" if packages else ""
    service_steps, service_notes = _service_steps(probe, state)
    steps += service_steps
    notes += service_notes
    user = invoking_user(probe)
    if state.denied and not user and probe.euid != 0:
        user = _current_user(probe)  # the one refused: joining `docker` needs root
    joins = join_groups(probe, user, (DOCKER_GROUP,), made_by_plan=True) if user else []
    steps += joins
    if any(not step.done for step in joins):
        notes.append(f"{user} must log out and in again (or run `newgrp docker`) to use it.")
    return HostPlan("docker", summary, tuple(steps), tuple(notes), facts)


def _current_user(probe: HostProbe) -> str:
    return probe.env.get("USER") or probe.env.get("LOGNAME") or f"uid {probe.euid}"


def _wait_for_engine(probe: HostProbe, wait_s: float) -> DockerState:
    """The state after a start: dockerd takes a few seconds to answer."""
    deadline = time.monotonic() + wait_s
    state = docker_state(probe)
    while not state.engine and time.monotonic() < deadline:
        time.sleep(1)
        state = docker_state(probe)
    return state


def install_docker(
    probe: HostProbe,
    sink: EventSink,
    *,
    repo: str = "auto",
    dry_run: bool = False,
    wait_s: float = 60.0,
) -> HostResult:
    """Plan, print, run (unless dry_run), then check that the engine and Compose v2 answer."""
    plan = plan_docker(probe, repo)
    echo = reporter(sink, "docker")
    describe(plan, echo, dry_run=dry_run)
    if dry_run or not plan.pending:
        if not plan.pending and not plan.facts.get("denied"):
            echo("docker: nothing to change")
        if plan.facts.get("denied") and not dry_run:  # in the group, but not this login yet
            raise OperationFailed(
                f"docker: {plan.summary}",
                "Log out and in again (or run `newgrp docker`) so the docker group applies, "
                "or run it with sudo.",
            )
        return HostResult(plan, dry_run=dry_run, verified=plan.summary)
    ran = execute(plan, probe, echo)
    started = probe.systemd  # without systemd, the notes say how to start dockerd
    state = _wait_for_engine(probe, wait_s if started else 0)
    missing: list[str] = []
    waiting: list[str] = []
    if not state.engine:
        (missing if started else waiting).append("the engine is not running")
    if not state.compose:
        packaged = plan.facts.get("compose_packaged", True)
        (missing if packaged else waiting).append("Compose v2 is not installed")
    if missing:
        raise OperationFailed(
            f"Docker was installed but {' and '.join(missing)}",
            "Check `systemctl status docker` (or start `dockerd`) and `docker compose version`, "
            "then run this again.",
        )
    verified = f"Docker Engine {state.engine or '(not running)'} and Compose "
    verified += f"{state.compose or '(missing)'}" + (" work" if not waiting else "")
    if waiting:
        verified += ": " + "; ".join(waiting) + " yet (see the notes)"
    echo(f"docker: {verified}")
    return HostResult(plan, executed=True, ran=ran, verified=verified)
