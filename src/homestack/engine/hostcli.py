"""The docker command lines the host checks run, and how their output reads.

`install docker`, `install drivers` and the GPU report run on hosts where docker may be
missing or its engine stopped: they run these through their HostProbe (host/probe.py, which
a recording replays and which never raises for a missing program), so a probe stays
tolerant. Only the command lines and the parsing live here, next to the Compose and Engine
API code, so no docker command line is spelled outside engine/. No imports beyond the
standard library: cheap for every command.
"""

from __future__ import annotations

import json
from typing import Any

DOCKER = "docker"


def server_version_argv(cli: str = DOCKER) -> list[str]:
    """Prints the engine's version; fails (permission denied, no engine) without one."""
    return [cli, "version", "--format", "{{.Server.Version}}"]


def compose_version_argv(cli: str = DOCKER) -> list[str]:
    """Prints the Compose plugin's version (`v2.40.3` or `2.40.3`)."""
    return [cli, "compose", "version", "--short"]


def parse_compose_version(output: str) -> str | None:
    """'2.40.3' from `compose version --short`; None for anything that is not Compose v2+."""
    version = output.strip().lstrip("v")
    if version[:1].isdigit() and int(version.split(".")[0]) >= 2:
        return version
    return None


def info_argv(cli: str = DOCKER) -> list[str]:
    """`docker info` as one JSON document (runtimes, CDI spec dirs, server version)."""
    return [cli, "info", "--format", "{{json .}}"]


def parse_info(output: str) -> dict[str, Any]:
    """The document `info_argv` prints ({} when it is not one)."""
    try:
        parsed = json.loads(output or "{}")
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def gpu_check_argv(vendor: str, image: str, cli: str = DOCKER) -> tuple[str, ...] | None:
    """A throwaway container that lists the device nodes of this vendor's GPU (None: no
    check for it)."""
    run = (cli, "run", "--rm")
    if vendor == "nvidia":
        return (*run, "--gpus", "all", image, "sh", "-c", "ls /dev/nvidia*")
    if vendor == "amd":
        return (
            *run, "--device", "/dev/kfd", "--device", "/dev/dri",
            image, "ls", "/dev/kfd", "/dev/dri",
        )  # fmt: skip
    if vendor == "intel":
        return (*run, "--device", "/dev/dri", image, "ls", "/dev/dri")
    return None
