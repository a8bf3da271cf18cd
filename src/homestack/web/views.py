"""What each page shows, as plain data built from the library's results (no HTTP here)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..catalog import Service, Site
from ..observe.clock import uptime
from ..observe.render import backup_age, human_bytes
from ..observe.status import StatusRow
from .live import Hub, sparkline


def row_id(row: StatusRow) -> str:
    return "row-" + (row.container or row.service)


def row_view(
    row: StatusRow, hub: Hub | None, standins: set[str], gpus: dict[str, str] | None = None
) -> dict[str, Any]:
    """One overview row: the status row plus what the page prints."""
    points = list(hub.history.get(row.service, [])) if hub else []
    state = row.state
    if row.state == "running" and row.health:
        state = row.health
    flags = [f for f in (row.flag, "broken file" if row.broken_file else None) if f]
    mem = human_bytes(row.mem_used) if row.mem_used is not None else ""
    return {
        "id": row_id(row),
        "row": row,
        "shown_state": state,
        "state_class": _state_class(row),
        "uptime": uptime(row.uptime_s) if row.uptime_s is not None else "",
        "cpu": f"{row.cpu_percent:.1f}%" if row.cpu_percent is not None else "",
        "mem": mem,
        "cpu_spark": sparkline([p.cpu for p in points]),
        "mem_spark": sparkline([float(p.mem) if p.mem is not None else None for p in points]),
        "backup": backup_age(row.last_backup) if row.last_backup else "",
        "flags": flags,
        "standin": row.container in standins,
        "gpu": (gpus or {}).get(row.service, "none"),
    }


def _state_class(row: StatusRow) -> str:
    if row.state == "running" and row.health in (None, "healthy"):
        return "good"
    if row.state == "running" and row.health == "starting":
        return "wait"
    if row.problem:
        return "bad"
    return "idle"


def gpu_needs(site: Site) -> dict[str, str]:
    """Each service's GPU need (none, optional, required), from its x-homestack block."""
    return {s.id: s.meta.gpu for s in site.services() if s.meta}


def standin_containers(site: Site) -> set[str]:
    """Containers of the site that run the stand-in image (a rehearsal, not the real one)."""
    from ..engine.backend import default_backend
    from ..standin_image import DEFAULT_TAG

    projects = {site.project_name(stack) for stack in site.stacks.values()}
    base = DEFAULT_TAG.split(":")[0]
    return {
        box.name or "?"
        for box in default_backend().containers(projects)
        if box.image.split(":")[0] == base
    }


def service_view(site: Site, service: Service) -> dict[str, Any]:
    """The service page's facts from its files: image, ports, networks, volumes, secrets
    (names only), dependencies both ways."""
    from ..deploy.standin import image_of
    from ..inventory import service_ports
    from ..plan import build_graph

    compose = service.compose
    env = site.stack_env(site.stacks[service.stack])
    meta = service.meta
    needs = sorted(
        {*(compose.get("depends_on") or []), *((meta.depends_on if meta else None) or [])}
    )
    try:
        graph = build_graph(site)
        needed_by = sorted(n for n, needs in graph.needs.items() if service.id in needs)
    except Exception:  # a broken file elsewhere: the page still shows this service
        needed_by = []
    volumes = [str(v) for v in compose.get("volumes") or []]
    networks = compose.get("networks") or []
    return {
        "id": service.id,
        "stack": service.stack,
        "title": service.title,
        "description": meta.description if meta else "",
        "enabled": service.enabled,
        "critical": bool(meta and meta.critical),
        "image": image_of(service, env),
        "ports": service_ports(service, env),
        "networks": sorted(networks if isinstance(networks, list) else list(networks)),
        "volumes": volumes,
        "secrets": [s.name for s in (meta.secrets if meta else [])],
        "needs": needs,
        "needed_by": needed_by,
        "gpu": meta.gpu if meta else "none",
        "backup": bool(meta and meta.backup),
    }


def catalog_view(site: Site) -> list[dict[str, Any]]:
    """The disabled services as apps to add."""
    from ..inventory import service_ports

    apps = []
    for stack in site.stacks.values():
        env = site.stack_env(stack)
        for service in stack.services.values():
            if service.enabled:
                continue
            meta = service.meta
            compose = service.compose
            apps.append(
                {
                    "id": service.id,
                    "stack": stack.id,
                    "title": service.title,
                    "description": meta.description if meta else "",
                    "gpu": meta.gpu if meta else "none",
                    "vram": meta.gpu_memory_mb if meta else None,
                    "ports": service_ports(service, env),
                    "needs": sorted(
                        {
                            *(compose.get("depends_on") or []),
                            *((meta.depends_on if meta else None) or []),
                        }
                    ),
                }
            )
    return apps


def status_data(result: Any) -> dict[str, Any]:
    data: dict[str, Any] = result.to_data()
    return data


def doctor_data(result: Any) -> dict[str, Any]:
    return {"checks": [asdict(check) for check in result.checks], "failed": result.failed}


def host_view(site: Site) -> dict[str, Any]:
    """GPUs, the disk where DATA lives, engine and Compose versions."""
    import shutil

    from ..engine.backend import default_backend

    facts: dict[str, Any] = {}
    try:
        version = default_backend().engine_version()
        facts["engine"] = version.get("Version")
        facts["api"] = version.get("ApiVersion")
        facts["os"] = f"{version.get('Os', '')}/{version.get('Arch', '')}"
    except Exception as error:
        facts["engine"] = f"unavailable: {getattr(error, 'message', error)}"
    try:
        from ..engine.compose import compose_version

        facts["compose"] = compose_version()
    except Exception as error:
        facts["compose"] = f"unavailable: {getattr(error, 'message', error)}"
    where = site.data_root if site.data_root.exists() else site.root
    usage = shutil.disk_usage(where)
    facts["disk"] = {
        "path": str(where),
        "total": human_bytes(usage.total),
        "used": human_bytes(usage.used),
        "free": human_bytes(usage.free),
        "percent": round(100 * usage.used / usage.total, 1) if usage.total else 0,
    }
    try:
        from ..gpu import detect

        facts["gpus"] = detect().to_data()
    except Exception as error:
        facts["gpus"] = []
        facts["gpu_note"] = str(getattr(error, "message", error))
    return facts
