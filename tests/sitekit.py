"""Build small homestack sites on disk for unit tests (real files, no mocks)."""

from __future__ import annotations

import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASE = (REPO / "base.docker-compose.yaml").read_text(encoding="utf-8")


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
    title: str | None = None,
) -> str:
    """One service file in the shipped layout; `meta` and `body` are extra YAML lines."""
    meta_lines = textwrap.indent(textwrap.dedent(meta).strip("\n"), " " * 6) if meta else ""
    body_lines = textwrap.indent(textwrap.dedent(body).strip("\n"), " " * 4) if body else ""
    return (
        "services:\n"
        f"  {name}:\n"
        "    x-homestack:\n"
        f"      title: {title or name.capitalize()}\n"
        f"      description: {name} for tests\n"
        + (meta_lines + "\n" if meta_lines else "")
        + f"    image: {image}\n"
        + (body_lines + "\n" if body_lines else "")
        + "volumes:\n"
        f"  {stack}_{name}_data:\n"
        f"    name: ${{HOMESTACK_PREFIX:-}}{stack}_{name}_data\n"
    )


def stack_yaml(
    enabled: list[str], disabled: list[str] | None = None, depends_on: list[str] | None = None
) -> str:
    lines = ["# test stack", "description: a test stack"]
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
        "essentials-stack/stack.yaml": stack_yaml(["proxy"]),
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
            body='ports:\n  - "${BIND_ADDRESS}:${OLLAMA_PORT:-1}:11434"',
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
