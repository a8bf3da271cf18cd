"""Doctor checks on the host's files and hardware: secrets, DATA, backups, GPU."""

from __future__ import annotations

import os
import shlex
import stat
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from ..catalog import Service, Site
from ..errors import HomestackError
from . import clock, hooks
from .checks import Check, fail, ok, warn

BACKUP_WARN_AGE = timedelta(days=2)
BACKUP_FAIL_AGE = timedelta(days=7)


def _mode(info: os.stat_result) -> str:
    return f"{stat.S_IMODE(info.st_mode):04o}"


def _q(path: object) -> str:
    """A path as a shell word, for fix commands a user pastes (a space in DATA_ROOT)."""
    return shlex.quote(str(path))


def check_secrets(site: Site, services: list[Service]) -> list[Check]:
    """Each secret file: present, not readable by others, owned by who must read it."""
    from ..deploy.folders import check_folder
    from ..deploy.secrets import acceptable_mode, check_file, problem_fix, wanted_secrets
    from ..modes import PRIVATE_FOLDER_MODE

    checks: list[Check] = []
    folder = site.secrets_dir
    wanted = wanted_secrets(site, services)
    if not wanted:
        return checks
    try:
        check_folder(site, folder, "SECRETS_DIR")
    except HomestackError as exc:  # a file, a missing parent, no access: one line, not one each
        return [fail("secrets", "secrets folder", exc.message, exc.hint)]
    if folder.is_dir():
        mode = stat.S_IMODE(folder.stat().st_mode)
        if mode & 0o007:
            checks.append(
                fail(
                    "secrets",
                    "secrets folder",
                    f"{folder} is open to others (mode {mode:04o})",
                    f"Run `chmod {PRIVATE_FOLDER_MODE:o} {_q(folder)}`.",
                )
            )
    for item in wanted:
        name = f"secret {item.name}"
        if not item.path.exists():
            checks.append(
                fail("secrets", name, f"{item.path} is missing", _missing_fix(site, item.service))
            )
            continue
        problem = check_file(item.path, folder)
        if problem:  # the same fix `up` and `install secrets` give
            fix = problem_fix(item.path, problem, item.mode)
            checks.append(fail("secrets", name, f"{item.path} {problem}", fix))
            continue
        info = item.path.stat()
        if not acceptable_mode(stat.S_IMODE(info.st_mode), item.mode):
            checks.append(
                warn(
                    "secrets",
                    name,
                    f"mode {_mode(info)}, expected {item.mode:04o}",
                    f"Run `chmod {item.mode:o} {_q(item.path)}`.",
                )
            )
            continue
        if item.uid is not None and (info.st_uid, info.st_gid) != (item.uid, item.gid):
            checks.append(
                fail(
                    "secrets",
                    name,
                    f"owned by {info.st_uid}:{info.st_gid}; the container reads it as "
                    f"{item.uid}:{item.gid}",
                    f"Run `chown {item.uid}:{item.gid} {_q(item.path)}` (or `homestack install "
                    "secrets` as root).",
                )
            )
            continue
        if item.uid is None and info.st_uid not in (os.geteuid(), 0):
            checks.append(
                warn(
                    "secrets",
                    name,
                    f"owned by uid {info.st_uid}, not by you or root",
                    f"Run `chown {os.geteuid()} {_q(item.path)}`.",
                )
            )
            continue
        checks.append(ok("secrets", name, f"mode {_mode(info)}, owner {info.st_uid}:{info.st_gid}"))
    return checks


def _missing_fix(site: Site, service_id: str) -> str:
    """A secret is missing: a new one is fine for a service with no data yet; one that has
    data may have stored or used the old value (an encryption key, an admin password), so the
    old value comes back first: a copy, or the service's backup, which holds its secrets."""
    from ..deploy.data import has_data

    install = "Run `homestack install secrets`."
    if not has_data(site, service_id):
        return install
    data = site.data_root / service_id
    service = site.service(service_id)
    backup = service.meta.backup if service.meta else None
    restore = (
        f" or `homestack restore {service_id}` (its backups hold its secrets, with its data as "
        "it was then)"
        if backup is not None and "secrets" in backup.paths
        else ""
    )
    return (
        f"{_q(data)} already has data, which may need the old value: put back a copy of it"
        f"{restore}. `homestack install secrets` (and `homestack up`) make a NEW value, then "
        f"`homestack restart {service_id}`."
    )


def check_data(site: Site, services: list[Service]) -> list[Check]:
    """DATA folders exist and belong to whom `install data` gives them: data and config to the
    user the container runs as (else PUID:PGID), backups to PUID:PGID."""
    from ..deploy.data import owner_ids, service_folders, service_owner
    from ..deploy.folders import check_folder

    try:
        puid = owner_ids(site)
    except HomestackError as exc:
        return [fail("data", "DATA owners", exc.message, exc.hint)]
    try:
        check_folder(site, site.data_root, "DATA_ROOT")
    except HomestackError as exc:  # a file, a missing disk, no access: one line, not one each
        return [fail("data", "DATA_ROOT", exc.message, exc.hint)]
    checks: list[Check] = []
    for service in services:
        uid, gid = service_owner(site, service)
        backups = site.data_root / "backups" / service.id
        missing: list[str] = []
        wrong: list[str] = []
        chown: dict[tuple[int, int], list[str]] = {}  # owner it should have → its folders
        for folder, _ in service_folders(site, service):
            try:
                info = folder.stat()
            except FileNotFoundError:
                missing.append(str(folder))
                continue
            except OSError as exc:  # e.g. DATA/config is not ours to enter
                wrong.append(f"{folder}: {exc.strerror or exc}")
                continue
            expected = puid if folder == backups else (uid, gid)
            if (info.st_uid, info.st_gid) != expected:
                wrong.append(
                    f"{folder} is {info.st_uid}:{info.st_gid}, not {expected[0]}:{expected[1]}"
                )
                chown.setdefault(expected, []).append(_q(folder))
        name = f"data {service.id}"
        if wrong:
            checks.append(
                warn(
                    "data",
                    name,
                    "; ".join(wrong),
                    # each folder with the owner it needs (backups: PUID, data: the
                    # container's user); `install data` leaves folders that exist as they are
                    "Run "
                    + " and ".join(
                        f"`chown -R {u}:{g} {' '.join(paths)}`" for (u, g), paths in chown.items()
                    )
                    + " (as root)."
                    if chown
                    else f"Run it as root, or give this user access to {_q(site.data_root)}.",
                )
            )
        elif missing:
            checks.append(
                warn(
                    "data",
                    name,
                    "not created yet: " + ", ".join(missing),
                    "Run `homestack install data` (homestack up does it too).",
                )
            )
        else:
            checks.append(ok("data", name, f"owned by {uid}:{gid}"))
    return checks


def check_backups(site: Site, services: list[Service], now: datetime | None = None) -> list[Check]:
    """Age of each service's last successful backup (to `now`, this machine's time)."""
    wanted = [s for s in services if s.meta is None or not s.meta.stateless]
    if not wanted:
        return []
    now = now or datetime.now(UTC)
    checks: list[Check] = []
    for service in wanted:
        state = hooks.last_backup(site, service.id)
        name = f"backup {service.id}"
        run = f"Run `homestack backup {service.id}`."
        if not state.known:
            return [
                warn(
                    "backup",
                    "backups",
                    "the backup module is not installed",
                    "Reinstall homestack.",
                )
            ]
        if state.failed:
            checks.append(
                fail(
                    "backup",
                    name,
                    f"the latest backup failed: {state.error or 'see homestack backup ls'}",
                    f"Fix the error, then {run[0].lower()}{run[1:]}",
                )
            )
        elif state.last_success is None:
            checks.append(warn("backup", name, "never backed up", run))
        else:
            age = now - state.last_success
            when = f"{state.last_success.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
            text = f"last backup {clock.time_ago(state.last_success, now)} ({when})"
            if clock.is_future(state.last_success, now):  # never "fresh": a clock is wrong
                checks.append(
                    warn(
                        "backup",
                        name,
                        f"last backup is dated {when}, "
                        f"{clock.human_duration(-age.total_seconds())} in the future: "
                        "this machine's clock is behind now, or "
                        "was ahead when the backup ran, so its age is unknown",
                        "Check the clock (`timedatectl`: NTP on, the right time), then "
                        + run[0].lower()
                        + run[1:],
                    )
                )
            elif age > BACKUP_FAIL_AGE:
                checks.append(
                    fail(
                        "backup",
                        name,
                        text,
                        run + " Install the daily timer: `homestack backup --install-timer`.",
                    )
                )
            elif age > BACKUP_WARN_AGE:
                checks.append(warn("backup", name, text, run))
            else:
                checks.append(ok("backup", name, text))
    return checks


def check_gpu(site: Site, services: list[Service]) -> list[Check]:
    """The GPU verdict, and the GPU memory enabled services ask for against the card's."""
    gpu = hooks.optional_module("gpu")
    if gpu is None:
        return [warn("gpu", "gpu", "GPU detection is not installed", "Reinstall homestack.")]
    try:
        report = gpu.cached_report(site.root_env.get("GPU") or "auto")
    except HomestackError as exc:
        return [fail("gpu", "gpu", exc.message, exc.hint)]
    checks: list[Check] = []
    wanting = [s for s in services if s.meta and s.meta.gpu != "none"]
    required = [s.id for s in wanting if s.meta and s.meta.gpu == "required"]
    for device in report.devices:
        memory = f", {device.memory_mb} MiB" if device.memory_mb else ""
        driver = f", driver {device.driver}" if device.driver else ""
        fields = {
            key: value
            for key, value in device.to_data().items()
            if key in ("vendor", "model", "memory_mb", "driver", "uuid", "pci", "source")
        }
        fields["usable"] = device.vendor in report.usable_vendors
        checks.append(ok("gpu", f"gpu {device.vendor}", f"{device.model}{memory}{driver}", fields))
    for vendor in report.present_vendors:
        reason = report.reasons.get(vendor, "")
        if vendor in report.usable_vendors:
            checks.append(ok("gpu", f"gpu {vendor} in Docker", reason))
        else:
            make = fail if required else warn
            checks.append(make("gpu", f"gpu {vendor} in Docker", reason, report.fixes.get(vendor)))
    forced = report.setting if report.setting in report.usable_vendors else None
    if forced and forced not in report.present_vendors and wanting:
        checks.append(
            warn(
                "gpu",
                "gpu",
                f"GPU={forced} gives {', '.join(s.id for s in wanting)} the {forced} overlays, "
                f"but no {forced} GPU was detected here: they fail to start if there is none",
                f"Set GPU=auto in .env to use what is detected, or install the {forced} "
                "driver so it is found (`homestack install drivers`).",
            )
        )
    if not report.usable_vendors:
        if required:
            checks.append(
                fail(
                    "gpu",
                    "gpu",
                    f"{', '.join(required)} require a GPU; {report.why_not()}",
                    report.fix(),
                )
            )
        elif not report.present_vendors:
            detail = "no GPU; " + (
                f"{', '.join(s.id for s in wanting)} run on the CPU" if wanting else "none needed"
            )
            checks.append(ok("gpu", "gpu", detail))
    asked = sum(s.meta.gpu_memory_mb or 0 for s in wanting if s.meta)
    usable = [d for d in report.devices if d.vendor in report.usable_vendors]
    have = sum(d.memory_mb or 0 for d in usable)
    if asked and usable and have:
        detail = f"enabled services ask for {asked} MiB; the GPU(s) have {have} MiB"
        if asked > have:
            checks.append(
                warn(
                    "gpu",
                    "gpu memory",
                    detail,
                    "They cannot all be loaded at once: disable one, or pick smaller models "
                    "and lower their x-homestack gpu_memory_mb.",
                )
            )
        else:
            checks.append(ok("gpu", "gpu memory", detail))
    elif asked and not report.usable_vendors:
        checks.append(
            ok("gpu", "gpu memory", f"enabled services ask for {asked} MiB; they run on the CPU")
        )
    return checks


def check_clock(
    site: Site,
    services: list[Service],
    started: Iterable[tuple[str, str | None]],
    now: datetime | None = None,
) -> list[Check]:
    """This machine's clock against what it dated earlier: a container started, or a backup
    taken, later than now is the evidence of a clock set back (or one that ran ahead then).
    No reference time is needed; nothing is said when there is no such evidence.
    `started`: (service, the container's start time) of the running containers."""
    now = now or datetime.now(UTC)
    dated: list[tuple[str, datetime | str | None]] = [
        (f"container {service} started", when) for service, when in started
    ]
    for service in services:
        state = hooks.last_backup(site, service.id)
        if state.known and state.last_success is not None:
            dated.append((f"backup of {service.id}", state.last_success))
    ahead = clock.ahead_of(now, dated)
    if not ahead:
        return []
    shown = "; ".join(ahead[:3]) + (f"; and {len(ahead) - 3} more" if len(ahead) > 3 else "")
    return [
        warn(
            "clock",
            "clock",
            f"this machine's clock reads {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC, but "
            f"{len(ahead)} thing(s) it dated lie in the future: {shown}. The clock is behind "
            "(set back, or no time sync), or it ran ahead when those were dated; ages and "
            "backup times are not to be trusted until it is right",
            "Check the clock: `timedatectl` (NTP service active, the right time and zone); "
            "`sudo timedatectl set-ntp true` turns time sync on.",
        )
    ]
