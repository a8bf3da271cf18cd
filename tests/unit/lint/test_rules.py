# ruff: noqa: E501  (fixture YAML reads best one planted line per string)
"""Every lint rule: one (or more) failing fixture with its id, file and line, and a passing one."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from lintkit import MARK, Case, lint, replace, service, stack_yaml

from homestack.lint import RULES

W = "ai-stack/services/web.docker-compose.yaml"
S = service()
API = "ai-stack/services/api.docker-compose.yaml"
WEB_LINE = "  web:\n"
MARKED_WEB = f"  web:  {MARK}\n"
PORT_LINE = '      - "${BIND_ADDRESS:-127.0.0.1}:${WEB_PORT:-18080}:80"\n'
TWO = stack_yaml(["web", "api"])


def web(old: str, new: str) -> dict[str, str | None]:
    return {W: replace(S, old, new)}


def drop(old: str) -> dict[str, str | None]:
    """Remove `old` from the web service and mark the service's own line."""
    return {W: replace(replace(S, old, ""), WEB_LINE, MARKED_WEB)}


def add_meta(lines: str) -> str:
    return replace(
        S,
        "      secrets:\n        - name: password\n",
        lines + "      secrets:\n        - name: password\n",
    )


def add_web(text: str, lines: str) -> str:
    return replace(text, "      secrets:\n", lines + "      secrets:\n")


FAILING = [
    Case(
        "yaml.syntax",
        web("    restart: unless-stopped\n", f"    restart: unless: stopped  {MARK}\n"),
        W,
    ),
    Case(
        "yaml.syntax",
        {"ai-stack/services/web.nvidia.docker-compose.yaml": f"services:\n  web: x: y  {MARK}\n"},
        "ai-stack/services/web.nvidia.docker-compose.yaml",
        id="overlay",
    ),
    Case(
        "yaml.duplicate-key",
        web(
            "    restart: unless-stopped\n",
            f"    restart: unless-stopped\n    restart: always  {MARK}\n",
        ),
        W,
    ),
    Case(
        "file.naming",
        {"ai-stack/services/web2.compose.yaml": f"{MARK}\nservices: {{}}\n"},
        "ai-stack/services/web2.compose.yaml",
    ),
    Case(
        "file.naming",
        {"ai-stack/services/web.cuda.docker-compose.yaml": f"{MARK}\nservices: {{}}\n"},
        "ai-stack/services/web.cuda.docker-compose.yaml",
        id="unknown-overlay-kind",
    ),
    Case(
        "file.naming",
        {"ai-stack/api.docker-compose.yaml": f"{MARK}\nservices: {{}}\n"},
        "ai-stack/api.docker-compose.yaml",
        id="outside-services",
    ),
    Case(
        "meta.missing",
        {
            W: replace(
                replace(S, S[S.index("    x-homestack:") : S.index("    image:")], ""),
                WEB_LINE,
                MARKED_WEB,
            )
        },
        W,
    ),
    Case("meta.schema", {W: add_meta(f"      gpu: maybe  {MARK}\n")}, W),
    Case("stack.missing", {"ai-stack/stack.yaml": None}, "ai-stack/stack.yaml"),
    Case(
        "stack.schema",
        {
            "ai-stack/stack.yaml": f"description: x\ndepends_on: essentials  {MARK}\nservices:\n  - web\n"
        },
        "ai-stack/stack.yaml",
    ),
    Case(
        "stack.services",
        {"ai-stack/stack.yaml": f"services: [web]  {MARK}\n"},
        "ai-stack/stack.yaml",
    ),
    Case(
        "stack.unknown-service",
        {"ai-stack/stack.yaml": f"services:\n  - web\n  - wbe  {MARK}\n"},
        "ai-stack/stack.yaml",
    ),
    Case(
        "stack.listed-twice",
        {"ai-stack/stack.yaml": f"services:\n  - web\n  - api\n  - web  {MARK}\n"},
        "ai-stack/stack.yaml",
    ),
    Case(
        "service.duplicate",
        {
            "media-stack/stack.yaml": stack_yaml(["web"]),
            "media-stack/services/web.docker-compose.yaml": f"{MARK}\n"
            + service("web", "media", 18081),
        },
        "media-stack/services/web.docker-compose.yaml",
    ),
    Case(
        "env.syntax",
        {".env.example": f"BIND_ADDRESS=127.0.0.1\nnot an assignment  {MARK}\n"},
        ".env.example",
    ),
    Case(
        "service.per-file",
        web(
            "volumes:\n  ai_web_data:",
            f"  other:  {MARK}\n    image: example/other:1.0\nvolumes:\n  ai_web_data:",
        ),
        W,
    ),
    Case(
        "service.per-file",
        {
            "ai-stack/services/web.nvidia.docker-compose.yaml": f"services:\n  api:  {MARK}\n    gpus: all\n"
        },
        "ai-stack/services/web.nvidia.docker-compose.yaml",
        id="overlay-names-another-service",
    ),
    Case(
        "image.unpinned",
        web("    image: example/web:1.2.3\n", f"    image: example/web:latest  {MARK}\n"),
        W,
    ),
    Case(
        "image.unpinned",
        web("    image: example/web:1.2.3\n", f"    image: example/web  {MARK}\n"),
        W,
        id="no-tag",
    ),
    Case(
        "image.unpinned",
        web("    image: example/web:1.2.3\n", f"    image: example/web:rocm  {MARK}\n"),
        W,
        id="variant-without-version",
    ),
    Case(
        "image.unpinned",
        {
            "ai-stack/services/web.amd.docker-compose.yaml": f"services:\n  web:\n    image: example/web:latest  {MARK}\n"
        },
        "ai-stack/services/web.amd.docker-compose.yaml",
        id="overlay",
    ),
    Case(
        "socket.mount",
        {
            "ai-stack/services/web.nvidia.docker-compose.yaml": f"services:\n  web:\n    volumes:\n      - /run/docker.sock:/var/run/docker.sock:ro  {MARK}\n"
        },
        "ai-stack/services/web.nvidia.docker-compose.yaml",
        id="overlay",
    ),
    Case(
        "network.unknown",
        {
            "ai-stack/services/web.iot.docker-compose.yaml": f"services:\n  web:\n    networks:\n      - iot-macvlan  {MARK}\n"
        },
        "ai-stack/services/web.iot.docker-compose.yaml",
        id="overlay",
    ),
    Case("image.missing", drop("    image: example/web:1.2.3\n"), W),
    Case(
        "health.missing",
        drop('    healthcheck:\n      test: ["CMD", "true"]\n      interval: 30s\n'),
        W,
    ),
    Case(
        "health.missing",
        web("    healthcheck:\n", f"    healthcheck:  {MARK}\n      disable: true\n"),
        W,
        id="disabled",
    ),
    Case(
        "resources.missing",
        {
            W: replace(
                replace(S, "          memory: 64m\n", ""),
                "        limits:\n",
                f"        limits:  {MARK}\n",
            )
        },
        W,
    ),
    Case(
        "gpu.outside-overlay",
        web(
            "    deploy:\n      resources:\n",
            "    deploy:\n      resources:\n        reservations:\n"
            f"          devices:  {MARK}\n            - driver: nvidia\n              capabilities: [gpu]\n",
        ),
        W,
    ),
    Case(
        "gpu.outside-overlay",
        web("    restart:", f"    devices:\n      - /dev/dri:/dev/dri  {MARK}\n    restart:"),
        W,
        id="dri",
    ),
    Case(
        "socket.mount",
        web(
            "      - ai_web_data:/data\n",
            f"      - ai_web_data:/data\n      - /var/run/docker.sock:/var/run/docker.sock:ro  {MARK}\n",
        ),
        W,
    ),
    Case(
        "security.privileged",
        web("    restart:", f"    privileged: true  {MARK}\n    restart:"),
        W,
        severity="warning",
    ),
    Case(
        "network.host-mode",
        web("    restart:", f"    network_mode: host  {MARK}\n    restart:"),
        W,
        severity="warning",
    ),
    Case(
        "security.no-new-privileges",
        drop("    security_opt:\n      - no-new-privileges:true\n"),
        W,
        severity="warning",
    ),
    Case("restart.missing", drop("    restart: unless-stopped\n"), W, severity="warning"),
    Case("network.unknown", web("      - ai-services\n", f"      - ai-service  {MARK}\n"), W),
    Case(
        "network.unknown",
        web("      - ai-services\n", f"      - backend  {MARK}\n").copy()
        | {
            W: replace(
                replace(S, "      - ai-services\n", f"      - backend  {MARK}\n"),
                "volumes:\n  ai_web",
                "networks:\n  backend: {}\nvolumes:\n  ai_web",
            )
        },
        W,
        id="defined-not-internal",
    ),
    Case("network.none", drop("    networks:\n      - ai-services\n"), W, severity="warning"),
    Case(
        "network.stack",
        web(
            "    networks:\n      - ai-services\n",
            f"    networks:\n      - media-services  {MARK}\n",
        ),
        W,
    ),
    Case(
        "network.iot-outside-overlay",
        web("      - ai-services\n", f"      - ai-services\n      - iot_macvlan  {MARK}\n"),
        W,
        severity="warning",
    ),
    Case(
        "volume.name",
        {
            W: replace(
                replace(S, "  ai_web_data:\n    name:", f"  web_data:  {MARK}\n    name:"),
                "      - ai_web_data:/data",
                "      - web_data:/data",
            )
        },
        W,
    ),
    Case(
        "volume.name",
        web("    name: ${HOMESTACK_PREFIX:-}ai_web_data\n", f"    name: ai_web_data  {MARK}\n"),
        W,
        id="name",
    ),
    Case(
        "volume.name",
        web(
            "      - ai_web_data:/data\n",
            f"      - ai_web_data:/data\n      - ai_web_cache:/cache  {MARK}\n",
        ),
        W,
        id="undefined-mount",
    ),
    Case(
        "secret.name",
        web(
            "        - name: password\n",
            f"        - name: password\n        - name: password  {MARK}\n          length: 8\n",
        ),
        W,
        id="listed-twice",
    ),
    Case(
        "secret.name",
        {W: add_meta("")}
        | web(
            "        - name: password\n",
            f"        - name: password\n        - name: token  {MARK}\n",
        ),
        W,
    ),
    Case(
        "secret.name",
        web(
            "  web_password:\n    file: ${SECRETS_DIR:-./secrets}/web_password\n",
            f"  web_password:\n    file: ${{SECRETS_DIR:-./secrets}}/web_password\n  password:  {MARK}\n    file: ./password\n",
        ),
        W,
        id="prefix",
    ),
    Case(
        "secret.name",
        web("      - web_password\n", f"      - web_password\n      - web_token  {MARK}\n"),
        W,
        id="undeclared-use",
    ),
    Case("ports.invalid", web(PORT_LINE, f'      - "abc:def"  {MARK}\n'), W),
    Case("ports.range", web(PORT_LINE, f'      - "127.0.0.1:70000:80"  {MARK}\n'), W),
    Case(
        "service.container-name",
        web("    restart:", f"    container_name: web  {MARK}\n    restart:"),
        W,
        severity="warning",
    ),
    Case(
        "secret.literal",
        web("    restart:", f"    environment:\n      DB_PASSWORD: hunter2  {MARK}\n    restart:"),
        W,
        severity="warning",
    ),
    Case(
        "secret.literal",
        web("    restart:", f"    environment:\n      - API_TOKEN=abc123  {MARK}\n    restart:"),
        W,
        severity="warning",
        id="list",
    ),
    Case(
        "secret.literal",
        web(
            "    restart:",
            f"    environment:\n      WEBUI_SECRET_KEY: t0p-s3cret  {MARK}\n    restart:",
        ),
        W,
        severity="warning",
        id="secret-key",
    ),
    Case(
        "secret.literal",
        web(
            "    restart:",
            f"    environment:\n      - STORAGE_ENCRYPTION_KEY=0123456789abcdef  {MARK}\n    restart:",
        ),
        W,
        severity="warning",
        id="encryption-key",
    ),
    Case(
        "web.subdomain",
        {
            "ai-stack/stack.yaml": TWO,
            API: add_web(service("api", port=18081), "      web: {port: 80, subdomain: docs}\n"),
            W: add_web(S, f"      web:\n        port: 80\n        subdomain: docs  {MARK}\n"),
        },
        W,
    ),
    Case(
        "web.subdomain",
        {
            "ai-stack/stack.yaml": TWO,
            API: add_web(service("api", port=18081), "      web: {port: 80}\n"),
            W: add_web(S, f"      web:\n        port: 80\n        subdomain: api  {MARK}\n"),
        },
        W,
        id="another-service-id",
    ),
    Case(
        "web.subdomain",
        {W: add_web(S, f"      web:\n        port: 80\n        subdomain: Chat UI  {MARK}\n")},
        W,
        id="not-a-dns-label",
    ),
    Case(
        "ports.conflict",
        {
            "ai-stack/stack.yaml": TWO,
            API: service("api", port=18080),
            W: replace(S, PORT_LINE, PORT_LINE.rstrip("\n") + f"  {MARK}\n"),
        },
        W,
    ),
    Case(
        "ports.conflict",
        {
            "ai-stack/stack.yaml": stack_yaml(["web"], ["api"]),
            API: service("api", port=18080),
            W: replace(S, PORT_LINE, PORT_LINE.rstrip("\n") + f"  {MARK}\n"),
        },
        W,
        severity="warning",
        id="enabled-vs-disabled",
    ),
    Case(
        "ports.conflict",
        {
            "media-stack/stack.yaml": stack_yaml(["tv"]),
            "media-stack/services/tv.docker-compose.yaml": replace(
                service("tv", "media", 18080), "${TV_PORT:-18080}:80", "0.0.0.0:18080:80"
            ).replace('"${BIND_ADDRESS:-127.0.0.1}:0.0.0.0', '"0.0.0.0'),
            W: replace(S, PORT_LINE, PORT_LINE.rstrip("\n") + f"  {MARK}\n"),
        },
        W,
        id="across-stacks",
    ),
    Case("ports.all-interfaces", web(PORT_LINE, f'      - "18080:80"  {MARK}\n'), W),
    Case(
        "ports.all-interfaces",
        web(PORT_LINE, f'      - "0.0.0.0:18080:80"  {MARK}\n'),
        W,
        id="any-address",
    ),
    Case(
        "ports.all-interfaces",
        web(PORT_LINE, f'      - "${{WEB_PORT:-18080}}:80"  {MARK}\n'),
        W,
        id="port-from-variable",
    ),
    Case(
        "ports.all-interfaces",
        web(PORT_LINE, f'      - "${{WEB_HOST_IP}}:18080:80"  {MARK}\n')
        | {"ai-stack/.env.example": "WEB_HOST_IP=0.0.0.0\n"},
        W,
        severity="warning",
        id="address-from-other-variable",
    ),
    Case(
        "depends.cycle",
        {
            "ai-stack/stack.yaml": TWO,
            W: add_meta(f"      depends_on:\n        - api  {MARK}\n"),
            API: replace(
                service("api", port=18081),
                "      secrets:\n",
                "      depends_on: [web]\n      secrets:\n",
            ),
        },
        W,
    ),
    Case(
        "depends.cycle",
        {
            "ai-stack/stack.yaml": f"depends_on:\n  - media  {MARK}\nservices:\n  - web\n",
            "media-stack/stack.yaml": stack_yaml(["tv"], depends_on=["ai"]),
            "media-stack/services/tv.docker-compose.yaml": service("tv", "media", 18081),
        },
        "ai-stack/stack.yaml",
        id="stacks",
    ),
    Case(
        "depends.cycle",
        {
            W: add_meta(f"      depends_on:\n        - tv  {MARK}\n"),
            "media-stack/stack.yaml": stack_yaml(["tv"], depends_on=["ai"]),
            "media-stack/services/tv.docker-compose.yaml": service("tv", "media", 18081),
        },
        W,
        id="service-to-stack-that-waits-for-it",
    ),
    Case("depends.unknown", {W: add_meta(f"      depends_on:\n        - nope  {MARK}\n")}, W),
    Case(
        "depends.unknown",
        {
            "ai-stack/stack.yaml": stack_yaml(["web"], ["api"]),
            API: service("api", port=18081),
            W: add_meta(f"      depends_on:\n        - api  {MARK}\n"),
        },
        W,
        id="disabled",
    ),
    Case(
        "depends.unknown",
        {"ai-stack/stack.yaml": f"depends_on:\n  - essential  {MARK}\nservices:\n  - web\n"},
        "ai-stack/stack.yaml",
        id="stack",
    ),
    Case(
        "env.required",
        web(
            "    restart:",
            f"    environment:\n      TOKEN: ${{WEB_TOKEN_LINT_TEST:?set it}}  {MARK}\n    restart:",
        ),
        W,
    ),
    Case(
        "env.required",
        {
            "ai-stack/.env.example": f"# ai\nAI_MODEL_LINT_TEST=small  {MARK}\n",
            "ai-stack/.env": "# mine, older\n",
        },
        "ai-stack/.env.example",
        id="env-lacks-example-entry",
    ),
    Case(
        "env.unset",
        web(
            "    restart:",
            f"    environment:\n      MODE: ${{WEB_MODE_LINT_TEST}}  {MARK}\n    restart:",
        ),
        W,
        severity="warning",
    ),
    Case(
        "env.timezone",
        {".env.example": f"BIND_ADDRESS=127.0.0.1\nDATA_ROOT=./DATA\nTZ=Not/AZone  {MARK}\n"},
        ".env.example",
    ),
    Case(
        "env.domain",
        {"ai-stack/.env.example": f"# ai settings\nDOMAIN=ai.lan  {MARK}\n"},
        "ai-stack/.env.example",
    ),
    Case(
        "env.domain",
        {"ai-stack/services/web/.env.example": f"DOMAIN=web.lan  {MARK}\n"},
        "ai-stack/services/web/.env.example",
        id="service-layer",
    ),
    Case(
        "env.backup-repository",
        {".env.example": f"BIND_ADDRESS=127.0.0.1\nBACKUP_REPOSITORY=/mnt/backups  {MARK}\n"},
        ".env.example",
    ),
    Case(
        "ports.signon-bypass",
        {
            W: replace(
                add_web(S, "      web:\n        port: 80\n"),
                PORT_LINE,
                PORT_LINE.rstrip("\n") + f"  {MARK}\n",
            )
        },
        W,
    ),
    Case(
        "ports.signon-bypass",
        {
            ".env.example": "BIND_ADDRESS=192.168.1.10\nDATA_ROOT=./DATA\n",
            W: replace(
                add_web(S, "      web:\n        port: 80\n        publish: true\n"),
                PORT_LINE,
                PORT_LINE.rstrip("\n") + f"  {MARK}\n",
            ),
        },
        W,
        severity="warning",
        id="opted-in-on-the-lan",
    ),
]

LOCK = '{{"version": 1, "services": {{\n  "web": {{"image": "example/web:{tag}", "digest": "sha256:{d}"{mark}}}\n}}}}\n'


def lock(tag: str, mark: str = "") -> dict[str, str | None]:
    return {"homestack.lock": LOCK.format(tag=tag, d="a" * 64, mark=mark)}


FAILING += [
    Case("lock.stale", lock("1.2.2", f', "note": "{MARK}"'), "homestack.lock"),
    Case("lock.stale", {"homestack.lock": f"{{ {MARK}\n"}, "homestack.lock", id="not-json"),
]

PASSING = [
    Case("lock.stale", lock("1.2.3")),
    Case(
        "yaml.syntax",
        {"ai-stack/services/web.nvidia.docker-compose.yaml": "services:\n  web:\n    gpus: all\n"},
    ),
    Case("yaml.duplicate-key"),
    Case(
        "file.naming",
        {"ai-stack/services/web.nvidia.docker-compose.yaml": "services:\n  web: {}\n"},
    ),
    Case("meta.missing"),
    Case("meta.schema", {W: add_meta("      gpu: optional\n")}),
    Case("stack.missing"),
    Case("stack.schema"),
    Case(
        "stack.services", {"ai-stack/stack.yaml": "# c\nservices:\n  - web  # the web\n  # - old\n"}
    ),
    Case("stack.unknown-service"),
    Case("stack.listed-twice", {"ai-stack/stack.yaml": "services:\n  - web\n  # - web\n"}),
    Case(
        "service.duplicate",
        {
            "media-stack/stack.yaml": stack_yaml(["tv"]),
            "media-stack/services/tv.docker-compose.yaml": service("tv", "media", 18081),
        },
    ),
    Case(
        "env.syntax",
        {".env.example": "# comment\nBIND_ADDRESS=127.0.0.1 # inline\nexport DATA_ROOT=./DATA\n"},
    ),
    Case(
        "service.per-file",
        {"ai-stack/services/web.nvidia.docker-compose.yaml": "services:\n  web:\n    gpus: all\n"},
    ),
    Case(
        "web.subdomain",
        {
            "ai-stack/stack.yaml": stack_yaml(["web"], ["api"]),  # a disabled one may share it
            API: add_web(service("api", port=18081), "      web: {port: 80, subdomain: docs}\n"),
            W: add_web(S, "      web: {port: 80, subdomain: docs.v2}\n"),
        },
    ),
    Case(
        "image.unpinned",
        web("    image: example/web:1.2.3\n", "    image: example/web@sha256:" + "a" * 64 + "\n"),
    ),
    Case("image.missing", web("    image: example/web:1.2.3\n", "    build: .\n")),
    Case(
        "health.missing",
        {
            W: replace(
                add_meta("      oneshot: true\n"),
                '    healthcheck:\n      test: ["CMD", "true"]\n      interval: 30s\n',
                "",
            )
        },
    ),
    Case(
        "resources.missing",
        web(
            '    deploy:\n      resources:\n        limits:\n          cpus: "1"\n          memory: 64m\n',
            "    cpus: 0.5\n    mem_limit: 64m\n",
        ),
    ),
    Case(
        "gpu.outside-overlay",
        {
            "ai-stack/services/web.nvidia.docker-compose.yaml": "services:\n  web:\n    deploy:\n      resources:\n        reservations:\n          devices:\n            - driver: nvidia\n              capabilities: [gpu]\n",
            "ai-stack/services/web.intel.docker-compose.yaml": "services:\n  web:\n    devices:\n      - /dev/dri:/dev/dri\n",
        },
    ),
    Case(
        "socket.mount",
        {
            W: replace(
                replace(
                    S,
                    "      - ai_web_data:/data\n",
                    "      - ai_web_data:/data\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n",
                ),
                "      - ai-services\n",
                "      - docker_api\n",
            ).replace(
                "volumes:\n  ai_web_data:",
                "networks:\n  docker_api:\n    internal: true\nvolumes:\n  ai_web_data:",
            )
        },
    ),
    Case("security.privileged", web("    restart:", "    privileged: false\n    restart:")),
    Case("network.host-mode", web("    restart:", "    network_mode: bridge\n    restart:")),
    Case(
        "security.no-new-privileges",
        web("      - no-new-privileges:true\n", "      - no-new-privileges=true\n"),
    ),
    Case(
        "restart.missing",
        {W: replace(add_meta("      oneshot: true\n"), "    restart: unless-stopped\n", "")},
    ),
    Case(
        "network.unknown",
        {
            W: replace(
                replace(S, "      - ai-services\n", "      - ai-services\n      - backend\n"),
                "volumes:\n  ai_web",
                "networks:\n  backend:\n    internal: true\nvolumes:\n  ai_web",
            )
        },
    ),
    Case(
        "network.none",
        web("    networks:\n      - ai-services\n", "    network_mode: service:api\n"),
    ),
    Case(
        "network.stack",
        web("      - ai-services\n", "      - media-services\n      - ai-services\n"),
    ),
    Case(
        "network.iot-outside-overlay",
        {
            "ai-stack/services/web.iot.docker-compose.yaml": "services:\n  web:\n    networks:\n      - iot_macvlan\n"
        },
    ),
    Case(
        "volume.name",
        {
            W: replace(
                replace(
                    S,
                    "      - ai_web_data:/data\n",
                    "      - ai_web_data:/data\n      - ai_web_cache:/cache\n",
                ),
                "secrets:\n  web_password",
                "  ai_web_cache:\n    name: ${HOMESTACK_PREFIX:-}ai_web_cache\nsecrets:\n  web_password",
            )
        },
    ),
    Case("secret.name"),
    Case("service.container-name"),
    Case(
        "secret.literal",
        web(
            "    restart:",
            "    environment:\n      DB_PASSWORD_FILE: /run/secrets/web_password\n      API_TOKEN: ${WEB_API_TOKEN:-}\n      DISABLE_TOKEN: 'true'\n    restart:",
        ),
    ),
    Case(
        "ports.invalid",
        web(
            PORT_LINE,
            "      - target: 80\n        published: 18080\n        host_ip: ${BIND_ADDRESS:-127.0.0.1}\n",
        ),
    ),
    Case(
        "ports.conflict",
        {
            "ai-stack/stack.yaml": TWO,
            API: service("api", port=18080).replace("${BIND_ADDRESS:-127.0.0.1}", "127.0.0.2"),
        },
    ),
    Case("ports.range", web(PORT_LINE, '      - "127.0.0.1:65535:80"\n')),
    Case("ports.in-use", host_ports=False),
    Case("ports.all-interfaces", {".env": "BIND_ADDRESS=0.0.0.0\nDATA_ROOT=./DATA\n"}),
    Case(
        "depends.cycle",
        {
            "ai-stack/stack.yaml": TWO,
            W: add_meta("      depends_on:\n        - api\n"),
            API: service("api", port=18081),
        },
    ),
    Case(
        "depends.unknown",
        {
            "ai-stack/stack.yaml": TWO,
            W: add_meta("      depends_on:\n        - api\n"),
            API: service("api", port=18081),
        },
    ),
    Case(
        "env.required",
        {
            "ai-stack/.env.example": "AI_MODEL_LINT_TEST=small\n",
            "ai-stack/.env": "AI_MODEL_LINT_TEST=big\n",
        },
    ),
    Case(
        "env.unset",
        web(
            "    restart:",
            "    environment:\n      MODE: ${WEB_MODE_LINT_TEST:-fast}\n      PAY: $$HOME\n    restart:",
        ),
    ),
    Case("env.timezone", {".env.example": "BIND_ADDRESS=127.0.0.1\nTZ=Europe/Berlin\n"}),
    Case(
        "env.domain",
        {
            ".env.example": "BIND_ADDRESS=127.0.0.1\nDOMAIN=home.lan\n",
            "ai-stack/.env.example": "DOMAIN=${DOMAIN}\n",  # the same domain: fine
        },
    ),
    Case(
        "env.backup-repository",
        {".env.example": "BIND_ADDRESS=127.0.0.1\nBACKUP_REPOSITORY=/mnt/backups/{service}\n"},
    ),
    Case(
        "ports.signon-bypass",
        {W: add_web(S, "      web:\n        port: 80\n        publish: true\n")},
    ),
    Case(
        "ports.signon-bypass",
        {W: add_web(S, "      web:\n        port: 80\n        auth: false\n")},
        id="own-login",
    ),
]


# ---- issue 14: the cookie domain and the service facts (services/{id}/facts.yaml) ----------
FACTS = "ai-stack/services/web/facts.yaml"
_FACTS = """\
image: example/web
version: "1.2.3"
checked_on: 2026-12-07
sources: ["example/web 1.2.3 Dockerfile"]
found: fixture
"""


def facts(extra: str = "", version: str = "1.2.3") -> str:
    return _FACTS.replace('"1.2.3"', f'"{version}"') + extra


WEB_META = "      web:\n        port: 80\n        health_path: /health\n"
H14_FAILING = [
    Case(
        "env.domain-cookie",
        {".env.example": f"BIND_ADDRESS=127.0.0.1\nDOMAIN=home.arpa  {MARK}\n"},
        ".env.example",
    ),
    Case(
        "env.domain-cookie",
        {".env.example": f"BIND_ADDRESS=127.0.0.1\nDOMAIN=lan  {MARK}\n"},
        ".env.example",
        id="no-dot",
    ),
    Case("facts.schema", {FACTS: facts(f"colour: red  {MARK}\n")}, FACTS),
    Case(
        "facts.version",
        {
            FACTS: facts(version="1.2.2"),
            W: replace(
                S, "    image: example/web:1.2.3\n", f"    image: example/web:1.2.3  {MARK}\n"
            ),
        },
        W,
        severity="warning",
    ),
    Case(
        "facts.writes",
        {
            FACTS: facts('writes: ["/app/db"]\n'),
            W: replace(S, "    restart:", f'    user: "1000:1000"  {MARK}\n    restart:'),
        },
        W,
    ),
    Case(
        "facts.writes",
        {
            FACTS: facts('writes: ["/state"]\n'),
            W: replace(S, "    volumes:\n", f"    volumes:  {MARK}\n"),
        },
        W,
        id="lost-on-recreate",
    ),
    Case(
        "facts.probe",
        {
            FACTS: facts('http_2xx:\n  80: ["/ready"]\n'),
            W: add_meta(WEB_META.replace("/health", f"/health  {MARK}")),
        },
        W,
    ),
    Case(
        "facts.env",
        {
            FACTS: facts('env: ["TZ"]\n'),
            W: replace(
                S,
                "    restart:",
                f"    environment:\n      TZ: UTC\n      NOT_READ: x  {MARK}\n    restart:",
            ),
        },
        W,
    ),
    Case(
        "facts.capabilities",
        {
            FACTS: facts('capabilities: ["KILL"]\n'),
            W: replace(S, "    deploy:", f"    cap_drop:  {MARK}\n      - ALL\n    deploy:"),
        },
        W,
    ),
    Case(
        "facts.host-allowlist",
        {
            FACTS: facts("host_allowlist:\n  variable: ALLOWED\n  always: [localhost:80]\n"),
            W: replace(
                add_meta(WEB_META),
                "    restart:",
                f"    environment:\n      ALLOWED: web.lab.home.arpa  {MARK}\n    restart:",
            ),
        },
        W,
    ),
]
H14_PASSING = [
    Case("env.domain-cookie", {".env.example": "BIND_ADDRESS=127.0.0.1\nDOMAIN=lab.home.arpa\n"}),
    Case("facts.schema", {FACTS: facts()}),
    Case("facts.version", {FACTS: facts()}),
    Case(
        "facts.writes",
        {
            FACTS: facts('writes: ["/data/db"]\n'),
            W: replace(S, "    restart:", '    user: "1000:1000"\n    restart:'),
        },
    ),
    Case("facts.probe", {FACTS: facts('http_2xx:\n  80: ["/health"]\n'), W: add_meta(WEB_META)}),
    Case(
        "facts.env",
        {
            FACTS: facts('env: ["TZ", "APP_*"]\n'),
            W: replace(
                S,
                "    restart:",
                "    environment:\n      TZ: UTC\n      APP_MODE: x\n    restart:",
            ),
        },
    ),
    Case(
        "facts.capabilities",
        {
            FACTS: facts('capabilities: ["KILL"]\n'),
            W: replace(
                S,
                "    deploy:",
                "    cap_drop:\n      - ALL\n    cap_add:\n      - KILL\n    deploy:",
            ),
        },
    ),
    Case(
        "facts.host-allowlist",
        {
            FACTS: facts("host_allowlist:\n  variable: ALLOWED\n  always: [localhost:80]\n"),
            W: replace(
                add_meta(WEB_META),
                "    restart:",
                "    environment:\n      ALLOWED: web.lab.home.arpa,web:80\n    restart:",
            ),
        },
    ),
]
H14_FAILING.append(
    Case(
        "facts.health-command",
        {
            FACTS: facts('tools: ["wget"]\n'),
            W: replace(
                S,
                '      test: ["CMD", "true"]\n',
                f'      test: ["CMD", "curl", "-f", "http://127.0.0.1/"]  {MARK}\n',
            ),
        },
        W,
    )
)
H14_PASSING.append(
    Case(
        "facts.health-command",
        {
            FACTS: facts('tools: ["wget"]\n'),
            W: replace(
                S,
                '      test: ["CMD", "true"]\n',
                '      test: ["CMD", "wget", "-q", "http://127.0.0.1/"]\n',
            ),
        },
    )
)
FAILING += H14_FAILING
PASSING += H14_PASSING


def _case_id(case: Case) -> str:
    return case.rule + (f"[{case.id}]" if case.id else "")


@pytest.mark.parametrize("case", FAILING, ids=_case_id)
def test_rule_fires_with_file_and_line(case: Case, tmp_path: Path) -> None:
    root = case.write(tmp_path)
    assert case.expect is not None
    path = (root / case.expect).resolve()
    line = case.expected_line() if path.exists() else None
    found = [f for f in lint(root, host_ports=case.host_ports) if f.rule == case.rule]
    assert found, f"{case.rule} did not fire"
    hits = [f for f in found if f.file == path and f.line == line]
    assert hits, f"{case.rule} fired elsewhere: {[(str(f.file), f.line) for f in found]}"
    assert {f.severity.value for f in hits} == {case.severity}
    assert all(f.hint for f in hits)
    if path.name.endswith(".docker-compose.yaml"):
        assert all(f.service for f in hits)


@pytest.mark.parametrize("case", PASSING, ids=_case_id)
def test_rule_passes_on_good_fixture(case: Case, tmp_path: Path) -> None:
    root = case.write(tmp_path)
    found = [f for f in lint(root, host_ports=case.host_ports) if f.rule == case.rule]
    assert found == []


def test_clean_site_has_no_findings(tmp_path: Path) -> None:
    root = Case("none").write(tmp_path)
    assert lint(root) == []


def _listen(kind: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, kind)
    sock.bind(("127.0.0.1", 0))
    if kind == socket.SOCK_STREAM:
        sock.listen(1)
    return sock


def _site_on_port(root: Path, port: int, protocol: str = "tcp") -> Case:
    line = f'      - "${{BIND_ADDRESS:-127.0.0.1}}:{port}:80/{protocol}"  {MARK}\n'
    case = Case("ports.in-use", web(PORT_LINE, line), W, severity="warning", host_ports=True)
    case.write(root)
    return case


@pytest.mark.parametrize("kind", [socket.SOCK_STREAM, socket.SOCK_DGRAM], ids=["tcp", "udp"])
def test_ports_in_use_fires_on_a_listening_socket(kind: int, tmp_path: Path) -> None:
    with _listen(kind) as sock:
        port = sock.getsockname()[1]
        case = _site_on_port(tmp_path, port, "tcp" if kind == socket.SOCK_STREAM else "udp")
        found = [f for f in lint(tmp_path, host_ports=True) if f.rule == "ports.in-use"]
    assert [(f.file, f.line, f.severity.value) for f in found] == [
        ((tmp_path / W).resolve(), case.expected_line(), "warning")
    ]
    assert str(port) in found[0].message


def test_ports_in_use_passes_on_a_free_port(tmp_path: Path) -> None:
    with _listen(socket.SOCK_STREAM) as sock:
        port = sock.getsockname()[1]
    _site_on_port(tmp_path, port)
    assert [f for f in lint(tmp_path, host_ports=True) if f.rule == "ports.in-use"] == []


def test_every_rule_has_a_failing_and_a_passing_fixture() -> None:
    lint(Path(__file__).resolve().parents[3])  # registers the rules
    assert set(RULES) == {c.rule for c in FAILING} | {"ports.in-use"}
    assert set(RULES) == {c.rule for c in PASSING}


def test_generated_200_service_site_is_clean(tmp_path: Path) -> None:
    from lintkit import generate_site

    root = generate_site(tmp_path, 200)
    assert lint(root) == []
