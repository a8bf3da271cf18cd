"""`homestack doctor`: every check a line, ok / warn / fail, with the fix.

Host tools and files are checked without the engine; when the engine does not answer its
line fails with the fix and the checks that need it say they were skipped.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..catalog import Site
from ..errors import HomestackError
from ..findings import Finding
from ..notify.channel import check_channel
from .checks import Check, DoctorResult, fail, ok, warn
from .doctor_files import check_backups, check_clock, check_data, check_gpu, check_secrets
from .doctor_lan import check_lan
from .doctor_mounts import check_mounts
from .doctor_net import check_networks, check_ports, check_segregation
from .status import DISABLED_RUNNING, UNKNOWN, StatusRow, collect_status

if TYPE_CHECKING:
    from ..engine.backend import Backend

GIB = 1024**3
DISK_FAIL = (1 * GIB, 0.03)  # free bytes, free fraction
DISK_WARN = (5 * GIB, 0.10)


def check_engine() -> tuple[Check, Backend | None]:
    """The engine's line, and the backend to ask it through (None: it does not answer)."""
    from ..engine.backend import default_backend

    backend = default_backend()
    try:
        version = backend.engine_version()
    except HomestackError as exc:
        return fail("engine", "engine", exc.message, exc.hint), None
    return (
        ok(
            "engine", "engine", f"Docker {version.get('Version')} (API {version.get('ApiVersion')})"
        ),
        backend,
    )


def check_compose() -> Check:
    from ..engine.compose import compose_version

    try:
        return ok("tools", "compose", f"Docker Compose {compose_version()}")
    except HomestackError as exc:
        return fail("tools", "compose", exc.message, exc.hint)


def check_restic() -> Check:
    fix = "Install restic: `apt-get install restic` (or `homestack install all`)."
    from ..backup.restic import installed_version

    version, problem = installed_version()
    if version is None:
        return fail("tools", "restic", problem, fix)
    return ok("tools", "restic", f"restic {version}")


def check_disk(site: Site) -> Check:
    folder: Path = site.data_root
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    usage = shutil.disk_usage(folder)
    fraction = usage.free / usage.total if usage.total else 0.0
    detail = (
        f"{usage.free / GIB:.1f} GiB free of {usage.total / GIB:.1f} GiB "
        f"({fraction:.0%}) where DATA lives ({site.data_root})"
    )
    fix = (
        "Free space there (old images: `docker image prune`; old backups: "
        "`homestack backup prune`), or move DATA_ROOT to a bigger disk."
    )
    if usage.free < DISK_FAIL[0] or fraction < DISK_FAIL[1]:
        return fail("disk", "disk", detail, fix)
    if usage.free < DISK_WARN[0] or fraction < DISK_WARN[1]:
        return warn("disk", "disk", detail, fix)
    return ok("disk", "disk", detail)


def _service_fix(row: StatusRow) -> str:
    name = row.service
    if row.flag == DISABLED_RUNNING:
        return f"It is commented out in stack.yaml: `homestack down {name}` (or enable it)."
    if row.flag == UNKNOWN:
        return f"No compose file describes it: `docker rm -f {row.container}`."
    if not row.enabled and row.state != "missing":  # a stopped container of a disabled one
        return (
            f"It is commented out in stack.yaml: `homestack down {name}` removes its container "
            f"(or `homestack enable {name}`, then `homestack up {name}`)."
        )
    if row.state == "missing":
        return f"Start it: `homestack up {name}`."
    if row.state == "restarting":
        return f"It keeps crashing: `homestack logs {name} --tail 50` shows why."
    if row.state == "paused":
        return (
            f"It is frozen (a backup pauses it while it runs); if no backup runs: "
            f"`docker unpause {row.container}`."
        )
    if row.health == "unhealthy":
        return (
            f"Its health probe fails: `homestack logs {name} --tail 50` shows why; "
            f"`homestack restart {name}` once it is fixed."
        )
    return (
        f"See why it stopped: `homestack logs {name} --tail 50`; "
        f"start it again: `homestack up {name}`."
    )


def check_services(
    site: Site, backend: Backend, *, seen: list[StatusRow] | None = None
) -> list[Check]:
    """Each enabled service that is not up and healthy, as `status` flags it: a failure for
    a critical service, a warning for the rest; one ok line when all are fine. The rows
    looked at are added to `seen` (the clock check reads their start times)."""
    try:
        rows = collect_status(site, backend=backend, with_backups=False, with_usage=False).rows
    except HomestackError as exc:
        return [warn("services", "services", exc.message, exc.hint)]
    if seen is not None:
        seen += rows
    critical = {s.id for s in site.services(enabled_only=True) if s.meta and s.meta.critical}
    checks = []
    for row in rows:
        if not row.problem:
            continue
        what = row.flag or row.state
        if row.state == "exited" and row.exit_code is not None:
            what = f"exited ({row.exit_code})"
        if row.health == "unhealthy" and row.state != "paused":  # paused: the probe cannot run
            what = "unhealthy" + (f": {row.health_output}" if row.health_output else "")
        make = fail if row.service in critical else warn  # enabled ones only
        checks.append(
            make(
                "services",
                f"service {row.service}",
                f"{row.stack}/{row.service} {what}",
                _service_fix(row),
            )
        )
    standins = [r.service for r in rows if r.standin]
    if standins:  # a rehearsal never passes for a real healthy site
        checks.append(
            warn(
                "services",
                "rehearsal",
                f"{len(standins)} of {len(rows)} containers are stand-ins of `up --stand-in` "
                f"({', '.join(standins)}): not the real images, memory limits dropped, "
                "healthy only as stand-ins",
                "`homestack up` deploys the real images (once they can be pulled).",
            )
        )
    if not [c for c in checks if c.name != "rehearsal"]:
        running = [r for r in rows if r.state == "running"]
        healthy = sum(1 for r in running if r.health == "healthy")
        checks.append(
            ok(
                "services",
                "services",
                f"{len(running)} running, {healthy} of them healthy "
                f"({len(running) - healthy} starting or without a health check)",
            )
        )
    return checks


def site_problem(problem: Finding) -> Check:
    """A problem in the site's files as a failed check, its file (and line) named once."""
    where = f"{problem.file}:{problem.line}" if problem.line else str(problem.file)
    message = problem.message.removeprefix(f"{problem.file}: ")
    return fail("site", problem.rule, f"{where}: {message}", problem.hint)


def run_doctor(site: Site, now: datetime | None = None) -> DoctorResult:
    """All checks, in a stable order; the slow ones run at the same time. `now`: this
    machine's time (backup ages, the clock check)."""
    now = now or datetime.now(UTC)
    rows: list[StatusRow] = []
    problems = site.all_problems()
    broken = {p.service for p in problems if p.service}
    services = [s for s in site.services(enabled_only=True) if s.id not in broken]
    with ThreadPoolExecutor(max_workers=4) as pool:
        engine_job = pool.submit(check_engine)
        compose_job = pool.submit(check_compose)
        restic_job = pool.submit(check_restic)
        gpu_job = pool.submit(check_gpu, site, services)
        engine_check, backend = engine_job.result()
        result = DoctorResult([engine_check, compose_job.result(), restic_job.result()])
        # the files themselves (`homestack validate` says more)
        result.checks += [site_problem(problem) for problem in problems]
        result.checks.append(check_disk(site))
        result.checks += check_ports(site, services, backend)
        if backend is None:
            result.checks.append(
                warn(
                    "networks",
                    "networks",
                    "not checked: the engine does not answer",
                    engine_check.fix,
                )
            )
        else:
            result.checks += check_services(site, backend, seen=rows)
            result.checks += check_mounts(site, backend)
            network_checks, good = check_networks(site, services, backend)
            result.checks += network_checks
            try:
                result.checks += check_segregation(site, good, backend)
            except HomestackError as exc:
                result.checks.append(warn("segregation", "segregation", exc.message, exc.hint))
            except Exception as exc:  # a probe that hung or vanished: say so, keep going
                result.checks.append(
                    warn(
                        "segregation",
                        "segregation",
                        f"the probe failed: {exc}",
                        "Run `homestack doctor` again; see `docker ps -a` for probes left.",
                    )
                )
        result.checks += check_secrets(site, services)
        result.checks += check_data(site, services)
        result.checks += check_backups(site, services, now)
        started = [(r.service, r.started_at) for r in rows]
        result.checks += check_clock(site, services, started, now)
        result.checks += gpu_job.result()
        result.checks += check_lan(site)
    result.checks.append(check_channel(site))  # someone hears of failures (docs/alerts.md)
    return result
