"""Stop and start existing containers, keeping them (the dashboard's stop / start buttons).

`down` removes containers and `up` may recreate them; these only stop a container (dependents
first) or start the one that is there (in dependency order, each wave once the one before is
healthy), so a stand-in rehearsal or a pinned container stays exactly what it was. Both hold
the site lock, as `up` and `down` do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog import Site
from ..context import Context, context_for
from ..serial import Serialised, entry
from .down import require_containers, run_in_waves
from .projects import select


@dataclass
class StopStartResult(Serialised):
    action: str  # stop, start
    services: list[str]
    elapsed: float = field(metadata=entry(ndigits=2))


def stop(site: Site, names: list[str], *, ctx: Context | None = None) -> StopStartResult:
    """Stop the containers of these services (kept, not removed), in reverse dependency order."""
    ctx = context_for(site, ctx)
    with ctx.lock.hold("stop " + " ".join(names)):
        started = ctx.clock.monotonic()
        selection = select(site, names, with_dependencies=False, overlays=False)
        done = run_in_waves(site, selection, "stop", ctx=ctx)
        return StopStartResult("stop", done, ctx.clock.monotonic() - started)


def start(
    site: Site, names: list[str], *, timeout: float = 300, ctx: Context | None = None
) -> StopStartResult:
    """Start the existing containers of these services, each wave once the one before it is
    healthy; a service without a container is refused (`up` creates one)."""
    ctx = context_for(site, ctx)
    with ctx.lock.hold("start " + " ".join(names)):
        started = ctx.clock.monotonic()
        selection = select(site, names, with_dependencies=False, overlays=False)
        require_containers(site, selection, "start", "Create", backend=ctx.engine())
        done = run_in_waves(site, selection, "start", timeout=timeout, ctx=ctx)
        return StopStartResult("start", done, ctx.clock.monotonic() - started)
