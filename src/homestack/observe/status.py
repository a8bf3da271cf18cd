"""`homestack status`: one row per service container across every stack.

One container list (filtered by the site's compose project names), then inspects, resource
usage and last-backup times fetched concurrently. Enabled services with no container and
containers of disabled services are flagged. Files of the chosen stacks that cannot be read
(as `validate` would refuse them) are listed beside the rows, never in place of them: a broken
file in one stack does not hide the others.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from ..catalog import STACK_SUFFIX, Service, Site, Stack
from ..deploy.dependents import is_running
from ..engine.model import SERVICE_LABEL, Container
from ..engine.usage import Usage
from ..errors import BadInput
from ..findings import Finding, Severity
from ..inventory import service_ports
from ..update.schedule import pending_updates
from . import hooks

if TYPE_CHECKING:
    from ..engine.backend import Backend

MISSING = "enabled-but-missing"
DISABLED_RUNNING = "disabled-but-running"
UNKNOWN = "not-in-catalog"
STOPPED = "enabled-but-stopped"


@dataclass(frozen=True, kw_only=True)
class StatusRow:
    """One service's line of `status` (None: not known, or not running)."""

    service: str
    stack: str
    container: str | None = None
    enabled: bool
    state: str  # running, exited, restarting, paused, created, dead, missing
    health: str | None = None  # healthy, unhealthy, starting, or None without a healthcheck
    health_output: str | None = None  # the last probe's output, when unhealthy
    exit_code: int | None = None
    started_at: str | None = None
    uptime_s: float | None = None
    restarts: int | None = None
    cpu_percent: float | None = None
    mem_used: int | None = None
    mem_limit: int | None = None
    url: str | None = None
    ports: list[str] = field(default_factory=list)
    last_backup: str | None = None  # the last successful backup
    backup_failed: bool = False
    flag: str | None = None
    #: the file that says what this service is and cannot be read (its service file, or the
    #: stack.yaml that lists it); the row shows what the engine has, `problems` says why
    broken_file: str | None = None
    #: a stand-in of `up --stand-in` (a rehearsal): not the real image, no memory limit
    standin: bool = False

    @property
    def problem(self) -> bool:
        return (
            self.flag is not None
            or self.health == "unhealthy"
            or self.state in ("restarting", "dead", "paused")
            or (self.state == "exited" and self.exit_code not in (0, None))
        )


class UsageFields(TypedDict):
    cpu_percent: float | None
    mem_used: int | None
    mem_limit: int | None


def usage_fields(usage: Usage | None) -> UsageFields:
    """A row's CPU (rounded to 2 places) and memory figures; all None without figures."""
    if usage is None:
        return UsageFields(cpu_percent=None, mem_used=None, mem_limit=None)
    cpu = round(usage.cpu_percent, 2) if usage.cpu_percent is not None else None
    return UsageFields(cpu_percent=cpu, mem_used=usage.mem_used, mem_limit=usage.mem_limit)


@dataclass(frozen=True)
class FileProblem:
    """A file of the chosen stacks that cannot be read; `homestack validate` shows them all."""

    file: str  # relative to the site root where it is inside it
    line: int | None
    stack: str | None
    service: str | None
    rule: str
    message: str
    hint: str | None


@dataclass
class StatusResult:
    rows: list[StatusRow] = field(default_factory=list)
    backups_known: bool = False
    taken_at: str = ""
    problems: list[FileProblem] = field(default_factory=list)
    #: service → "1.0.0 → 1.0.1", from the last daily `outdated --record` (issue 19)
    updates: dict[str, str] = field(default_factory=dict)

    def to_data(self) -> dict[str, Any]:
        return {
            "taken_at": self.taken_at,
            "backups_known": self.backups_known,
            "updates": self.updates,
            "services": [asdict(row) | {"problem": row.problem} for row in self.rows],
            "problems": [asdict(problem) for problem in self.problems],
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


def _ports(listed: Container) -> list[str]:
    seen: list[str] = []
    for port in listed.ports:
        mapping = f":{port.public}->{port.private}/{port.protocol}"
        if port.ip in ("::", "0.0.0.0") and any(  # noqa: S104 - reported, not bound
            s.endswith(mapping) for s in seen
        ):
            continue
        if port.text not in seen:
            seen.append(port.text)
    return sorted(seen)


def _health(box: Container) -> tuple[str | None, str | None]:
    output = None
    if box.health == "unhealthy" and box.health_log:
        output = " ".join(box.health_log[-1].split())[:300] or None
    return box.health, output


#: the label every stand-in container carries (deploy/standin.py writes it)
STANDIN_LABEL = "org.homestack.standin"


def _row(
    service_id: str,
    stack: Stack,
    service: Service | None,
    listed: Container,
    box: Container,
    usage: Usage | None,
    url: str | None,
    now: datetime,
) -> StatusRow:
    """The row of a container: `listed` as the list has it, `box` as inspected."""
    status = box.state or listed.state or "unknown"
    started = _parse_time(box.started_at) if status in ("running", "paused") else None
    # a stopped container keeps its last probe's verdict; it says nothing about now
    live = is_running(status)
    health, output = _health(box) if live else (None, None)
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
    return StatusRow(
        service=service_id,
        stack=stack.id,
        container=listed.name or "?",
        enabled=enabled,
        state=status,
        health=health,
        health_output=output,
        exit_code=box.exit_code if status in ("exited", "dead") else None,
        started_at=started.isoformat() if started else None,
        uptime_s=round((now - started).total_seconds(), 1) if started else None,
        restarts=box.restart_count,
        **usage_fields(usage),
        url=url,
        ports=_ports(listed),
        flag=flag,
        standin=listed.labels.get(STANDIN_LABEL) == "1",
    )


def collect_status(
    site: Site,
    names: list[str] | None = None,
    *,
    backend: Backend | None = None,
    interval: float | None = None,
    with_backups: bool = True,
    with_usage: bool = True,
    now: datetime | None = None,
) -> StatusResult:
    """Status of the chosen stacks/services (all by default); `with_usage=False` skips the
    CPU and memory sample (the doctor needs states, not load); `interval`: of the CPU
    sample (None: the backend's); `now`: this machine's time (uptimes are counted to it);
    `backend`: the context's (default: engine.backend.default_backend())."""
    if backend is None:
        from ..engine.backend import default_backend

        backend = default_backend()
    stacks, only = site.select(names)
    only_ids = {s.id for s in only} if only is not None else None
    by_project = {site.project_name(stack): stack for stack in stacks}
    listed = [
        c
        for c in backend.containers(set(by_project))
        if only_ids is None or c.labels.get(SERVICE_LABEL, "") in only_ids
    ]
    boxes = backend.inspect_many([c.id for c in listed])
    # a running (or paused) container has its main process; a stopped one has pid 0
    pids = {cid: box.pid for cid, box in boxes.items() if with_usage and box.pid > 0}

    chosen: list[Service] = []
    for stack in stacks:
        for service in stack.services.values():
            if only_ids is None or service.id in only_ids:
                chosen.append(service)
    backups_known = False
    backup_times: dict[str, hooks.BackupState] = {}
    with ThreadPoolExecutor(max_workers=8) as pool:
        usage_job = pool.submit(backend.stats, pids, interval=interval)
        backup_jobs = {}
        if with_backups:
            with_container = {c.labels.get(SERVICE_LABEL) for c in listed}
            backup_jobs = {
                s.id: pool.submit(hooks.last_backup, site, s.id)
                for s in chosen
                if s.enabled or s.id in with_container
            }
        usage = usage_job.result()
        for service_id, job in backup_jobs.items():
            backup_times[service_id] = job.result()
            backups_known = backups_known or backup_times[service_id].known

    now = now or datetime.now(UTC)
    problems = file_problems(site, stacks, only_ids)
    envs = _stack_envs(site, stacks, problems)
    broken = broken_files(site, stacks)
    rows: list[StatusRow] = []
    seen: set[str] = set()
    for container in listed:
        stack = by_project[container.project or ""]
        service_id = container.labels.get(SERVICE_LABEL, "?")
        catalogued = stack.services.get(service_id)
        seen.add(service_id)
        box = boxes.get(container.id, Container(state=container.state))  # gone meanwhile
        url = service_url(catalogued, _url_env(site, envs[stack.id])) if catalogued else None
        row = _row(service_id, stack, catalogued, container, box, usage.get(container.id), url, now)
        row = _with_broken(row, broken.get((stack.id, service_id)), _unlisted(stack))
        when = backup_times.get(service_id)
        rows.append(_with_backup(row, when))
    for service in chosen:
        # enabled services with no container; disabled ones only when asked for by name
        named = only_ids is not None and service.id in only_ids
        if service.id not in seen and (service.enabled or named):
            env = envs[service.stack]
            backup = backup_times.get(service.id)
            rows.append(
                no_container_row(
                    service.id,
                    service.stack,
                    enabled=service.enabled,
                    url=service_url(service, _url_env(site, env)),
                    ports=service_ports(service, env),
                    last_backup=_iso(backup.last_success) if backup else None,
                    backup_failed=bool(backup and backup.failed),
                    broken_file=broken.get((service.stack, service.id)),
                )
            )
    order = {stack.id: index for index, stack in enumerate(stacks)}
    rows.sort(key=lambda r: (order.get(r.stack, 99), r.service, r.container or ""))
    return StatusResult(
        rows,
        backups_known,
        now.isoformat(timespec="seconds"),
        problems,
        pending_updates(site, {r.service for r in rows}),  # the daily check's (issue 19)
    )


def no_container_row(
    service: str,
    stack: str,
    *,
    enabled: bool = True,
    url: str | None = None,
    ports: list[str] | None = None,
    last_backup: str | None = None,
    backup_failed: bool = False,
    broken_file: str | None = None,
) -> StatusRow:
    """The row of a catalogued service with no container: missing when enabled."""
    return StatusRow(
        service=service,
        stack=stack,
        enabled=enabled,
        state="missing" if enabled else "disabled",
        url=url,
        ports=ports if ports is not None else [],
        last_backup=last_backup,
        backup_failed=backup_failed,
        flag=MISSING if enabled else None,
        broken_file=broken_file,
    )


def _relative(site: Site, path: Path | str | None) -> str:
    if path is None:
        return "?"
    try:
        full = Path(path).resolve()
    except (RuntimeError, OSError):  # a symbolic-link loop (RuntimeError before Python 3.13)
        full = Path(path).absolute()
    try:
        return str(full.relative_to(site.root))
    except ValueError:
        return str(path)


def _stack_of(site: Site, path: Path) -> str | None:
    folder = _relative(site, path).split("/", 1)[0].removesuffix(STACK_SUFFIX)
    return folder if folder in site.stacks else None


def _file_problem(site: Site, problem: Finding, stack: str | None) -> FileProblem:
    where = str(problem.file)
    return FileProblem(
        file=_relative(site, problem.file),
        line=problem.line,
        stack=stack,
        service=problem.service,
        rule=problem.rule,
        message=problem.message.removeprefix(f"{where}: ").removeprefix(f"{where}:"),
        hint=problem.hint,
    )


def file_problems(
    site: Site, stacks: list[Stack], only_ids: set[str] | None = None
) -> list[FileProblem]:
    """What cannot be read in the chosen stacks' files (the problems `validate` reports
    first and `up` refuses): of the named services only, when services were named."""

    def wanted(problem: Finding) -> bool:
        return only_ids is None or problem.service is None or problem.service in only_ids

    chosen = {stack.id for stack in stacks}
    found = [
        _file_problem(site, p, owner)
        for p in site.problems
        if (owner := _stack_of(site, p.file)) in chosen and wanted(p)
    ]
    for stack in stacks:
        found += [_file_problem(site, p, stack.id) for p in stack.problems if wanted(p)]
        for service in stack.services.values():
            if only_ids is None or service.id in only_ids:
                found += [_file_problem(site, p, stack.id) for p in _own_problems(service)]
    return found


def _own_problems(service: Service) -> list[Finding]:
    """The loader's problems with the service's file; and, when it found none, a file that
    parses but does not define services.<its name> (`validate` says the same, as
    service.per-file): compose would run nothing of this service from it."""
    if service.problems or service.doc is None or service.compose:
        return service.problems
    return [
        Finding(
            "service.per-file",
            Severity.ERROR,
            f"{service.file.name} does not define services.{service.id}",
            service.file,
            service.doc.line("services") or 1,
            service.id,
            f"Keep exactly one service per file, named after it: services.{service.id} "
            "with its image and x-homestack block.",
        )
    ]


def _url_env(site: Site, env: dict[str, str]) -> dict[str, str]:
    """A URL is the proxy's: DOMAIN as generate writes the Caddyfile (the root .env or the
    process environment), not a stack's own (lint env.domain reports that one)."""
    out = dict(env)
    out.pop("DOMAIN", None)
    if domain := site.root_env.get("DOMAIN"):
        out["DOMAIN"] = domain
    return out


def _stack_envs(
    site: Site, stacks: list[Stack], problems: list[FileProblem]
) -> dict[str, dict[str, str]]:
    """Each stack's settings; a stack whose .env layer is broken gets none (no URLs) and its
    problem is added, so its rows and the other stacks are still shown."""
    envs: dict[str, dict[str, str]] = {}
    for stack in stacks:
        try:
            envs[stack.id] = site.stack_env(stack)
        except BadInput as exc:
            envs[stack.id] = {}
            problems.append(_env_problem(site, stack, exc))
    return envs


def _env_problem(site: Site, stack: Stack, exc: BadInput) -> FileProblem:
    where = exc.file or ""
    return FileProblem(
        file=_relative(site, exc.file),
        line=exc.line,
        stack=stack.id,
        service=exc.service,
        rule="env.syntax",
        message=exc.message.removeprefix(f"{where}:{exc.line}: ").removeprefix(f"{where}: "),
        hint=exc.hint,
    )


def _unlisted(stack: Stack) -> bool:
    """stack.yaml cannot be read, so which services are enabled is not known."""
    return any(
        p.file == stack.file and p.rule in ("yaml.syntax", "stack.missing") for p in stack.problems
    )


def broken_files(site: Site, stacks: list[Stack]) -> dict[tuple[str, str], str]:
    """(stack, service) → the file that cannot be read: the service's own file, else the
    stack.yaml that would list it."""
    broken: dict[tuple[str, str], str] = {}
    for stack in stacks:
        unlisted = _unlisted(stack)
        for service in stack.services.values():
            if problems := _own_problems(service):
                broken[(stack.id, service.id)] = _relative(site, problems[0].file)
            elif unlisted:
                broken[(stack.id, service.id)] = _relative(site, stack.file)
    return broken


def _with_broken(row: StatusRow, broken_file: str | None, unlisted: bool) -> StatusRow:
    """A container whose stack.yaml cannot be read is not known to be disabled (no flag)."""
    if broken_file is None:
        return row
    flag = None if unlisted and row.flag == DISABLED_RUNNING else row.flag
    return replace(row, broken_file=broken_file, flag=flag)


def _iso(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when else None


def _with_backup(row: StatusRow, backup: hooks.BackupState | None) -> StatusRow:
    if backup is None or not backup.known:
        return row
    return replace(row, last_backup=_iso(backup.last_success), backup_failed=backup.failed)


def sort_rows(rows: list[StatusRow], key: str) -> list[StatusRow]:
    """Rows ordered for `top`: cpu or mem descending, else by name."""
    if key == "cpu":
        return sorted(rows, key=lambda r: -(r.cpu_percent or -1.0))
    if key in ("mem", "memory"):
        return sorted(rows, key=lambda r: -(r.mem_used or -1))
    return sorted(rows, key=lambda r: (r.stack, r.service))
