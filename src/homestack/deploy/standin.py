"""The stand-in rehearsal: one override file per stack that swaps every image for a tiny one.

`homestack up --stand-in IMAGE` deploys the real catalog (its networks, secrets, volumes,
depends_on, order and health gating) with IMAGE in place of each service image. The override
is written under `DATA/.homestack/standin/`, never into a stack folder, and passed to Compose
after the stack's own files, so Compose does the merge as it does for a real deployment.

What the stand-in keeps: networks, aliases, secrets, volumes and bind mounts, environment,
depends_on, restart policy, labels, security_opt, read_only. What it replaces: image,
entrypoint, command, healthcheck. What it drops because a stand-in cannot honour it (or it
would collide with a live server): GPU and resource reservations (`deploy`, `runtime`,
`cpus`, `cpuset`), devices, `user`, `group_add`, `cap_add`/`cap_drop`, `privileged`,
`container_name` (a fixed name would collide with the real service) and published host
ports (a rehearsal must not take the live server's ports; container ports stay open on the
networks).

The stand-in process: busybox `httpd` (serving /etc, read-only) on every declared TCP
container port and the web port, which accepts any TCP client and answers HTTP probes alike;
a `nc` listener loop on each UDP port; an optional start-up delay first. Its healthcheck
fetches /hostname from the first port with wget every 2 s (each check is an exec, and
dozens of them per second load a small machine). A `oneshot` service sleeps for
its delay and exits 0. TERM ends it at once, so `down` does not wait out a stop timeout.

A service backed up with `consistency: dump` names a program of its real image (python3,
pg_dumpall …) that the stand-in lacks. Its container carries the label
`org.homestack.standin.dump`: the busybox command a backup runs there instead (it prints a
small stand-in dump naming the real program), so `homestack backup` rehearses the dump
path whole (exec, temporary file, rename, restic) and says it used the stand-in's dump.
Real containers never carry the label: a real backup always runs the catalog's command.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..catalog import Service, Site, Stack
from ..errors import BadInput
from ..resolved import Resolved, ResolvedService, resolve
from ..settings import interpolate
from ..stackfile import write_atomic
from .folders import folder_error

DEFAULT_PORT = 8080
DUMP_LABEL = "org.homestack.standin.dump"
#: keys the stand-in cannot honour, reset to nothing (`!reset`, Compose ≥ 2.24)
DROPPED: dict[str, str] = {
    "user": "null",
    "devices": "[]",
    "group_add": "[]",
    "cap_add": "[]",
    "cap_drop": "[]",
    "deploy": "null",
    "runtime": "null",
    "cpus": "null",
    "cpuset": "null",
    "mem_limit": "null",
    "mem_reservation": "null",
    "privileged": "false",
    "container_name": "null",
    "ports": "[]",
    "command": "[]",
    "gpus": "null",
}


@dataclass(frozen=True)
class StandinPorts:
    tcp: tuple[int, ...]
    udp: tuple[int, ...]


def _port_numbers(text: str) -> list[int]:
    text = text.split("/", maxsplit=1)[0]
    if "-" in text:
        low, high = text.split("-", 1)
        if low.isdigit() and high.isdigit():
            return list(range(int(low), min(int(high), int(low) + 9) + 1))
        return []
    return [int(text)] if text.isdigit() else []


def service_ports(resolved: ResolvedService) -> StandinPorts:
    """Container ports to listen on: the web port first, then ports and expose."""
    tcp: list[int] = []
    udp: list[int] = []
    service = resolved.service
    if service.meta and service.meta.web:
        tcp.append(service.meta.web.port)
    for binding in resolved.ports:
        target = tcp if binding.protocol != "udp" else udp
        for number in _port_numbers(binding.target):
            if number not in target:
                target.append(number)
    for entry in resolved.expose:
        text = str(entry)
        target = udp if text.endswith("/udp") else tcp
        for number in _port_numbers(text):
            if number not in target:
                target.append(number)
    if not tcp:
        tcp.append(DEFAULT_PORT)
    return StandinPorts(tuple(tcp), tuple(udp))


def standin_script(ports: StandinPorts, delay: float, oneshot: bool) -> str:
    """The shell program the stand-in runs; TERM ends it at once (fast `down`)."""
    parts = ["trap 'exit 0' TERM INT"]
    if delay > 0:
        parts.append(f"sleep {delay:g}")
    if oneshot:
        parts.append("exit 0")
        return "; ".join(parts)
    parts += [f"httpd -p {port} -h /etc" for port in ports.tcp]
    # UDP ports are not stood in: Debian's static busybox nc has no -u and no udpsvd, and a
    # listener loop around a command that fails at once only burns a core
    parts.append("while :; do sleep 1 & wait $!; done")
    return "; ".join(parts)


def _healthcheck(ports: StandinPorts, oneshot: bool) -> str:
    if oneshot:
        return "!override {disable: true}"
    url = f"http://127.0.0.1:{ports.tcp[0]}/hostname"
    test = json.dumps(["CMD", "wget", "-q", "-O", "/dev/null", url])
    return f"!override {{test: {test}, interval: 2s, timeout: 3s, retries: 60, start_period: 0s}}"


def dump_command(service: Service) -> list[str] | None:
    """The busybox dump a stand-in runs for a `consistency: dump` service (None for others).

    Only words of [A-Za-z0-9_.-] reach the script, and no `$` (Compose would interpolate)."""
    spec = service.meta.backup if service.meta else None
    if spec is None or spec.consistency != "dump" or not spec.dump_command:
        return None
    program = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(spec.dump_command[0]).name)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", service.id)
    script = (
        f"echo '-- homestack stand-in dump of {name}: the real image runs {program}'; "
        "echo '-- a rehearsal, not a backup of real data'; date -u"
    )
    return ["sh", "-c", script]


def override_text(
    site: Site,
    stack: Stack,
    services: list[Service],
    image: str,
    delays: Mapping[str, float] | None = None,
    resolved: Resolved | None = None,
) -> str:
    """The override compose file for one stack (YAML, with Compose's !reset/!override tags)."""
    resolved = resolved or resolve(site, services)
    lines = [
        "# Generated by `homestack up --stand-in`: a rehearsal, not a deployment. Do not edit.",
        "services:",
    ]
    for service in services:
        oneshot = bool(service.meta and service.meta.oneshot)
        ports = service_ports(resolved.of(service))
        delay = float((delays or {}).get(service.id, (delays or {}).get("*", 0.0)))
        script = standin_script(ports, delay, oneshot)
        compose = service.compose
        lines.append(f"  {service.id}:")
        lines.append(f"    image: {json.dumps(image)}")
        lines.append(f"    entrypoint: {json.dumps(['sh', '-c', script])}")
        for key, empty in DROPPED.items():
            if key in compose or key == "command":
                lines.append(f"    {key}: !reset {empty}")
        if "network_mode" in compose and str(compose["network_mode"]) == "host":
            lines.append("    network_mode: !reset null")
        lines.append(f"    healthcheck: {_healthcheck(ports, oneshot)}")
        lines.append("    labels:")
        lines.append('      org.homestack.standin: "1"')
        dump = dump_command(service)
        if dump is not None:
            lines.append(f"      {DUMP_LABEL}: {json.dumps(json.dumps(dump))}")
    return "\n".join(lines) + "\n"


def standin_folder(site: Site) -> Path:
    return site.data_root / ".homestack" / "standin"


def write_override(site: Site, stack: Stack, text: str) -> Path:
    """Write (atomically) and return the stack's override file (its `override_text`);
    unchanged text is not rewritten, so a second rehearsal finds the same config hashes."""
    folder = standin_folder(site)
    path = folder / f"{site.project_name(stack)}.docker-compose.yaml"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            return path
        write_atomic(path, text)
    except OSError as exc:  # DATA_ROOT (or a folder in it) is a file, or not ours to write
        raise folder_error(site, site.data_root, "DATA_ROOT", exc) from None
    return path


#: an image reference as Docker parses it: [host[:port]/]path[:tag][@digest]
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]+)?/)?"
    rf"{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::\w[\w.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?"
)


def resolve_image(image: str) -> str:
    """`--stand-in` with no value means the image built offline from static busybox."""
    from ..standin_image import ensure_image

    return ensure_image() if check_image(image) else image


def check_image(image: str) -> bool:
    """BadInput unless `image` is an image reference; True when it names the stand-in built
    offline (nothing is built here)."""
    from ..standin_image import DEFAULT_TAG

    if image in ("", "default", DEFAULT_TAG):
        return True
    if not _REFERENCE.fullmatch(image):
        raise BadInput(
            f"--stand-in image {image!r} is not an image reference",
            "Name an image the way Docker does, e.g. busybox:1.36 or "
            "registry.lan:5000/team/app:1.0 (lowercase path, no spaces), or give no image "
            "for the stand-in built offline.",
        )
    return False


def image_of(
    service: Service, env: Mapping[str, str] | None = None, *, resolved: Resolved | None = None
) -> str:
    """The image a service runs: as resolved once for the command, else from `env`."""
    if resolved is not None:
        return resolved.of(service).image
    raw = service.compose.get("image")
    return interpolate(str(raw), env or {}) if raw else ""
