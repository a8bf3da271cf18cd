"""A tiny site on disk for the deploy tests: the real base file plus one small stack.

The deploy tests build their own site rather than using the shipped catalog, so they do not
change when the catalog does. Every name the engine sees carries the test prefix.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from sitekit import indented

REPO = Path(__file__).resolve().parent.parent


def service_file(
    name: str,
    stack: str = "ai",
    *,
    meta: str = "",
    body: str = "",
    image: str = "homestack/standin:local",
    volume: bool = True,
) -> str:
    """One service in the shipped layout; `meta` goes into x-homestack, `body` into the service."""
    meta_lines = indented(meta, 6) if meta else ""
    body_lines = indented(body, 4) if body else ""
    text = (
        "services:\n"
        f"  {name}:\n"
        "    x-homestack:\n"
        f"      title: {name.capitalize()}\n"
        f"      description: {name} for the deploy tests\n"
        + (meta_lines + "\n" if meta_lines else "")
        + f"    image: {image}\n"
        + (body_lines + "\n" if body_lines else "")
    )
    if volume:
        text += (
            "volumes:\n"
            f"  {stack}_{name}_data:\n"
            f"    name: ${{HOMESTACK_PREFIX:-}}{stack}_{name}_data\n"
            "    driver: local\n"
            "    driver_opts:\n"
            "      type: none\n"
            "      o: bind\n"
            f"      device: ${{DATA_ROOT:?DATA_ROOT is set by homestack}}/{name}\n"
        )
    return text


def tiny_site(
    root: Path,
    services: dict[str, str],
    *,
    stack: str = "ai",
    env: str = "",
    extra: dict[str, str] | None = None,
) -> Path:
    """base.docker-compose.yaml, a root .env and `{stack}-stack` with the given services."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "base.docker-compose.yaml", root / "base.docker-compose.yaml")
    (root / ".env").write_text("TZ=Etc/UTC\n" + env, encoding="utf-8")
    folder = root / f"{stack}-stack" / "services"
    folder.mkdir(parents=True)
    listed = "".join(f"  - {name}\n" for name in services)
    (folder.parent / "stack.yaml").write_text(
        f"description: deploy test stack\nservices:\n{listed}", encoding="utf-8"
    )
    for name, text in services.items():
        (folder / f"{name}.docker-compose.yaml").write_text(text, encoding="utf-8")
    for relative, text in (extra or {}).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=check, timeout=120
    )


def container_names(prefix: str) -> list[str]:
    """Names of the containers (any state) whose name starts with `prefix`."""
    return docker(
        "ps", "-a", "--format", "{{.Names}}", "--filter", f"name=^/?{prefix}"
    ).stdout.split()
