"""Write small homestack sites for the `up` tests: stacks of services on the stand-in image."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from sitekit import shipped_networks, stack_network

REPO = Path(__file__).resolve().parents[2]
HTTPD = "trap 'exit 0' TERM; httpd -p 8080 -h /etc; while :; do sleep 1 & wait $!; done"
HEALTH = {
    "test": ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/hostname"],
    "interval": "1s",
    "timeout": "2s",
    "retries": 30,
}


def service_file(stack: str, name: str, spec: dict[str, Any]) -> str:
    """One service, compose + x-homestack, as JSON (valid YAML)."""
    meta: dict[str, Any] = {
        "title": name,
        "description": "test service",
        "critical": spec.get("critical", True),
        "depends_on": spec.get("needs", []),
        "web": {"port": 8080},
    }
    service: dict[str, Any] = {
        "x-homestack": meta,
        "image": spec.get("image", "homestack/standin:local"),
        "entrypoint": ["sh", "-c", spec.get("script", HTTPD)],
        "healthcheck": spec.get("healthcheck", HEALTH),
        "networks": [stack_network(stack)],
        "volumes": [f"{stack}_{name}_data:/data"],
        "security_opt": ["no-new-privileges:true"],
        "restart": spec.get("restart", "no"),
    }
    if "depends_on" in spec:  # compose depends_on, as written in the service file
        service["depends_on"] = spec["depends_on"]
    doc: dict[str, Any] = {
        "services": {name: service},
        "volumes": {
            f"{stack}_{name}_data": {
                "name": "${HOMESTACK_PREFIX:-}" + f"{stack}_{name}_data",
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


def write_site(root: Path, stacks: dict[str, dict[str, Any]]) -> Path:
    """stacks: id → {"depends_on": [...], "services": {name: spec}}."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "base.docker-compose.yaml", root / "base.docker-compose.yaml")
    (root / ".env").write_text("TZ=Etc/UTC\nDATA_ROOT=./DATA\nSECRETS_DIR=./secrets\n")
    for stack, body in stacks.items():
        folder = root / f"{stack}-stack"
        (folder / "services").mkdir(parents=True, exist_ok=True)
        lines = [f"description: {stack} test stack"]
        if stack in shipped_networks():
            lines.append(f"network: {stack_network(stack)}")
        deps = body.get("depends_on", [])
        lines.append("depends_on: [" + ", ".join(deps) + "]" if deps else "depends_on: []")
        lines.append("services:")
        for name, spec in body["services"].items():
            lines.append(f"  - {name}")
            text = service_file(stack, name, spec)
            (folder / "services" / f"{name}.docker-compose.yaml").write_text(text)
        (folder / "stack.yaml").write_text("\n".join(lines) + "\n")
    return root
