"""Rules about one service's compose mapping: images, health, limits, GPU, security."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..catalog import Service
from ..findings import Finding, Severity
from .core import LintContext, View, rule

_FLOATING_TAGS = ("", "latest", "main", "master", "stable", "edge", "nightly", "dev", "develop")
SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")
GPU_DEVICES = ("/dev/dri", "/dev/kfd", "/dev/nvidia")


def _finding(
    context: LintContext,
    rule_id: str,
    severity: Severity,
    service: Service,
    keys: tuple[str | int, ...],
    message: str,
    hint: str,
) -> Finding:
    return Finding(
        rule_id, severity, message, service.file, context.line(service, *keys), service.id, hint
    )


def _at(
    rule_id: str,
    severity: Severity,
    view: View,
    keys: tuple[str | int, ...],
    message: str,
    hint: str,
) -> Finding:
    """A finding in the file the view shows (an overlay says so in the message)."""
    where = f" (in its {view.overlay} overlay)" if view.overlay else ""
    return Finding(
        rule_id, severity, message + where, view.file, view.line(*keys), view.service.id, hint
    )


def _oneshot(service: Service) -> bool:
    return bool(service.meta and service.meta.oneshot)


@rule("image.unpinned", "images carry a release tag or digest, never `latest` or none")
def image_unpinned(context: LintContext) -> Iterator[Finding]:
    for view in context.views:
        image = view.resolved.get("image")
        if not isinstance(image, str) or not image or "@sha256:" in image:
            continue
        last = image.rsplit("/", 1)[-1]
        tag = last.rsplit(":", 1)[1] if ":" in last else ""
        if tag in _FLOATING_TAGS or not any(c.isdigit() for c in tag):  # rocm, alpine, beta
            yield _at(
                "image.unpinned",
                Severity.ERROR,
                view,
                ("image",),
                f"image {image!r} is not pinned to a release",
                "Pin a release tag (e.g. name:1.2.3) or a digest, so `up` is repeatable.",
            )


@rule("image.missing", "every service names an image (or a build)")
def image_missing(context: LintContext) -> Iterator[Finding]:
    for service in context.services:
        compose = service.compose
        if compose and not compose.get("image") and not compose.get("build"):
            yield _finding(
                context,
                "image.missing",
                Severity.ERROR,
                service,
                (),
                f"service {service.id} has no image",
                "Add `image: name:1.2.3` (a pinned release).",
            )


def _healthcheck_off(check: Any) -> bool:
    if not isinstance(check, dict):
        return True
    if check.get("disable") is True:
        return True
    test = check.get("test")
    if test is None:
        return False  # only tuning the image's own HEALTHCHECK; Compose keeps it
    return test == "NONE" or (isinstance(test, list) and test[:1] == ["NONE"])


@rule("health.missing", "every long-running service has a healthcheck")
def health_missing(context: LintContext) -> Iterator[Finding]:
    for service in context.services:
        compose = service.compose
        if not compose or _oneshot(service):
            continue
        check = compose.get("healthcheck")
        if "healthcheck" in compose and not _healthcheck_off(check):
            continue
        yield _finding(
            context,
            "health.missing",
            Severity.ERROR,
            service,
            ("healthcheck",) if "healthcheck" in compose else (),
            f"service {service.id} runs continuously but has no healthcheck"
            + (" (it is disabled)" if "healthcheck" in compose else ""),
            "Add `healthcheck: {test: [CMD, …], interval: 30s, timeout: 10s, retries: 5}` "
            "that probes the service itself; a job that exits sets x-homestack `oneshot: true`.",
        )


def _limits(compose: dict[str, Any]) -> tuple[bool, bool]:
    deploy = compose.get("deploy")
    resources = deploy.get("resources") if isinstance(deploy, dict) else None
    limits = resources.get("limits") if isinstance(resources, dict) else None
    limits = limits if isinstance(limits, dict) else {}
    cpus = limits.get("cpus") not in (None, "") or compose.get("cpus") not in (None, "")
    memory = limits.get("memory") not in (None, "") or compose.get("mem_limit") not in (None, "")
    return cpus, memory


@rule("resources.missing", "every service has a CPU and a memory limit")
def resources_missing(context: LintContext) -> Iterator[Finding]:
    for service in context.services:
        compose = service.compose
        if not compose:
            continue
        cpus, memory = _limits(compose)
        missing = [name for name, ok in (("cpus", cpus), ("memory", memory)) if not ok]
        if missing:
            keys: tuple[str, ...] = ("deploy", "resources", "limits")
            yield _finding(
                context,
                "resources.missing",
                Severity.ERROR,
                service,
                keys if "deploy" in compose else (),
                f"service {service.id} has no {' and no '.join(missing)} limit",
                'Add deploy.resources.limits with cpus and memory (e.g. cpus: "${X_CPUS:-2}", '
                "memory: ${X_MEMORY:-1g}), so one service cannot starve the box.",
            )


def _gpu_places(compose: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    deploy = compose.get("deploy")
    resources = deploy.get("resources") if isinstance(deploy, dict) else None
    reservations = resources.get("reservations") if isinstance(resources, dict) else None
    if isinstance(reservations, dict) and reservations.get("devices"):
        yield ("deploy", "resources", "reservations", "devices"), "a device reservation"
    if str(compose.get("runtime", "")).lower() == "nvidia":
        yield ("runtime",), "runtime: nvidia"
    if compose.get("gpus"):
        yield ("gpus",), "gpus:"
    devices = compose.get("devices")
    for index, entry in enumerate(devices if isinstance(devices, list) else []):
        source = str(entry.get("source", "")) if isinstance(entry, dict) else str(entry)
        source = source.split(":", 1)[0]
        if source.startswith(GPU_DEVICES):
            yield ("devices", index), f"device {source}"


@rule("gpu.outside-overlay", "GPU access lives in {service}.{vendor} overlays, not the base file")
def gpu_outside_overlay(context: LintContext) -> Iterator[Finding]:
    for service in context.services:
        for keys, what in _gpu_places(context.resolved(service)):
            yield _finding(
                context,
                "gpu.outside-overlay",
                Severity.ERROR,
                service,
                keys,
                f"{what} in the base file of {service.id}: it breaks the service on hosts "
                "without that GPU",
                f"Move it to {service.id}.nvidia|amd|intel.docker-compose.yaml; homestack "
                "applies the overlay only when the host can serve it (set x-homestack gpu).",
            )


def _socket_mounts(compose: dict[str, Any]) -> Iterator[tuple[int, bool]]:
    """(index, read_only) of each Docker socket mount."""
    volumes = compose.get("volumes")
    for index, entry in enumerate(volumes if isinstance(volumes, list) else []):
        if isinstance(entry, dict):
            source = str(entry.get("source", ""))
            read_only = entry.get("read_only") is True
        else:
            parts = str(entry).split(":")
            source = parts[0]
            read_only = len(parts) > 2 and "ro" in parts[2].split(",")
        if source.rstrip("/") in SOCKETS:
            yield index, read_only


def service_networks(compose: dict[str, Any]) -> list[str]:
    networks = compose.get("networks")
    if isinstance(networks, (list, dict)):
        return [str(name) for name in networks]
    return []


def file_networks(view: View, base: View | None = None) -> dict[str, Any]:
    """Networks the view's file defines (an overlay also sees its base file's)."""
    return {**(base.top("networks") if base else {}), **view.top("networks")}


def base_views(context: LintContext) -> dict[str, View]:
    return {v.service.id: v for v in context.views if v.overlay is None}


def _internal_only(view: View, base: View | None) -> bool:
    compose = {**(base.resolved if base else {}), **view.resolved}
    if compose.get("network_mode"):
        return False
    names = service_networks(compose)
    defined = file_networks(view, base)
    return bool(names) and all(
        isinstance(defined.get(name), dict) and defined[name].get("internal") is True
        for name in names
    )


@rule("socket.mount", "only a read-only socket proxy on an internal network mounts docker.sock")
def socket_mount(context: LintContext) -> Iterator[Finding]:
    bases = base_views(context)
    for view in context.views:
        base = bases.get(view.service.id) if view.overlay else None
        internal = _internal_only(view, base)
        for index, read_only in _socket_mounts(view.resolved):
            if read_only and internal:
                continue
            why = []
            if not read_only:
                why.append("read-write")
            if not internal:
                why.append("on a network that is not internal")
            yield _at(
                "socket.mount",
                Severity.ERROR,
                view,
                ("volumes", index),
                f"{view.service.id} mounts the Docker socket ({', '.join(why)}): that is root on "
                "the host",
                "Talk to a socket proxy instead (e.g. the essentials socket proxy). Only the "
                "proxy itself mounts it, `:ro`, and joins only networks its file defines with "
                "`internal: true`.",
            )


@rule("security.privileged", "no service runs privileged", Severity.WARNING)
def privileged(context: LintContext) -> Iterator[Finding]:
    for view in context.views:
        if view.resolved.get("privileged") in (True, "true"):
            yield _at(
                "security.privileged",
                Severity.WARNING,
                view,
                ("privileged",),
                f"{view.service.id} runs privileged: every device and capability of the host",
                "Grant only what it needs: `devices:` for hardware, `cap_add:` for a capability.",
            )


@rule("network.host-mode", "services use the stack networks, not the host's", Severity.WARNING)
def host_mode(context: LintContext) -> Iterator[Finding]:
    for view in context.views:
        if str(view.resolved.get("network_mode", "")) == "host":
            yield _at(
                "network.host-mode",
                Severity.WARNING,
                view,
                ("network_mode",),
                f"{view.service.id} uses the host's network: every port it opens is on the LAN",
                "Join the stack network and publish ports on ${BIND_ADDRESS:-127.0.0.1}; for "
                "LAN discovery use the iot_macvlan overlay.",
            )


@rule(
    "security.no-new-privileges",
    "services set security_opt no-new-privileges:true",
    Severity.WARNING,
)
def no_new_privileges(context: LintContext) -> Iterator[Finding]:
    for service in context.services:
        compose = context.resolved(service)
        if not compose:
            continue
        options = compose.get("security_opt")
        texts = [str(o).replace("=", ":") for o in options] if isinstance(options, list) else []
        if any(t in ("no-new-privileges", "no-new-privileges:true") for t in texts):
            continue
        yield _finding(
            context,
            "security.no-new-privileges",
            Severity.WARNING,
            service,
            ("security_opt",) if "security_opt" in compose else (),
            f"{service.id} lets processes gain privileges (no no-new-privileges)",
            "Add `security_opt: [no-new-privileges:true]` (remove it only if the image "
            "needs setuid, and say why in a comment).",
        )


@rule("restart.missing", "long-running services have a restart policy", Severity.WARNING)
def restart_missing(context: LintContext) -> Iterator[Finding]:
    for service in context.services:
        compose = service.compose
        if not compose or _oneshot(service):
            continue
        deploy = compose.get("deploy")
        if compose.get("restart") or (isinstance(deploy, dict) and deploy.get("restart_policy")):
            continue
        yield _finding(
            context,
            "restart.missing",
            Severity.WARNING,
            service,
            (),
            f"{service.id} has no restart policy: it stays down after a crash or a reboot",
            "Add `restart: unless-stopped`.",
        )


@rule(
    "service.container-name",
    "no fixed container_name (it defeats HOMESTACK_PREFIX and clashes across sites)",
    Severity.WARNING,
)
def container_name(context: LintContext) -> Iterator[Finding]:
    for view in context.views:
        if view.compose.get("container_name"):
            yield _at(
                "service.container-name",
                Severity.WARNING,
                view,
                ("container_name",),
                f"{view.service.id} sets container_name, so its container ignores the site prefix "
                "and a second site (or a test) on this host collides with it",
                "Remove container_name; Compose names it {prefix}{stack}-{service}-1 and "
                "other services reach it by its service name.",
            )


_SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|PASS|SECRET|TOKEN|APIKEY|"
    r"(API|PRIVATE|SECRET|ENCRYPTION|SIGNING|ACCESS|AUTH|MASTER|LICENSE)_KEY)$"
)


def _environment(compose: dict[str, Any]) -> Iterator[tuple[str | int, str, str]]:
    """(key in the file, variable name, value) of each environment entry."""
    env = compose.get("environment")
    if isinstance(env, dict):
        for name, value in env.items():
            yield str(name), str(name), "" if value is None else str(value)
    elif isinstance(env, list):
        for index, entry in enumerate(env):
            name, _, value = str(entry).partition("=")
            yield index, name, value


@rule("secret.literal", "no password or token is written into a compose file", Severity.WARNING)
def secret_literal(context: LintContext) -> Iterator[Finding]:
    for view in context.views:
        service = view.service
        for key, name, value in _environment(view.compose):
            if not _SECRET_NAME.search(name.upper()) or "$" in value:
                continue
            if value.strip() == "" or value.lower() in ("true", "false") or value.isdigit():
                continue
            if value.startswith("/"):
                continue  # a path, e.g. /run/secrets/{service}_{name}
            yield _at(
                "secret.literal",
                Severity.WARNING,
                view,
                ("environment", key),
                f"{service.id} has {name} written in its compose file: the value is in git "
                "and in `docker inspect`",
                f"List it in x-homestack secrets and pass the file (e.g. {name}_FILE: "
                f"/run/secrets/{service.id}_<name>), or read it from .env as ${{{name}}}.",
            )
