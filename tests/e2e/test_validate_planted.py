# ruff: noqa: E501  (planted YAML reads best one line per string)
"""`homestack validate` on a copy of the shipped catalog: clean as shipped, and each lint rule
fires on a planted defect with its id, file and line in the `--json` output."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from homestack.cli.app import run
from testkit.sites import copy_catalog

MARK = "# <-"
PLANTED = "ai-stack/services/planted.docker-compose.yaml"
OTHER = "ai-stack/services/planted2.docker-compose.yaml"


def planted(name: str = "planted", port: int = 18999, meta: str = "") -> str:
    """A new ai-stack service that passes every rule; plants change one line of it."""
    return f"""\
services:
  {name}:
    x-homestack:
      title: Planted
      description: a service planted by the e2e test
{meta}      secrets:
        - name: token
    image: example/{name}:1.0.0
    restart: unless-stopped
    ports:
      - "${{BIND_ADDRESS:-127.0.0.1}}:{port}:80"
    volumes:
      - ai_{name}_data:/data
    secrets:
      - {name}_token
    networks:
      - ai-services
    healthcheck:
      test: ["CMD", "true"]
    security_opt:
      - no-new-privileges:true
    deploy:
      resources:
        limits:
          cpus: "0.5"
          memory: 64m
volumes:
  ai_{name}_data:
    name: ${{HOMESTACK_PREFIX:-}}ai_{name}_data
    driver_opts:
      type: none
      o: bind
      device: ${{DATA_ROOT:?set by homestack}}/{name}
secrets:
  {name}_token:
    file: ${{SECRETS_DIR:-./secrets}}/{name}_token
"""


P = planted()


def edit(old: str, new: str, text: str = P) -> str:
    assert old in text
    return text.replace(old, new, 1)


@dataclass
class Plant:
    rule: str
    files: dict[str, str] = field(default_factory=dict)
    expect: str = PLANTED  # the file (relative) whose marked line the finding points at
    enable: tuple[str, ...] = ("planted",)
    id: str = ""
    before: Callable[[Path], None] | None = None


PORT = '      - "${BIND_ADDRESS:-127.0.0.1}:18999:80"\n'
SERVICE_LINE = "  planted:\n"
MARKED = f"  planted:  {MARK}\n"


def root_env_missing(root: Path) -> None:
    """A user's .env written from an older .env.example: it lacks one listed variable."""
    example = (root / ".env.example").read_text(encoding="utf-8").splitlines()
    keys = [line.split("=", 1)[0] for line in example if "=" in line and not line.startswith("#")]
    victim = next(k for k in keys if k not in os.environ)
    kept = [line for line in example if not line.startswith(f"{victim}=")]
    (root / ".env").write_text("\n".join(kept) + "\n", encoding="utf-8")
    marked = [line + f"  {MARK}" if line.startswith(f"{victim}=") else line for line in example]
    (root / ".env.example").write_text("\n".join(marked) + "\n", encoding="utf-8")


def _replace_in(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{relative} has no {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def domain_home_arpa(root: Path) -> None:
    """The default before issue 14: Authelia refuses it as its cookie domain."""
    _replace_in(root, ".env.example", "\nDOMAIN=lab.home.arpa\n", f"\nDOMAIN=home.arpa  {MARK}\n")


LT = "ai-stack/services/libretranslate.docker-compose.yaml"


def libretranslate_without_app_db(root: Path) -> None:
    """LibreTranslate as PUID without its /app/db mount (it restart-looped, issue 14)."""
    _replace_in(
        root,
        LT,
        "      - ${DATA_ROOT:?DATA_ROOT is set by homestack}/config/libretranslate:/app/db\n",
        "",
    )
    _replace_in(
        root,
        LT,
        '    user: "${PUID:-1000}:${PGID:-1000}"\n',
        f'    user: "${{PUID:-1000}}:${{PGID:-1000}}"  {MARK}\n',
    )


PLANTS = [
    Plant(
        "yaml.syntax",
        {PLANTED: edit("    restart: unless-stopped\n", f"    restart: unless: stopped  {MARK}\n")},
    ),
    Plant(
        "yaml.duplicate-key",
        {
            PLANTED: edit(
                "    restart: unless-stopped\n",
                f"    restart: unless-stopped\n    restart: always  {MARK}\n",
            )
        },
    ),
    Plant(
        "file.naming",
        {"ai-stack/services/planted.yml": f"{MARK}\nservices: {{}}\n"},
        "ai-stack/services/planted.yml",
        enable=(),
    ),
    Plant(
        "service.per-file",
        {
            PLANTED: edit(
                "volumes:\n  ai_planted_data:",
                f"  stowaway:  {MARK}\n    image: example/x:1.0\nvolumes:\n  ai_planted_data:",
            )
        },
    ),
    Plant("meta.schema", {PLANTED: planted(meta=f"      gpu: sometimes  {MARK}\n")}),
    Plant(
        "network.unknown", {PLANTED: edit("      - ai-services\n", f"      - ai-service  {MARK}\n")}
    ),
    Plant(
        "volume.name",
        {
            PLANTED: edit(
                "    name: ${HOMESTACK_PREFIX:-}ai_planted_data\n",
                f"    name: planted_data  {MARK}\n",
            )
        },
    ),
    Plant(
        "secret.name",
        {
            PLANTED: edit(
                "        - name: token\n",
                f"        - name: token\n        - name: api_key  {MARK}\n",
            )
        },
    ),
    Plant(
        "ports.conflict",
        {PLANTED: edit(PORT, PORT.rstrip("\n") + f"  {MARK}\n"), OTHER: planted("planted2", 18999)},
        enable=("planted", "planted2"),
    ),
    Plant(
        "image.unpinned",
        {
            PLANTED: edit(
                "    image: example/planted:1.0.0\n", f"    image: example/planted:latest  {MARK}\n"
            )
        },
    ),
    Plant(
        "image.missing",
        {PLANTED: edit(SERVICE_LINE, MARKED, edit("    image: example/planted:1.0.0\n", ""))},
    ),
    Plant(
        "health.missing",
        {
            PLANTED: edit(
                SERVICE_LINE, MARKED, edit('    healthcheck:\n      test: ["CMD", "true"]\n', "")
            )
        },
    ),
    Plant(
        "resources.missing",
        {
            PLANTED: edit(
                "        limits:\n",
                f"        limits:  {MARK}\n",
                edit("          memory: 64m\n", ""),
            )
        },
    ),
    Plant(
        "gpu.outside-overlay",
        {PLANTED: edit("    restart:", f"    runtime: nvidia  {MARK}\n    restart:")},
    ),
    Plant(
        "socket.mount",
        {
            PLANTED: edit(
                "      - ai_planted_data:/data\n",
                f"      - ai_planted_data:/data\n      - /var/run/docker.sock:/var/run/docker.sock  {MARK}\n",
            )
        },
    ),
    Plant("ports.all-interfaces", {PLANTED: edit(PORT, f'      - "18999:80"  {MARK}\n')}),
    Plant("ports.invalid", {PLANTED: edit(PORT, f'      - "not-a-port"  {MARK}\n')}),
    Plant(
        "depends.cycle",
        {
            PLANTED: planted(meta=f"      depends_on:\n        - planted2  {MARK}\n"),
            OTHER: planted("planted2", 18998, meta="      depends_on: [planted]\n"),
        },
        enable=("planted", "planted2"),
    ),
    Plant(
        "depends.unknown",
        {PLANTED: planted(meta=f"      depends_on:\n        - no-such-service  {MARK}\n")},
    ),
    Plant(
        "env.required",
        {
            PLANTED: edit(
                "    restart:",
                f"    environment:\n      TOKEN: ${{PLANTED_TOKEN_E2E:?set PLANTED_TOKEN_E2E}}  {MARK}\n    restart:",
            )
        },
    ),
    Plant(
        "env.required", expect=".env.example", before=root_env_missing, id="dotenv-lacks-example"
    ),
    Plant(
        "env.unset",
        {
            PLANTED: edit(
                "    restart:",
                f"    environment:\n      MODE: ${{PLANTED_MODE_E2E}}  {MARK}\n    restart:",
            )
        },
    ),
    Plant(
        "env.domain",
        {"ai-stack/.env": f"DOMAIN=ai.elsewhere.lan  {MARK}\n"},
        "ai-stack/.env",
        enable=(),
    ),
    Plant(
        "security.privileged",
        {PLANTED: edit("    restart:", f"    privileged: true  {MARK}\n    restart:")},
    ),
    Plant(
        "network.host-mode",
        {PLANTED: edit("    restart:", f"    network_mode: host  {MARK}\n    restart:")},
    ),
    Plant(
        "security.no-new-privileges",
        {
            PLANTED: edit(
                SERVICE_LINE,
                MARKED,
                edit("    security_opt:\n      - no-new-privileges:true\n", ""),
            )
        },
    ),
    Plant(
        "restart.missing",
        {PLANTED: edit(SERVICE_LINE, MARKED, edit("    restart: unless-stopped\n", ""))},
    ),
    Plant(
        "network.none",
        {PLANTED: edit(SERVICE_LINE, MARKED, edit("    networks:\n      - ai-services\n", ""))},
    ),
    Plant(
        "service.container-name",
        {PLANTED: edit("    restart:", f"    container_name: planted  {MARK}\n    restart:")},
    ),
    Plant(
        "secret.literal",
        {
            PLANTED: edit(
                "    restart:",
                f"    environment:\n      ADMIN_PASSWORD: hunter2  {MARK}\n    restart:",
            )
        },
    ),
    Plant(
        "network.iot-outside-overlay",
        {
            PLANTED: edit(
                "      - ai-services\n", f"      - ai-services\n      - iot_macvlan  {MARK}\n"
            )
        },
    ),
    Plant("env.domain-cookie", expect=".env.example", enable=(), before=domain_home_arpa),
    Plant("facts.writes", expect=LT, enable=(), before=libretranslate_without_app_db),
]


def enable(root: Path, names: list[str] | tuple[str, ...]) -> None:
    """List new ai-stack services first under `services:` (the user's way: add a line)."""
    path = root / "ai-stack" / "stack.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(n for n, line in enumerate(lines) if line.startswith("services:"))
    lines[at + 1 : at + 1] = [f"  - {name}\n" for name in names]
    path.write_text("".join(lines), encoding="utf-8")


def validate_json(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = run(["--site", str(root), "validate", "--offline", "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def marked_line(path: Path) -> int:
    lines = [n for n, text in enumerate(path.read_text().splitlines(), 1) if MARK in text]
    assert len(lines) == 1, f"{path} needs one {MARK}"
    return lines[0]


def test_shipped_catalog_has_no_errors_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_catalog(tmp_path)
    code, data = validate_json(root, capsys)
    errors = [f for f in data["findings"] if f["severity"] == "error"]
    assert errors == []
    assert code == 0
    assert data["offline"] is True


@pytest.mark.parametrize("plant", PLANTS, ids=lambda p: p.rule + (f"[{p.id}]" if p.id else ""))
def test_planted_defect_is_reported(
    plant: Plant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_catalog(tmp_path)
    files = plant.files or ({PLANTED: P} if plant.enable else {})
    if PLANTED not in files and plant.enable:
        files = {PLANTED: P, **files}
    for relative, text in files.items():
        (root / relative).write_text(text, encoding="utf-8")
    if plant.before is not None:
        plant.before(root)
    if plant.enable:
        enable(root, plant.enable)
    code, data = validate_json(root, capsys)
    path = (root / plant.expect).resolve()
    hits = [f for f in data["findings"] if f["rule"] == plant.rule]
    assert hits, f"{plant.rule} not reported"
    where = [(f["file"], f["line"]) for f in hits]
    assert (str(path), marked_line(path)) in where
    hit = next(f for f in hits if f["file"] == str(path))
    assert hit["hint"]
    assert code == (1 if any(f["severity"] == "error" for f in data["findings"]) else 0)


def test_port_in_use_on_this_host_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_catalog(tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        (root / PLANTED).write_text(
            edit(PORT, f'      - "${{BIND_ADDRESS:-127.0.0.1}}:{port}:80"  {MARK}\n'),
            encoding="utf-8",
        )
        enable(root, ["planted"])
        _, data = validate_json(root, capsys)
    hits = [
        (f["file"], f["line"], f["severity"])
        for f in data["findings"]
        if f["rule"] == "ports.in-use"
    ]
    assert (str((root / PLANTED).resolve()), marked_line(root / PLANTED), "warning") in hits


def test_human_output_names_severity_rule_place_service_and_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_catalog(tmp_path)
    (root / PLANTED).write_text(
        edit("    image: example/planted:1.0.0\n", "    image: example/planted:latest\n"),
        encoding="utf-8",
    )
    enable(root, ["planted"])
    capsys.readouterr()
    code = run(["--site", str(root), "validate", "--offline"])
    out = capsys.readouterr().out
    assert code == 1
    line = next(text for text in out.splitlines() if "image.unpinned" in text)
    assert line.startswith("error")
    assert "ai-stack/services/planted.docker-compose.yaml:8" in line
    assert "[planted]" in line
    assert "fix:" in out


@pytest.mark.integration
def test_port_held_by_the_services_own_container_is_not_reported(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    standin_image: str,
    engine_cleanup: str,
) -> None:
    """A running `planted` container of this site holds its port: online validate is quiet
    about it; offline (no engine asked) it is only info."""
    prefix = engine_cleanup
    monkeypatch.setenv("HOMESTACK_PREFIX", prefix)
    root = copy_catalog(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (root / PLANTED).write_text(
        edit(PORT, f'      - "${{BIND_ADDRESS:-127.0.0.1}}:{port}:80"\n'), encoding="utf-8"
    )
    enable(root, ["planted"])
    labels = {
        "com.docker.compose.project": f"{prefix}ai",
        "com.docker.compose.service": "planted",
        "homestack.test": "1",
    }
    subprocess.run(
        ["docker", "run", "-d", "--name", f"{prefix}ai-planted-1", "-p", f"127.0.0.1:{port}:80"]
        + [arg for key, value in labels.items() for arg in ("--label", f"{key}={value}")]
        + [standin_image, "httpd", "-f", "-p", "80"],
        check=True,
        capture_output=True,
    )

    def in_use(*flags: str) -> list[str]:
        capsys.readouterr()
        run(["--site", str(root), "validate", *flags, "--json"])
        data = json.loads(capsys.readouterr().out)
        return [
            f["severity"]
            for f in data["findings"]
            if f["rule"] == "ports.in-use" and f["service"] == "planted"
        ]

    assert in_use() == []
    assert in_use("--offline") in ([], ["info"])  # [] where the engine runs without docker-proxy
