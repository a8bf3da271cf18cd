"""Build small homestack sites on disk for unit tests (real files, no mocks)."""

from __future__ import annotations

import functools
import shutil
import textwrap
from pathlib import Path

import pytest

from homestack.catalog import Site

REPO = Path(__file__).resolve().parents[1]
BASE = (REPO / "base.docker-compose.yaml").read_text(encoding="utf-8")


@functools.cache
def shipped_networks() -> dict[str, str]:
    """Each shipped stack's network, as its stack.yaml names it (data, not code)."""
    return {stack.id: stack.network for stack in Site.load(REPO).stacks.values()}


def stack_network(stack: str) -> str:
    """The network a test stack of this id joins: the shipped stack's, else the default."""
    return shipped_networks().get(stack, f"{stack}-services")


def copy_catalog(target: Path) -> Path:
    """The shipped site (base file, .env.example, every stack, no local .env) in `target`."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "base.docker-compose.yaml", target / "base.docker-compose.yaml")
    shutil.copy2(REPO / ".env.example", target / ".env.example")
    for folder in sorted(REPO.glob("*-stack")):
        shutil.copytree(folder, target / folder.name, ignore=shutil.ignore_patterns(".env"))
    return target


def indented(text: str, spaces: int) -> str:
    """A YAML snippet written in a test, dedented, then indented to sit `spaces` deep."""
    return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * spaces)


def external_networks(*names: str) -> str:
    """A base file declaring these networks as external, named with the test prefix."""
    return "networks:\n" + "".join(
        f"  {n}:\n    name: ${{HOMESTACK_PREFIX:-}}{n}\n    external: true\n" for n in names
    )


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def service_yaml(
    name: str,
    stack: str = "ai",
    *,
    image: str = "example/app:1.2.3",
    meta: str = "",
    body: str = "",
    tail: str = "",
    title: str | None = None,
) -> str:
    """One lint-clean service file in the shipped layout; `meta` goes into x-homestack,
    `body` into the service mapping and `tail` at the top level (extra YAML lines)."""

    def block(text: str, indent: int) -> str:
        return indented(text, indent) + "\n"

    volume = f"{stack}_{name}_data"
    return (
        "services:\n"
        f"  {name}:\n"
        "    x-homestack:\n"
        f"      title: {title or name.capitalize()}\n"
        f"      description: {name} for tests\n"
        + (block(meta, 6) if meta else "")
        + f"    image: {image}\n"
        "    restart: unless-stopped\n"
        + (block(body, 4) if body else "")
        + f"    networks: [{stack_network(stack)}]\n"
        f"    volumes: ['{volume}:/data']\n"
        "    healthcheck:\n"
        '      test: ["CMD", "true"]\n'
        "      interval: 30s\n"
        '    security_opt: ["no-new-privileges:true"]\n'
        "    cap_drop: [ALL]\n"
        "    deploy:\n"
        "      resources:\n"
        "        limits: {cpus: '0.5', memory: 128m}\n"
        "volumes:\n"
        f"  {volume}:\n"
        f"    name: ${{HOMESTACK_PREFIX:-}}{volume}\n"
        "    driver: local\n"
        "    driver_opts:\n"
        "      type: none\n"
        "      o: bind\n"
        f"      device: ${{DATA_ROOT:?DATA_ROOT is set by homestack}}/{name}\n"
        + (block(tail, 0) if tail else "")
    )


def stack_yaml(
    enabled: list[str],
    disabled: list[str] | None = None,
    depends_on: list[str] | None = None,
    *,
    network: str | None = None,
) -> str:
    lines = ["# test stack", "description: a test stack"]
    if network:
        lines.append(f"network: {network}")
    if depends_on:
        lines.append("depends_on:")
        lines += [f"  - {d}" for d in depends_on]
    lines.append("services:")
    lines += [f"  - {s}" for s in enabled]
    lines += [f"  # - {s}" for s in disabled or []]
    return "\n".join(lines) + "\n"


def make_site(root: Path, extra: dict[str, str] | None = None) -> Path:
    """essentials (proxy, critical) ← ai (ollama ← webui, whisper disabled)."""
    files = {
        "base.docker-compose.yaml": BASE,
        ".env.example": "TZ=Etc/UTC\nDATA_ROOT=./DATA\nBIND_ADDRESS=127.0.0.1\n",
        "essentials-stack/stack.yaml": stack_yaml(["proxy"], network=stack_network("essentials")),
        "essentials-stack/services/proxy.docker-compose.yaml": service_yaml(
            "proxy",
            "essentials",
            meta="critical: true",
            body='ports:\n  - "${BIND_ADDRESS:-127.0.0.1}:8443:443"',
        ),
        "ai-stack/stack.yaml": stack_yaml(
            ["ollama", "webui"], ["whisper"], depends_on=["essentials"]
        ),
        "ai-stack/.env.example": "OLLAMA_PORT=11434\n",
        "ai-stack/services/ollama.docker-compose.yaml": service_yaml(
            "ollama",
            meta="gpu: optional\nsecrets:\n  - name: api_key\n    length: 40",
            body='ports:\n  - "${BIND_ADDRESS}:${OLLAMA_PORT:-1}:11434"\nsecrets: [ollama_api_key]',
            tail="secrets:\n  ollama_api_key:\n    file: ${SECRETS_DIR:-./secrets}/ollama_api_key",
        ),
        "ai-stack/services/ollama.nvidia.docker-compose.yaml": "services:\n  ollama: {}\n",
        "ai-stack/services/webui.docker-compose.yaml": service_yaml(
            "webui",
            meta="web:\n  port: 8080",
            body="depends_on:\n  ollama:\n    condition: service_healthy",
        ),
        "ai-stack/services/whisper.docker-compose.yaml": service_yaml("whisper"),
    }
    files.update(extra or {})
    return write_tree(root, files)


def cli_output(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run the CLI in this process: (exit code, what it printed on stdout and stderr)."""
    from homestack.cli.app import run

    capsys.readouterr()
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err
