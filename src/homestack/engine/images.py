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
