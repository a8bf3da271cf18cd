"""The Python API: the operations the CLI and the dashboard call, each given a Context.

    from homestack.api import Context, up
    from homestack.catalog import Site

    ctx = Context.for_site(Site.load(path), sink=print)
    result = up(ctx, ["jellyfin"])

Every operation takes the Context first (site, backend, lock, clock, event sink), reports
progress as events (homestack.events) to `ctx.sink`, takes the site lock itself when it
changes containers or files (a `SiteBusy` error when another process holds it longer than
HOMESTACK_LOCK_TIMEOUT), never prints, and returns a typed result whose `to_data()` is the
CLI's `--json` output. docs/api.md lists them with their results and events.

Imports are lazy: importing this module costs no more than the context and the events.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Unpack

from .context import Context, SystemClock
from .events import Collected, Event, EventSink, ignore

if TYPE_CHECKING:
    from .backup.restic import Snapshot
    from .backup.results import BackupRun, RestoreResult
    from .catalog import Service
    from .deploy.data import DataReport
    from .deploy.down import DownResult, RestartResult
    from .deploy.networks import NetworksReport
    from .deploy.secrets import SecretsReport
    from .deploy.stopstart import StopStartResult
    from .deploy.up import UpOptions, UpResult
    from .observe.status import StatusResult
    from .swarm.ops import SwarmDown, SwarmRestart

__all__ = [
    "Collected",
    "Context",
    "Event",
    "EventSink",
    "SystemClock",
    "backup",
    "down",
    "ignore",
    "install_data",
    "install_networks",
    "install_secrets",
    "restart",
    "restore",
    "selected",
    "start",
    "status",
    "stop",
    "up",
]


def up(ctx: Context, names: list[str] | None = None, **options: Unpack[UpOptions]) -> UpResult:
    """Start the selected services (all enabled: None) and what they need, in dependency
    order, each once what it needs is healthy. Events: ServiceChanged per change of state.
    A failed service does not raise: `result.ok` is False (deploy.up.raise_for raises).
    `options`: deploy.up.UpOptions (stand_in, delays, rollback, timeout), as keywords.
    Updates a killed process left are undone first and each deploy goes to the update
    history (update.hooks), as with the CLI, unless `ctx.up_hooks` names other hooks.
    On a swarm site (DEPLOY_MODE=swarm) the services are deployed to the swarm (swarm.ops;
    `rollback` is refused there, and there is no update history)."""
    from .deploy.up import up as run

    if _swarm(ctx):
        from .swarm.ops import up as swarm_up

        return swarm_up(ctx.site, names, ctx=ctx, **options)
    if ctx.up_hooks is None:
        from .update import hooks

        ctx = dataclasses.replace(ctx, up_hooks=hooks)
    return run(ctx.site, names, ctx=ctx, **options)


def down(
    ctx: Context,
    names: list[str] | None = None,
    *,
    volumes: bool = False,
    dependents: bool = True,
) -> DownResult | SwarmDown:
    """Stop and remove containers (dependents first); volumes only with `volumes`. On a
    swarm site, the swarm services (and, when whole stacks go, their secrets and overlay
    networks); volumes are refused there, as DATA lives on the data node."""
    from .deploy.down import down as run

    if _swarm(ctx):
        from .errors import BadInput
        from .swarm.ops import down as swarm_down

        if volumes or not dependents:
            raise BadInput(
                "down on a swarm always takes the services that need what goes down with "
                "it, and never removes volumes; nothing was removed",
                "Run it without --volumes and --no-dependents (in Python: leave volumes and "
                "dependents as they are). Named volumes stay on each node: remove them "
                "there with `docker volume rm` (docs/swarm.md).",
            )
        return swarm_down(ctx.site, names, ctx=ctx)
    return run(ctx.site, names, volumes=volumes, dependents=dependents, ctx=ctx)


def restart(
    ctx: Context, names: list[str] | None = None, *, timeout: float = 300
) -> RestartResult | SwarmRestart:
    """Restart existing containers wave by wave, each wave once the one before is healthy.
    On a swarm site each service's tasks roll, in dependency order (ServiceChanged events)."""
    from .deploy.down import restart as run

    if _swarm(ctx):
        from .swarm.ops import restart as swarm_restart

        return swarm_restart(ctx.site, names, timeout=timeout, ctx=ctx)
    return run(ctx.site, names, timeout=timeout, ctx=ctx)


def stop(ctx: Context, names: list[str]) -> StopStartResult:
    """Stop containers (kept), dependents first. On a swarm site each service is scaled to
    0 (its spec kept) through the swarm's backend."""
    from .deploy.stopstart import stop as run

    return run(ctx.site, names, ctx=ctx)


def start(ctx: Context, names: list[str], *, timeout: float = 300) -> StopStartResult:
    """Start existing containers in dependency order, each wave once the one before is
    healthy. On a swarm site each stopped service is scaled back to 1."""
    from .deploy.stopstart import start as run

    return run(ctx.site, names, timeout=timeout, ctx=ctx)


def status(
    ctx: Context, names: list[str] | None = None, *, usage: bool = True, backups: bool = True
) -> StatusResult:
    """The chosen services' status (stacks or services; None: all), read through the
    context's backend at the context's clock: state, health, uptime, restarts, CPU and
    memory (`usage`), the last backup (`backups`). Sends one StatusSampled per call, so a
    live view (top, the dashboard) can take each sample from the sink. Takes no lock. On a
    swarm site the rows are the services' tasks, read through the swarm's backend."""
    from .events import StatusSampled
    from .observe.status import collect_status

    result = collect_status(
        ctx.site,
        names,
        backend=ctx.engine(),
        with_usage=usage,
        with_backups=backups,
        now=ctx.clock.now(),
    )
    ctx.sink(StatusSampled(result))
    return result


def selected(ctx: Context, names: list[str] | None) -> list[Service]:
    """The services `names` choose (stacks or services; None: every enabled service), each
    stack's files checked first (BadInput naming the file and the fix)."""
    site = ctx.site
    stacks, only = site.select(names)
    site.require_valid([s.id for s in stacks] if names else None)
    if only is not None:
        return only
    return [service for stack in stacks for service in stack.enabled]


def install_networks(
    ctx: Context, names: list[str] | None = None, *, dry_run: bool = False
) -> NetworksReport:
    """Create the seed's networks (those the chosen services need); a dry run locks nothing."""
    from .deploy.networks import ensure_networks

    services = selected(ctx, names) if names else None
    with _lock_unless(ctx, dry_run, "install networks"):
        return ensure_networks(ctx.site, services, dry_run=dry_run, backend=ctx.engine())


def install_secrets(
    ctx: Context, names: list[str] | None = None, *, dry_run: bool = False
) -> SecretsReport:
    """Generate the secrets the chosen services declare (never overwrites)."""
    from .deploy.secrets import ensure_secrets

    with _lock_unless(ctx, dry_run, "install secrets"):
        return ensure_secrets(ctx.site, selected(ctx, names), dry_run=dry_run)


def install_data(
    ctx: Context, names: list[str] | None = None, *, dry_run: bool = False
) -> DataReport:
    """Create the DATA folders of the chosen services, owned by PUID:PGID."""
    from .deploy.data import ensure_data

    with _lock_unless(ctx, dry_run, "install data"):
        return ensure_data(ctx.site, selected(ctx, names), dry_run=dry_run, backend=ctx.engine())


def backup(ctx: Context, services: list[Service], *, jobs: int = 1) -> BackupRun:
    """Back up each service (up to `jobs` at once). Events: BackupStarted, ServiceBackedUp."""
    from .backup.run import backup as run

    return run(ctx.site, services, jobs=jobs, ctx=ctx)


def restore(
    ctx: Context,
    service: Service,
    snapshot: str | None = None,
    *,
    keep_previous: bool = False,
    confirm: Callable[[Snapshot], bool] | None = None,
) -> RestoreResult:
    """Restore one service from a snapshot (the latest: None), its live data kept first."""
    from .backup.restore import restore as run

    return run(ctx.site, service, snapshot, keep_previous=keep_previous, confirm=confirm, ctx=ctx)


def _swarm(ctx: Context) -> bool:
    """The site deploys to a swarm (DEPLOY_MODE=swarm): up, down and restart go there."""
    from .swarm import is_swarm

    return is_swarm(ctx.site)


def _lock_unless(
    ctx: Context, dry_run: bool, action: str
) -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext() if dry_run else ctx.lock.hold(action)
