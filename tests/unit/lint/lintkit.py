"""Small lint fixture sites on disk: one clean site, and helpers to plant one defect.

A planted line carries the marker `# <-`; the test expects the finding on that line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from homestack.catalog import Site, declared_networks
from homestack.lint import Finding, lint_site
from testkit.engine import REPO
from testkit.sites import external_networks

MARK = "# <-"

BASE = external_networks(*declared_networks(REPO))


def service(name: str = "web", stack: str = "ai", port: int = 18080) -> str:
    """A service file that passes every rule."""
    return f"""\
services:
  {name}:
    x-homestack:
      title: {name.capitalize()}
      description: {name} for lint tests
      secrets:
        - name: password
    image: example/{name}:1.2.3
    restart: unless-stopped
    ports:
      - "${{BIND_ADDRESS:-127.0.0.1}}:${{{name.upper()}_PORT:-{port}}}:80"
    volumes:
      - {stack}_{name}_data:/data
    secrets:
      - {name}_password
    networks:
      - ai-services
    healthcheck:
      test: ["CMD", "true"]
      interval: 30s
    security_opt:
      - no-new-privileges:true
    deploy:
      resources:
        limits:
          cpus: "1"
          memory: 64m
volumes:
  {stack}_{name}_data:
    name: ${{HOMESTACK_PREFIX:-}}{stack}_{name}_data
    driver_opts:
      type: none
      o: bind
      device: ${{DATA_ROOT:?set by homestack}}/{name}
secrets:
  {name}_password:
    file: ${{SECRETS_DIR:-./secrets}}/{name}_password
"""


def stack_yaml(
    enabled: Sequence[str],
    disabled: Sequence[str] = (),
    depends_on: Sequence[str] = (),
    *,
    network: str | None = None,
) -> str:
    lines = ["description: lint test stack", *([f"network: {network}"] if network else [])]
    if depends_on:
        lines += ["depends_on:", *[f"  - {d}" for d in depends_on]]
    lines += ["services:", *[f"  - {s}" for s in enabled], *[f"  # - {s}" for s in disabled]]
    return "\n".join(lines) + "\n"


def clean_files() -> dict[str, str]:
    return {
        "base.docker-compose.yaml": BASE,
        ".env.example": "BIND_ADDRESS=127.0.0.1\nDATA_ROOT=./DATA\n",
        "ai-stack/stack.yaml": stack_yaml(["web"]),
        "ai-stack/.env.example": "# ai settings\n",
        "ai-stack/services/web.docker-compose.yaml": service(),
    }


def replace(text: str, old: str, new: str) -> str:
    assert old in text, f"fixture text has no {old!r}"
    return text.replace(old, new, 1)


@dataclass
class Case:
    """A site: the clean one, with some files replaced (None deletes a file)."""

    rule: str
    files: dict[str, str | None] = field(default_factory=dict)
    #: the file (relative) whose MARK line the finding must point at; None for passing cases
    expect: str | None = None
    severity: str = "error"
    host_ports: bool = False
    id: str = ""

    def write(self, root: Path) -> Path:
        files: dict[str, str | None] = {**clean_files(), **self.files}
        for relative, text in files.items():
            path = root / relative
            if text is None:
                path.unlink(missing_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return root

    def expected_line(self) -> int:
        assert self.expect is not None
        text = {**clean_files(), **self.files}[self.expect]
        assert text is not None
        lines = [n for n, line in enumerate(text.splitlines(), 1) if MARK in line]
        assert len(lines) == 1, f"{self.expect} needs exactly one {MARK} marker"
        return lines[0]


def lint(root: Path, *, host_ports: bool = False) -> list[Finding]:
    return lint_site(Site.load(root), host_ports=host_ports)


def generate_site(root: Path, count: int = 200) -> Path:
    """A clean site of `count` services spread over the four stacks (for scale tests)."""
    stacks = ("ai", "essentials", "management", "media")
    networks = {"ai": "ai-services", "essentials": "essential-services"}
    networks |= {"management": "management-services", "media": "media-services"}
    files: dict[str, str] = {
        "base.docker-compose.yaml": BASE,
        ".env.example": "BIND_ADDRESS=127.0.0.1\nDATA_ROOT=./DATA\n",
    }
    names: dict[str, list[str]] = {s: [] for s in stacks}
    for number in range(count):
        stack = stacks[number % len(stacks)]
        name = f"svc{number:03d}"
        names[stack].append(name)
        text = service(name, stack, 20000 + number).replace("ai-services", networks[stack])
        files[f"{stack}-stack/services/{name}.docker-compose.yaml"] = text
        files[f"{stack}-stack/services/{name}/.env.example"] = (
            f"{name.upper()}_PORT={20000 + number}\n"
        )
    for index, stack in enumerate(stacks):
        files[f"{stack}-stack/stack.yaml"] = stack_yaml(
            names[stack], depends_on=list(stacks[:index][-1:]), network=networks[stack]
        )
        files[f"{stack}-stack/.env.example"] = f"# {stack}\n"
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
