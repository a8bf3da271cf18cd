"""The one site builder: homestack sites on disk for every test folder (real files, no mocks).

`write_site` writes the tree (base file, root `.env`/`.env.example`, each `{stack}-stack`
with its stack.yaml and service files, extra files); `compose_service` writes one service
file in the shipped layout. The named shapes below are presets of those two, kept because
many tests are written against them:

- `make_site`: essentials (proxy, critical) ← ai (ollama ← webui, whisper disabled), lint-clean
  services (`service_yaml`), no local `.env` (the catalog, lint and config tests);
- `tiny_site` + `service_file`: one stack of stand-in services (the deploy tests);
- `running_site`: stand-in services on the test prefix's external networks, returns the
  loaded Site (status/logs/doctor/top, started with `testkit.engine.start`);
- `up_site`: stacks of HTTP-serving stand-ins with health checks, each service file JSON
  (the up/down/plan tests edit them as JSON);
- `copy_catalog`: the shipped catalog itself.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import textwrap
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from homestack.catalog import Site
from testkit.engine import REPO, TEST_LABEL

BASE = (REPO / "base.docker-compose.yaml").read_text(encoding="utf-8")
STANDIN = "homestack/standin:local"
#: the stand-in image, overridable through the site's environment (the dashboard benchmark)
STANDIN_VARIABLE = "${STANDIN:-homestack/standin:local}"
#: network a stack's services join when the test names none (the shipped names)
DEFAULT = object()


@functools.cache
def shipped_networks() -> dict[str, str]:
    """Each shipped stack's network, as its stack.yaml names it (data, not code)."""
    return {stack.id: stack.network for stack in Site.load(REPO).stacks.values()}


def stack_network(stack: str) -> str:
    """The network a test stack of this id joins: the shipped stack's, else the default."""
    return shipped_networks().get(stack, f"{stack}-services")


def indented(text: str, spaces: int) -> str:
    """A YAML snippet written in a test, dedented, then indented to sit `spaces` deep."""
    return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * spaces)


def external_networks(*names: str) -> str:
    """A base file declaring these networks as external, named with the test prefix."""
    return "networks:\n" + "".join(
        f"  {n}:\n    name: ${{HOMESTACK_PREFIX:-}}{n}\n    external: true\n" for n in names
    )


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def copy_catalog(target: Path) -> Path:
    """The shipped site (base file, .env.example, every stack, no local .env) in `target`."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "base.docker-compose.yaml", target / "base.docker-compose.yaml")
    shutil.copy2(REPO / ".env.example", target / ".env.example")
    for folder in sorted(REPO.glob("*-stack")):
        shutil.copytree(folder, target / folder.name, ignore=shutil.ignore_patterns(".env"))
    return target


def volume_declaration(stack: str, name: str) -> str:
    """The top-level `volumes:` block of a service's data volume, bound under DATA_ROOT."""
    volume = f"{stack}_{name}_data"
    return (
        "volumes:\n"
        f"  {volume}:\n"
        f"    name: ${{HOMESTACK_PREFIX:-}}{volume}\n"
        "    driver: local\n"
        "    driver_opts:\n"
        "      type: none\n"
        "      o: bind\n"
        f"      device: ${{DATA_ROOT:?DATA_ROOT is set by homestack}}/{name}\n"
    )


HARDENED = (
    "    healthcheck:\n"
    '      test: ["CMD", "true"]\n'
    "      interval: 30s\n"
    '    security_opt: ["no-new-privileges:true"]\n'
    "    cap_drop: [ALL]\n"
    "    deploy:\n"
    "      resources:\n"
    "        limits: {cpus: '0.5', memory: 128m}\n"
)


def compose_service(
    name: str,
    stack: str = "ai",
    *,
    image: str = STANDIN,
    title: str | None = None,
    description: str | None = None,
    meta: str = "",
    body: str = "",
    tail: str = "",
    restart: str | None = None,
    test_label: bool = False,
    network: object = None,
    mount: bool = False,
    volume: bool = False,
    hardened: bool = False,
) -> str:
    """One service file in the shipped layout. `meta` goes into x-homestack, `body` into the
    service mapping, `tail` at the top level (YAML snippets). `network`: a network name, or
    DEFAULT for the stack's shipped one; `mount`: its data volume at /data; `volume`: declare
    that volume (bound to DATA_ROOT/NAME); `hardened`: the lint-clean health check, privileges
    and limits; `test_label`: the label the leak check knows."""

    def block(text: str, indent: int) -> str:
        return indented(text, indent) + "\n" if text else ""

    text = (
        "services:\n"
        f"  {name}:\n"
        "    x-homestack:\n"
        f"      title: {title if title is not None else name.capitalize()}\n"
        f"      description: {description if description is not None else name + ' for tests'}\n"
        + block(meta, 6)
        + f"    image: {image}\n"
        + (f"    restart: {restart}\n" if restart else "")
        + (f"    labels:\n      {TEST_LABEL}: '1'\n" if test_label else "")
        + block(body, 4)
    )
    if network is not None:
        joined = stack_network(stack) if network is DEFAULT else network
        text += f"    networks: [{joined}]\n"
    if mount:
        text += f"    volumes: ['{stack}_{name}_data:/data']\n"
    if hardened:
        text += HARDENED
    if volume:
        text += volume_declaration(stack, name)
    return text + block(tail, 0)


def stack_yaml(
    enabled: list[str],
    disabled: list[str] | None = None,
    depends_on: list[str] | None = None,
    *,
    description: str = "a test stack",
    heading: str | None = "# test stack",
    listing: Mapping[str, bool] | None = None,
    network: str | None = None,
) -> str:
    """A stack.yaml; `listing` (name → enabled, in order) replaces enabled + disabled;
    `network` is written last (the listed services keep their lines)."""
    if listing is None:
        listing = {**dict.fromkeys(enabled, True), **dict.fromkeys(disabled or [], False)}
    lines = [heading] if heading else []
    lines.append(f"description: {description}")
    if depends_on:
        lines.append("depends_on:")
        lines += [f"  - {d}" for d in depends_on]
    lines.append("services:")
    lines += [f"  {'' if on else '# '}- {s}" for s, on in listing.items()]
    if network:
        lines.append(f"network: {network}")
    return "\n".join(lines) + "\n"


def write_site(
    root: Path,
    stacks: Mapping[str, Mapping[str, str]],
    *,
    base: str = BASE,
    env: str | None = None,
    env_example: str | None = None,
    disabled: Collection[str] = (),
    depends_on: Mapping[str, list[str]] | None = None,
    description: str = "test {stack}",
    heading: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> Path:
    """A site in `root`: stacks is stack id → service → its file's text (in stack.yaml
    order; those in `disabled` listed commented out). `description` may name {stack}.
    `extra` files (relative paths) are written last, over anything above."""
    files = {"base.docker-compose.yaml": base}
    if env is not None:
        files[".env"] = env
    if env_example is not None:
        files[".env.example"] = env_example
    for stack, services in stacks.items():
        files[f"{stack}-stack/stack.yaml"] = stack_yaml(
            [],
            depends_on=(depends_on or {}).get(stack),
            description=description.format(stack=stack),
            heading=heading,
            listing={name: name not in disabled for name in services},
            # a shipped stack whose network is not {id}-services says so (essentials)
            network=_named_network(stack),
        )
        for name, text in services.items():
            files[f"{stack}-stack/services/{name}.docker-compose.yaml"] = text
    files.update(extra or {})
    return write_tree(root, files)


def _named_network(stack: str) -> str | None:
    network = stack_network(stack)
    return network if network != f"{stack}-services" else None


# --- the lint-clean catalog site -------------------------------------------------------


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
    return compose_service(
        name,
        stack,
        image=image,
        title=title,
        meta=meta,
        body=body,
        tail=tail,
        restart="unless-stopped",
        network=DEFAULT,
        mount=True,
        volume=True,
        hardened=True,
    )


def make_site(root: Path, extra: dict[str, str] | None = None) -> Path:
    """essentials (proxy, critical) ← ai (ollama ← webui, whisper disabled)."""
    return write_site(
        root,
        {
            "essentials": {
                "proxy": service_yaml(
                    "proxy",
                    "essentials",
                    meta="critical: true",
                    body='ports:\n  - "${BIND_ADDRESS:-127.0.0.1}:8443:443"',
                )
            },
            "ai": {
                "ollama": service_yaml(
                    "ollama",
                    meta="gpu: optional\nsecrets:\n  - name: api_key\n    length: 40",
                    body='ports:\n  - "${BIND_ADDRESS}:${OLLAMA_PORT:-1}:11434"\n'
                    "secrets: [ollama_api_key]",
                    tail="secrets:\n  ollama_api_key:\n"
                    "    file: ${SECRETS_DIR:-./secrets}/ollama_api_key",
                ),
                "webui": service_yaml(
                    "webui",
                    meta="web:\n  port: 8080",
                    body="depends_on:\n  ollama:\n    condition: service_healthy",
                ),
                "whisper": service_yaml("whisper"),
            },
        },
        env_example="TZ=Etc/UTC\nDATA_ROOT=./DATA\nBIND_ADDRESS=127.0.0.1\n",
        disabled={"whisper"},
        depends_on={"ai": ["essentials"]},
        description="a test stack",
        heading="# test stack",
        extra={
            "ai-stack/.env.example": "OLLAMA_PORT=11434\n",
            "ai-stack/services/ollama.nvidia.docker-compose.yaml": "services:\n  ollama: {}\n",
            **(extra or {}),
        },
    )


# --- one stack of stand-ins (the deploy tests) ---------------------------------------


def service_file(
    name: str,
    stack: str = "ai",
    *,
    meta: str = "",
    body: str = "",
    image: str = STANDIN,
    volume: bool = True,
) -> str:
    """One service in the shipped layout; `meta` goes into x-homestack, `body` into the service."""
    return compose_service(
        name,
        stack,
        image=image,
        description=f"{name} for the deploy tests",
        meta=meta,
        body=body,
        volume=volume,
    )


def tiny_site(
    root: Path,
    services: dict[str, str],
    *,
    stack: str = "ai",
    env: str = "",
    extra: dict[str, str] | None = None,
) -> Path:
    """base.docker-compose.yaml, a root .env and `{stack}-stack` with the given services."""
    return write_site(
        root,
        {stack: services},
        env="TZ=Etc/UTC\n" + env,
        description="deploy test stack",
        extra=extra,
    )


# --- running stand-ins on the test prefix's networks (status/logs/doctor/top) -------------

RUNNING_NETWORKS = {"ai": "ai-services", "media": "media-services"}


def observed_service(
    name: str,
    network: str,
    body: str,
    meta: str = "",
    *,
    title: str | None = None,
    description: str | None = None,
) -> str:
    """A stand-in service with the test label on `network`; `body` into the service."""
    return compose_service(
        name,
        image=STANDIN_VARIABLE,
        title=title if title is not None else name,
        description=description if description is not None else f"stand-in {name}",
        meta=meta,
        body=body,
        test_label=True,
        network=network,
    )


def running_env(prefix: str, env: str = "") -> str:
    """The root .env of a running test site. A HOMESTACK_PREFIX exported in the shell that
    runs pytest would win over the prefix written here; conftest.py drops it from the
    environment, and so does `running_site` (for callers outside pytest)."""
    os.environ.pop("HOMESTACK_PREFIX", None)
    return (
        f"HOMESTACK_PREFIX={prefix}\nDOMAIN=home.test\nDATA_ROOT=./DATA\n"
        f"SECRETS_DIR=./secrets\nBIND_ADDRESS=127.0.0.1\n{env}"
    )


def running_site(
    root: Path,
    prefix: str,
    stacks: dict[str, dict[str, tuple[bool, str, str]]],
    env: str = "",
) -> Site:
    """stacks: stack id → service → (enabled, compose body, x-homestack extras)."""
    write_site(
        root,
        {
            stack: {
                name: observed_service(name, RUNNING_NETWORKS[stack], body, meta)
                for name, (_, body, meta) in services.items()
            }
            for stack, services in stacks.items()
        },
        base=external_networks(*RUNNING_NETWORKS.values()),
        env=running_env(prefix, env),
        disabled={
            name for services in stacks.values() for name, spec in services.items() if not spec[0]
        },
    )
    return Site.load(root)


# --- stacks of HTTP-serving stand-ins with health checks (the up/down/plan tests) --------

HTTPD = "trap 'exit 0' TERM; httpd -p 8080 -h /etc; while :; do sleep 1 & wait $!; done"
HEALTH = {
    "test": ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/hostname"],
    "interval": "1s",
    "timeout": "2s",
    "retries": 30,
}


def up_service(stack: str, name: str, spec: dict[str, Any]) -> str:
    """One service, compose + x-homestack, as JSON (valid YAML; the tests edit it as JSON).
    spec keys: critical, needs (x-homestack depends_on), image, script, healthcheck,
    restart, depends_on (compose's), secret, reload (x-homestack's)."""
    meta: dict[str, Any] = {
        "title": name,
        "description": "test service",
        "critical": spec.get("critical", True),
        "depends_on": spec.get("needs", []),
        "web": {"port": 8080},
    }
    if "reload" in spec:
        meta["reload"] = spec["reload"]
    service: dict[str, Any] = {
        "x-homestack": meta,
        "image": spec.get("image", STANDIN),
        "entrypoint": ["sh", "-c", spec.get("script", HTTPD)],
        "healthcheck": spec.get("healthcheck", HEALTH),
        "networks": [stack_network(stack)],
        "volumes": [f"{stack}_{name}_data:/data"],
        "security_opt": ["no-new-privileges:true"],
        "restart": spec.get("restart", "no"),
    }
    if "depends_on" in spec:  # compose depends_on, as written in the service file
        service["depends_on"] = spec["depends_on"]
    volume = f"{stack}_{name}_data"
    doc: dict[str, Any] = {
        "services": {name: service},
        "volumes": {
            volume: {
                "name": "${HOMESTACK_PREFIX:-}" + volume,
                "driver": "local",
                "driver_opts": {
                    "type": "none",
                    "o": "bind",
                    "device": "${DATA_ROOT:?DATA_ROOT is set by homestack}/" + name,
                },
            }
        },
    }
    if spec.get("secret"):
        meta["secrets"] = [{"name": "password"}]
        service["secrets"] = [f"{name}_password"]
        doc["secrets"] = {
            f"{name}_password": {"file": "${SECRETS_DIR:-./secrets}/" + f"{name}_password"}
        }
    return json.dumps(doc, indent=2) + "\n"


def up_site(root: Path, stacks: dict[str, dict[str, Any]]) -> Path:
    """stacks: id → {"depends_on": [...], "services": {name: spec}} (spec: `up_service`)."""
    return write_site(
        root,
        {
            stack: {name: up_service(stack, name, spec) for name, spec in body["services"].items()}
            for stack, body in stacks.items()
        },
        env="TZ=Etc/UTC\nDATA_ROOT=./DATA\nSECRETS_DIR=./secrets\n",
        depends_on={stack: body.get("depends_on", []) for stack, body in stacks.items()},
        description="{stack} test stack",
    )
