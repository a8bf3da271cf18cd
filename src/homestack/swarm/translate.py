"""A stack, as Compose merges it, rendered as a swarm stack file; every loss named.

What carries over as it is: image, command, entrypoint, environment, user, capabilities,
health checks, volumes (a DATA-bound volume keeps its bind to DATA/{service} on the node
it is placed on), secrets and configs, networks. What is translated:

- `restart` → `deploy.restart_policy` (no → none, on-failure → on-failure, else any);
- secrets and configs → swarm secrets/configs from the same files, named
  `{prefix}{stack}_{name}_{digest}`: a changed value gets a new name, and the service rolls
  to it; versions no service uses are removed by `up`;
- the seed networks → attachable overlay networks with the same names (homestack creates
  them, as it does the bridge ones in compose mode);
- GPUs and DATA → placement constraints on node labels (see `placement`);
- `depends_on` → homestack's own ordering (`stack deploy` ignores it).

What cannot be carried over is a finding (`check_service`): an error for keys whose
meaning swarm cannot give (`network_mode`, `privileged`, devices outside a GPU overlay …),
each with the swarm alternative, and a warning for what is knowingly lost
(`no-new-privileges` on engines that cannot set it, a port bound to one address).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..catalog import IOT_NETWORK, Service, Site
from ..findings import Finding, Severity
from ..models import GPU_VENDORS

STACK_LABEL = "com.docker.stack.namespace"
SPEC_LABEL = "org.homestack.spec"  # digest of a service's translated spec
SITE_LABEL = "org.homestack.site"
SERVICE_LABEL = "org.homestack.service"

#: keys swarm has no way to honour: the alternative the finding offers
UNTRANSLATABLE: dict[str, str] = {
    "network_mode": "a swarm service joins overlay networks (`networks:`); a service that "
    "needs the host's network stays on one machine with DEPLOY_MODE=compose",
    "privileged": "swarm has no privileged tasks: grant what it needs with `cap_add`",
    "devices": "swarm cannot pass devices to a task; a GPU goes through `x-homestack: gpu` "
    "and a node label (`homestack nodes label NODE gpu=nvidia`)",
    "build": "build the image once, push it to a registry every node can pull from, and "
    "name it in `image:`",
    "container_name": "swarm names tasks {stack}_{service}.N: reach the service by its "
    "service name on the stack network",
    "pid": "swarm tasks cannot share the host's process namespace",
    "ipc": "swarm tasks cannot share an IPC namespace",
    "userns_mode": "set user namespaces on each node's engine (daemon.json userns-remap)",
    "cgroup_parent": "swarm tasks run under the engine's own cgroup parent",
    "links": "services reach each other by name on a shared overlay network",
    "external_links": "services reach each other by name on a shared overlay network",
    "mac_address": "swarm assigns addresses on overlay networks",
    "cpus": "write `deploy.resources.limits.cpus`",
    "mem_limit": "write `deploy.resources.limits.memory`",
    "runtime": "set the runtime on the node's engine (daemon.json default-runtime)",
    "gpus": "use `x-homestack: gpu` and a node label (`homestack nodes label NODE gpu=nvidia`)",
}
NO_NEW_PRIVILEGES = ("no-new-privileges:true", "no-new-privileges=true", "no-new-privileges")
#: compose keys the swarm file drops because homestack does their job itself
HANDLED = ("depends_on", "restart", "x-homestack", "container_name", "pull_policy")
RESTART = {"no": "none", "on-failure": "on-failure", "always": "any", "unless-stopped": "any"}


def _finding(
    service: Service,
    file: Path,
    key: str,
    severity: Severity,
    message: str,
    hint: str,
    doc_line: int | None,
) -> Finding:
    return Finding(f"swarm.{key}", severity, message, file, doc_line, service.id, hint)


def _line(service: Service, file: Path, *keys: str) -> int | None:
    from .. import yamlio

    doc = service.doc if file == service.file else None
    try:
        doc = doc or yamlio.load(file)
    except Exception:
        return None
    return doc.line("services", service.id, *keys)


def _compose_of(service: Service, file: Path) -> dict[str, Any]:
    if file == service.file:
        return service.compose
    from .. import yamlio

    try:
        data = yamlio.load(file).data
    except Exception:
        return {}
    entry = (data or {}).get("services", {}).get(service.id) if isinstance(data, dict) else None
    return entry if isinstance(entry, dict) else {}


def check_service(site: Site, service: Service) -> list[Finding]:
    """What of this service's files a swarm cannot carry: errors and named losses."""
    found: list[Finding] = []
    files = [(service.file, None), *[(path, kind) for kind, path in service.overlays.items()]]
    iot_configured = bool(site.root_env.get("IOT_PARENT"))
    for file, kind in files:
        compose = _compose_of(service, file)
        for key, alternative in UNTRANSLATABLE.items():
            if key not in compose or compose[key] in (None, False, [], {}):
                continue
            if key == "devices" and kind in GPU_VENDORS:
                found.append(
                    _finding(
                        service,
                        file,
                        key,
                        Severity.WARNING,
                        f"{service.id}: the {kind} overlay's devices are not passed in "
                        f"swarm mode; the service is placed on a node labelled "
                        f"homestack.gpu={kind}, which must give it the GPU itself",
                        "NVIDIA: make nvidia the node's default runtime (daemon.json) and "
                        "advertise it as a generic resource; AMD/Intel: run this service "
                        "with DEPLOY_MODE=compose on the GPU machine",
                        _line(service, file, key),
                    )
                )
                continue
            found.append(
                _finding(
                    service,
                    file,
                    key,
                    Severity.ERROR,
                    f"{service.id}: `{key}` cannot be translated to a swarm service",
                    f"Swarm alternative: {alternative}.",
                    _line(service, file, key),
                )
            )
        for option in compose.get("security_opt") or []:
            text = str(option)
            if text in NO_NEW_PRIVILEGES:
                found.append(
                    _finding(
                        service,
                        file,
                        "security_opt",
                        Severity.WARNING,
                        f"{service.id}: `security_opt: {text}` is lost in swarm mode "
                        "(docker stack deploy ignores security_opt)",
                        "Kept as a named loss: the service still drops capabilities "
                        "(cap_drop) and runs as its user.",
                        _line(service, file, "security_opt"),
                    )
                )
            else:
                found.append(
                    _finding(
                        service,
                        file,
                        "security_opt",
                        Severity.ERROR,
                        f"{service.id}: `security_opt: {text}` cannot be set on a swarm service",
                        "Swarm alternative: set the profile on each node's engine "
                        "(daemon.json seccomp-profile), or keep this service on "
                        "DEPLOY_MODE=compose.",
                        _line(service, file, "security_opt"),
                    )
                )
        networks = compose.get("networks") or []
        if IOT_NETWORK in networks and (kind != "iot" or iot_configured):
            found.append(
                _finding(
                    service,
                    file,
                    "networks",
                    Severity.ERROR,
                    f"{service.id}: joins {IOT_NETWORK}, a macvlan on one machine's LAN "
                    "interface, which a swarm service cannot join",
                    "Swarm alternative: a config-only macvlan network on each node plus a "
                    "swarm-scoped macvlan network using it (documented in docs/swarm.md); "
                    "homestack does not create it. Or unset IOT_PARENT to run without it.",
                    _line(service, file, "networks"),
                )
            )
        for port in compose.get("ports") or []:
            text = str(port.get("host_ip", "") if isinstance(port, dict) else port)
            if text.count(":") >= 2 or (isinstance(port, dict) and port.get("host_ip")):
                found.append(
                    _finding(
                        service,
                        file,
                        "ports",
                        Severity.WARNING,
                        f"{service.id}: port {port} is bound to one address; a swarm "
                        "publishes on every address of every node, so homestack does not "
                        "publish it",
                        "Reach it through the reverse proxy (Caddy) on the overlay "
                        "network, or publish it on the LAN by writing the port without an "
                        "address.",
                        _line(service, file, "ports"),
                    )
                )
                break
    return found


def digest(data: object) -> str:
    import json

    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _versioned(site: Site, stack: str, key: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """A secret or config from its file, named after what the file holds. A config given
    inline (`content:`, which `docker stack deploy` cannot read) is written to a file under
    DATA/.homestack/swarm/ first."""
    from ..stackfile import write_atomic

    if spec.get("external"):
        return {"external": True, "name": spec.get("name", key)}
    if "content" in spec:
        content = str(spec.get("content") or "").encode()
        version = hashlib.sha256(content).hexdigest()[:10]
        path = site.data_root / ".homestack" / "swarm" / f"{stack}_{key}_{version}"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, content.decode())
    else:
        path = Path(str(spec.get("file", "")))
        try:
            content = path.read_bytes()
        except OSError:
            content = b""
    version = hashlib.sha256(content).hexdigest()[:10]
    return {"file": str(path), "name": f"{site.prefix}{stack}_{key}_{version}"}


def endpoint_mode(site: Site) -> str:
    """How services reach each other: `vip` (the default, as in `docker stack deploy`:
    swarm's virtual IP, stable across task restarts, and the routing mesh, which needs IPVS
    in every node's kernel) or `dnsrr` (a service name resolves to its task's address;
    published ports bind on the node running the task; no IPVS needed)."""
    from ..errors import BadInput

    mode = (site.root_env.get("SWARM_ENDPOINT_MODE") or "vip").strip().lower()
    if mode not in ("dnsrr", "vip"):
        raise BadInput(
            f"SWARM_ENDPOINT_MODE={mode!r} is neither vip nor dnsrr",
            "Set SWARM_ENDPOINT_MODE=vip (the default) or dnsrr in .env.",
            file=site.root / ".env",
        )
    return mode


def require_endpoint_mode(site: Site, root: Path = Path("/")) -> None:
    """`vip` on a machine whose kernel has no IPVS: refused before anything is deployed
    (the services would start, but no name would route to them)."""
    from ..engine.swarm import kernel_has_ipvs
    from ..errors import BadInput

    if endpoint_mode(site) == "vip" and not kernel_has_ipvs(root):
        raise BadInput(
            "SWARM_ENDPOINT_MODE is vip (the default), but this machine's kernel has no IPVS "
            "(ip_vs), which swarm's virtual IPs and routing mesh need",
            "Set SWARM_ENDPOINT_MODE=dnsrr in .env (service names resolve to task addresses, "
            "ports publish on the node running the task), or use a kernel with the ip_vs "
            "module (`modprobe ip_vs`).",
            file=site.root / ".env",
        )


def _ports(ports: list[Any], publish: str = "ingress") -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = []
    for port in ports:
        if not isinstance(port, dict) or port.get("host_ip"):
            continue  # bound to one address: not published (a named loss)
        entry = {
            "target": port.get("target"),
            "protocol": port.get("protocol", "tcp"),
            "mode": publish,
        }
        if port.get("published"):
            entry["published"] = int(str(port["published"]).split("-")[0])
        kept.append(entry)
    return kept


def _volumes(volumes: list[Any]) -> list[Any]:
    kept: list[Any] = []
    for volume in volumes:
        if isinstance(volume, dict):
            entry = {k: v for k, v in volume.items() if k not in ("bind", "volume")}
            if volume.get("read_only"):
                entry["read_only"] = True
            kept.append(entry)
        else:
            kept.append(volume)
    return kept


def _as_strings(limits: Any) -> Any:
    """cpus and memory as the stack file schema wants them: strings (Compose's merged
    config gives 0.5 and "268435456")."""
    if not isinstance(limits, dict):
        return limits
    return {k: str(v) if k in ("cpus", "memory") else v for k, v in limits.items()}


def translate_service(
    site: Site,
    service: Service,
    config: Mapping[str, Any],
    constraints: list[str],
    generic: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One service of Compose's merged config as a swarm service."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key in HANDLED or key.startswith("x-") or key in UNTRANSLATABLE:
            continue
        if key in ("security_opt", "ports", "volumes", "deploy", "networks", "labels"):
            continue
        if value is None:
            continue
        out[key] = value
    networks = config.get("networks") or {}
    out["networks"] = {
        name: (
            {"aliases": spec["aliases"]} if isinstance(spec, dict) and spec.get("aliases") else None
        )
        for name, spec in networks.items()
    }
    if config.get("volumes"):
        out["volumes"] = _volumes(config["volumes"])
    mode = endpoint_mode(site)
    ports = _ports(config.get("ports") or [], "host" if mode == "dnsrr" else "ingress")
    if ports:
        out["ports"] = ports
    deploy: dict[str, Any] = {}
    given = config.get("deploy") or {}
    resources = {k: _as_strings(v) for k, v in (given.get("resources") or {}).items()}
    reservations = dict(resources.get("reservations") or {})
    reservations.pop("devices", None)  # the GPU goes through placement
    if generic:
        reservations["generic_resources"] = generic
    if reservations:
        resources["reservations"] = reservations
    else:
        resources.pop("reservations", None)
    if resources:
        deploy["resources"] = resources
    oneshot = bool(service.meta and service.meta.oneshot)
    condition = "none" if oneshot else RESTART.get(str(config.get("restart") or "no"), "any")
    deploy["restart_policy"] = {"condition": condition, "delay": "2s"}
    deploy["mode"] = "replicated"
    deploy["endpoint_mode"] = mode
    deploy["replicas"] = 1
    deploy["update_config"] = {"order": "stop-first", "failure_action": "pause"}
    if constraints:
        deploy["placement"] = {"constraints": list(constraints)}
    labels = {SITE_LABEL: str(site.root), SERVICE_LABEL: service.id}
    given_labels = config.get("labels") or {}
    if isinstance(given_labels, dict):
        out["labels"] = dict(given_labels)
    deploy["labels"] = labels
    out["deploy"] = deploy
    deploy["labels"] = {**labels, SPEC_LABEL: digest(out)}
    return out


def _network(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The seed networks are external (homestack makes them as overlays); a network a
    stack defines itself (the socket proxy's internal one) becomes a stack overlay."""
    name = spec.get("name")
    if spec.get("external"):
        return {"external": True, "name": name}
    out: dict[str, Any] = {"driver": "overlay", "attachable": True, "name": name}
    if spec.get("internal"):
        out["internal"] = True
    return out


def translate_stack(
    site: Site,
    stack_id: str,
    config: Mapping[str, Any],
    services: Mapping[str, Service],
    placements: Mapping[str, Any],
) -> dict[str, Any]:
    """The whole stack file for the services of `config` that are in `services`."""
    out: dict[str, Any] = {"version": "3.9", "services": {}}
    used_networks: set[str] = set()
    used_volumes: set[str] = set()
    used_secrets: set[str] = set()
    used_configs: set[str] = set()
    for name, entry in (config.get("services") or {}).items():
        if name not in services:
            continue
        place = placements.get(name)
        spec = translate_service(
            site,
            services[name],
            entry,
            list(place.constraints) if place else [],
            list(place.generic) if place else None,
        )
        out["services"][name] = spec
        used_networks |= set(spec.get("networks") or {})
        for volume in spec.get("volumes") or []:
            if isinstance(volume, dict) and volume.get("type") == "volume":
                used_volumes.add(str(volume.get("source")))
        used_secrets |= {str(s.get("source")) for s in entry.get("secrets") or []}
        used_configs |= {str(s.get("source")) for s in entry.get("configs") or []}
    out["networks"] = {
        name: _network(spec)
        for name, spec in (config.get("networks") or {}).items()
        if name in used_networks
    }
    out["volumes"] = {
        name: {k: v for k, v in spec.items() if k in ("name", "driver", "driver_opts", "external")}
        for name, spec in (config.get("volumes") or {}).items()
        if name in used_volumes
    }
    out["secrets"] = {
        name: _versioned(site, stack_id, name, spec)
        for name, spec in (config.get("secrets") or {}).items()
        if name in used_secrets
    }
    out["configs"] = {
        name: _versioned(site, stack_id, name, spec)
        for name, spec in (config.get("configs") or {}).items()
        if name in used_configs
    }
    # the secret versions are part of each service's spec: a new value rolls the service
    for name, spec in out["services"].items():
        versions = sorted(
            out["secrets"][str(s.get("source"))]["name"]
            for s in (config["services"][name].get("secrets") or [])
            if str(s.get("source")) in out["secrets"]
        )
        if versions:
            labels = spec["deploy"]["labels"]
            labels[SPEC_LABEL] = digest([labels[SPEC_LABEL], versions])
    for key in ("networks", "volumes", "secrets", "configs"):
        if not out[key]:
            del out[key]
    return out
