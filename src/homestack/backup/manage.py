"""`homestack backups`, `verify` and `prune`: look at, check and thin out repositories."""

from __future__ import annotations

import re
from pathlib import Path

from ..backup_record import state_dir
from ..catalog import Service, Site
from ..errors import BadInput, HomestackError
from . import config
from .lock import ServiceLock
from .restic import Restic, ResticFailed, Retention, restic_binary
from .results import CheckResult, Listing, ManyResults, PruneResult, ServiceSnapshots, SnapshotInfo


def _said(error: HomestackError) -> str:
    """An error for a row of a table: its message and, when it has one, its fix."""
    return f"{error.message} (fix: {error.hint})" if error.hint else error.message


def _has_repository(restic: Restic) -> bool:
    if config.is_local(restic.repository):
        return (Path(restic.repository) / "config").is_file()
    return True


def list_backups(site: Site, services: list[Service], *, sizes: bool = True) -> Listing:
    restic_binary()
    found: list[ServiceSnapshots] = []
    for service in services:
        restic = config.restic_for(site, service.id)
        if not _has_repository(restic):
            found.append(ServiceSnapshots(service.id, restic.repository, []))
            continue
        try:
            snapshots = restic.snapshots(tag=config.service_tag(service.id))
            infos = [
                SnapshotInfo(
                    s.id,
                    s.time,
                    restic.stats(s.id).total_size if sizes else None,
                    s.tags,
                    s.paths,
                )
                for s in snapshots
            ]
            found.append(ServiceSnapshots(service.id, restic.repository, infos))
        except HomestackError as error:
            found.append(ServiceSnapshots(service.id, restic.repository, [], _said(error)))
    return Listing(found)


_SUBSET = re.compile(r"^(?:(\d+(?:\.\d+)?)%|(\d+)/(\d+)|\d+[kKmMgGtT])$")


def check_subset(subset: str, read_data: bool) -> None:
    """Refuse a --read-data-subset restic would refuse, before any repository is opened."""
    if read_data:
        raise BadInput(
            "--read-data and --read-data-subset cannot be used together",
            "Pick one: --read-data reads every byte, --read-data-subset a part.",
        )
    match = _SUBSET.match(subset)
    valid = match is not None and (
        (match[1] is None or 0 < float(match[1]) <= 100)
        and (match[2] is None or 0 < int(match[2]) <= int(match[3]))
        and subset.rstrip("kKmMgGtT") != "0"
    )
    if not valid:
        raise BadInput(
            f"--read-data-subset {subset!r} is not a part restic can read",
            "Use a percentage (10%, above 0 and at most 100), n/t (1/5: the first of five "
            "parts; 1 <= n <= t) or a size (500M, 2G).",
        )


def verify(
    site: Site, services: list[Service], *, read_data: bool = False, subset: str | None = None
) -> ManyResults[CheckResult]:
    if subset is not None:
        check_subset(subset, read_data)
    restic_binary()
    mode = "read-data" if read_data else (f"read-data-subset={subset}" if subset else "structure")
    results: list[CheckResult] = []
    for service in services:
        restic = config.restic_for(site, service.id)
        if not _has_repository(restic):
            results.append(CheckResult(service.id, True, mode, "no backups yet", checked=False))
            continue
        try:
            with ServiceLock(state_dir(site), service.id, "verify"):
                restic.unlock()
                output = restic.check(read_data=read_data, subset=subset)
            results.append(CheckResult(service.id, True, mode, output.strip()[-2000:]))
        except ResticFailed as error:
            results.append(
                CheckResult(service.id, False, mode, error.stderr.strip()[-4000:], _said(error))
            )
        except HomestackError as error:
            results.append(CheckResult(service.id, False, mode, error=_said(error)))
    from ..notify.events import verify_outcome

    verify_outcome(site, results)  # a failed check, on the site's channel; never raises
    return ManyResults("checks", results)


def prune(
    site: Site, services: list[Service], *, dry_run: bool = False
) -> ManyResults[PruneResult]:
    """Apply the retention from settings; never deletes when in doubt."""
    restic_binary()
    policy = config.retention(site)
    results: list[PruneResult] = []
    for service in services:
        restic = config.restic_for(site, service.id)
        if policy.keeps_nothing_specified:
            results.append(
                PruneResult(service.id, True, note="retention is 0: nothing deleted (keep all)")
            )
            continue
        if not _has_repository(restic):
            results.append(PruneResult(service.id, True, note="no backups yet"))
            continue
        try:
            with ServiceLock(state_dir(site), service.id, "prune"):
                restic.unlock()
                results.append(_prune_one(restic, service.id, policy, dry_run))
        except HomestackError as error:
            results.append(
                PruneResult(service.id, False, error=f"{_said(error)} (nothing deleted)")
            )
    return ManyResults("prunes", results)


def _prune_one(restic: Restic, service: str, policy: Retention, dry_run: bool) -> PruneResult:
    # only this service's snapshots, in one group: in a repository several services share,
    # one's KEEP_LAST never deletes another's snapshots
    tag = config.service_tag(service)
    listed = restic.snapshots(tag=tag)  # raises when the listing fails: nothing is deleted then
    if not listed:
        return PruneResult(service, True, note="no snapshots")
    keep, remove = restic.forget_plan(policy, tag=tag)
    listed_ids = {s.id for s in listed}
    keep_ids = [s.id for s in keep if s.id in listed_ids]
    remove_ids = [s.id for s in remove if s.id in listed_ids]
    if not keep_ids:
        return PruneResult(
            service,
            False,
            removed=[],
            error="the retention would leave no snapshot: nothing deleted",
        )
    if set(remove_ids) & set(keep_ids) or len(keep_ids) + len(remove_ids) != len(listed_ids):
        return PruneResult(
            service, False, error="restic's plan does not add up with the listing: nothing deleted"
        )
    if remove_ids and not dry_run:
        restic.forget(remove_ids)
    return PruneResult(
        service,
        True,
        kept=keep_ids,
        removed=remove_ids,
        note="dry run: nothing deleted" if dry_run else None,
    )
