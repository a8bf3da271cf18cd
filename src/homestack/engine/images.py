"""Local images through the `docker` CLI (no SDK import: cheap for the stand-in image).

The classic builder (DOCKER_BUILDKIT=0) builds a FROM-scratch context with no registry.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..errors import CommandFailed


def image_exists(tag: str) -> bool:
    done = subprocess.run(
        ["docker", "image", "inspect", tag], capture_output=True, text=True, check=False
    )
    return done.returncode == 0


def build_image(context: Path, tag: str) -> None:
    """`docker build` a local context into `tag`; CommandFailed with its stderr on failure."""
    command = ["docker", "build", "-q", "-t", tag, str(context)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={"DOCKER_BUILDKIT": "0", "PATH": "/usr/local/bin:/usr/bin:/bin"},
    )
    if done.returncode != 0:
        raise CommandFailed(command, done.returncode, done.stderr)


def _docker(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=False, timeout=timeout
    )


def pull_image(ref: str, *, hint: str | None = None, timeout: float = 900) -> None:
    """`docker pull` one reference (a digest pins the bytes); CommandFailed with the hint."""
    done = _docker("pull", "--quiet", ref, timeout=timeout)
    if done.returncode != 0:
        raise CommandFailed(["docker", "pull", ref], done.returncode, done.stderr, hint)


def tag_image(source: str, target: str, *, timeout: float = 60) -> None:
    """Name the local image `source` also `target` (repo:tag)."""
    done = _docker("tag", source, target, timeout=timeout)
    if done.returncode != 0:
        raise CommandFailed(["docker", "tag", source, target], done.returncode, done.stderr)
