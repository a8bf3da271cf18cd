"""`homestack status`: one row per service container across every stack.

One container list (filtered by the site's compose project names), then inspects, resource
usage and last-backup times fetched concurrently. Enabled services with no container and
containers of disabled services are flagged.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..catalog import Service, Site, Stack
from ..deploy.dependents import is_running
from ..engine import docker as engine
from ..engine.usage import Usage
from ..inventory import service_ports
from . import hooks

MISSING = "enabled-but-missing"
DISABLED_RUNNING = "disabled-but-running"
UNKNOWN = "not-in-catalog"
STOPPED = "enabled-but-stopped"


@dataclass(frozen=True)
class StatusRow:
    service: str
    stack: str
    container: str | None
    enabled: bool
    state: str  # running, exited, restarting, paused, created, dead, missing
    health: str | None  # healthy, unhealthy, starting, or None without a healthcheck
    health_output: str | None  # the last probe's output, when unhealthy
    exit_code: int | None
    started_at: str | None
    uptime_s: float | None
    restarts: int | None
    cpu_percent: float | None
    mem_used: int | None
    mem_limit: int | None
    url: str | None
    ports: list[str]
    last_backup: str | None  # the last successful backup
    backup_failed: bool
    flag: str | None

    @property
    def problem(self) -> bool:
        return (
            self.flag is not None
            or self.health == "unhealthy"
            or self.state in ("restarting", "dead", "paused")
            or (self.state == "exited" and self.exit_code not in (0, None))
        )


@dataclass
class StatusResult:
    rows: list[StatusRow] = field(default_factory=list)
    backups_known: bool = False
    taken_at: str = ""

    def to_data(self) -> dict[str, Any]:
        return {
            "taken_at": self.taken_at,
            "backups_known": self.backups_known,
            "services": [asdict(row) | {"problem": row.problem} for row in self.rows],
        }


def service_url(service: Service, env: dict[str, str]) -> str | None:
    """https://{subdomain or service}.{DOMAIN}{path} for a service with a web UI."""
    web = service.meta.web if service.meta else None
    domain = env.get("DOMAIN")
    if web is None or not domain:
        return None
    return f"https://{web.subdomain or service.id}.{domain}{web.path}"


def _parse_time(text: str | None) -> datetime | None:
    if not text or text.startswith("0001-"):
        return None
    head, _, rest = text.rstrip("Z").partition(".")
    try:
        parsed = datetime.fromisoformat(head).replace(tzinfo=UTC)
    except ValueError:
        return None
    fraction = "".join(ch for ch in rest if ch.isdigit())[:6]
    return parsed.replace(microsecond=int(fraction.ljust(6, "0"))) if fraction else parsed


def _ports(summary: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    for port in summary.get("Ports") or []:
        if port.get("PublicPort"):
            ip = port.get("IP") or ""
            if ip in ("::", "0.0.0.0") and any(  # noqa: S104 - reported, not bound
                s.endswith(f":{port['PublicPort']}->{port['PrivatePort']}/{port['Type']}")
                for s in seen
            ):
                continue
            text = f"{ip}:{port['PublicPort']}->{port['PrivatePort']}/{port['Type']}"
            if text not in seen:
                seen.append(text)
    return sorted(seen)


def _health(info: dict[str, Any]) -> tuple[str | None, str | None]:
    health = (info.get("State") or {}).get("Health")
    if not health:
        return None, None
    status = health.get("Status")
    output = None
    if status == "unhealthy":
        log = health.get("Log") or []
        if log:
            output = " ".join(str(log[-1].get("Output", "")).split())[:300] or None
    return status, output


def _row(
    service_id: str,
    stack: Stack,
    service: Service | None,
    summary: dict[str, Any],
    info: dict[str, Any],
    usage: Usage | None,
    url: str | None,
    now: datetime,
) -> StatusRow:
    state = info.get("State") or {}
    status = str(state.get("Status") or summary.get("State") or "unknown")
    started = _parse_time(state.get("StartedAt")) if status in ("running", "paused") else None
    # a stopped container keeps its last probe's verdict; it says nothing about now
    live = is_running(status)
    health, output = _health(info) if live else (None, None)
    enabled = bool(service and service.enabled)
    flag = None
    if service is None:
        flag = UNKNOWN
    elif not enabled and live:
        flag = DISABLED_RUNNING
    elif (
        enabled
        and status in ("exited", "created", "dead")
        and not (service.meta and service.meta.oneshot)  # a job that ran to completion is fine
    ):
        flag = STOPPED
    name = (summary.get("Names") or ["/?"])[0].lstrip("/")
    return StatusRow(
        service=service_id,
        stack=stack.id,
        container=name,
        enabled=enabled,
        state=status,
        health=health,
        health_output=output,
        exit_code=state.get("ExitCode") if status in ("exited", "dead") else None,
        started_at=started.isoformat() if started else None,
        uptime_s=round((now - started).total_seconds(), 1) if started else None,
        restarts=info.get("RestartCount"),
        cpu_percent=round(usage.cpu_percent, 2)
        if usage and usage.cpu_percent is not None
        else None,
        mem_used=usage.mem_used if usage else None,
        mem_limit=usage.mem_limit if usage else None,
        url=url,
        ports=_ports(summary),
        last_backup=None,
        backup_failed=False,
        flag=flag,
    )


def collect_status(
    site: Site,
    names: list[str] | None = None,
    *,
    api: Any = None,
    interval: float = engine.SAMPLE_INTERVAL_S,
    with_backups: bool = True,
    with_usage: bool = True,
) -> StatusResult:
    """Status of the chosen stacks/services (all by default); `with_usage=False` skips the
    CPU and memory sample (the doctor needs states, not load)."""
    stacks, only = site.select(names)
    only_ids = {s.id for s in only} if only is not None else None
    api = api or engine.api_client()
    by_project = {site.project_name(stack): stack for stack in stacks}
    summaries = engine.project_containers(api, set(by_project))

    def wanted(summary: dict[str, Any]) -> bool:
        service_id = (summary.get("Labels") or {}).get(engine.SERVICE_LABEL, "")
        return only_ids is None or service_id in only_ids

    summaries = [s for s in summaries if wanted(s)]
    infos = engine.inspect_many(api, [s["Id"] for s in summaries])
    pids = {
        cid: int((info.get("State") or {}).get("Pid") or 0)
        for cid, info in infos.items()
        if with_usage and (info.get("State") or {}).get("Running")
    }
    pids = {cid: pid for cid, pid in pids.items() if pid > 0}

    chosen: list[Service] = []
    for stack in stacks:
        for service in stack.services.values():
            if only_ids is None or service.id in only_ids:
                chosen.append(service)
    backups_known = False
    backup_times: dict[str, hooks.BackupState] = {}
    with ThreadPoolExecutor(max_workers=8) as pool:
        usage_job = pool.submit(engine.usage_many, api, pids, interval)
        backup_jobs = {}
        if with_backups:
            with_container = {(x.get("Labels") or {}).get(engine.SERVICE_LABEL) for x in summaries}
            backup_jobs = {
                s.id: pool.submit(hooks.last_backup, site, s.id)
                for s in chosen
                if s.enabled or s.id in with_container
            }
        usage = usage_job.result()
        for service_id, job in backup_jobs.items():
            backup_times[service_id] = job.result()
            backups_known = backups_known or backup_times[service_id].known

    now = datetime.now(UTC)
    envs = {stack.id: site.stack_env(stack) for stack in stacks}
    rows: list[StatusRow] = []
    seen: set[str] = set()
    for summary in summaries:
        labels = summary.get("Labels") or {}
        stack = by_project[labels[engine.PROJECT_LABEL]]
        service_id = labels.get(engine.SERVICE_LABEL, "?")
        catalogued = stack.services.get(service_id)
        seen.add(service_id)
        info = infos.get(summary["Id"], {"State": {"Status": summary.get("State")}})
        url = service_url(catalogued, envs[stack.id]) if catalogued else None
        row = _row(service_id, stack, catalogued, summary, info, usage.get(summary["Id"]), url, now)
        when = backup_times.get(service_id)
        rows.append(_with_backup(row, when))
    for service in chosen:
        # enabled services with no container; disabled ones only when asked for by name
        named = only_ids is not None and service.id in only_ids
        if service.id not in seen and (service.enabled or named):
            env = envs[service.stack]
            backup = backup_times.get(service.id)
            rows.append(
                StatusRow(
                    service=service.id,
                    stack=service.stack,
                    container=None,
                    enabled=service.enabled,
                    state="missing" if service.enabled else "disabled",
                    health=None,
                    health_output=None,
                    exit_code=None,
                    started_at=None,
                    uptime_s=None,
                    restarts=None,
                    cpu_percent=None,
                    mem_used=None,
                    mem_limit=None,
                    url=service_url(service, env),
                    ports=service_ports(service, env),
                    last_backup=_iso(backup.last_success) if backup else None,
                    backup_failed=bool(backup and backup.failed),
                    flag=MISSING if service.enabled else None,
                )
            )
    order = {stack.id: index for index, stack in enumerate(stacks)}
    rows.sort(key=lambda r: (order.get(r.stack, 99), r.service, r.container or ""))
    return StatusResult(rows, backups_known, now.isoformat(timespec="seconds"))


def _iso(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when else None


def _with_backup(row: StatusRow, backup: hooks.BackupState | None) -> StatusRow:
    if backup is None or not backup.known:
        return row
    data = asdict(row)
    data["last_backup"] = _iso(backup.last_success)
    data["backup_failed"] = backup.failed
    return StatusRow(**data)


def sort_rows(rows: list[StatusRow], key: str) -> list[StatusRow]:
    """Rows ordered for `top`: cpu or mem descending, else by name."""
    if key == "cpu":
        return sorted(rows, key=lambda r: -(r.cpu_percent or -1.0))
    if key in ("mem", "memory"):
        return sorted(rows, key=lambda r: -(r.mem_used or -1))
    return sorted(rows, key=lambda r: (r.stack, r.service))
