"""Docker Swarm as a second way to deploy the same catalog (`DEPLOY_MODE=swarm` in `.env`).

`translate` turns each stack (as Compose merges it) into a swarm stack file and names every
key it cannot carry over; `placement` decides where each service may run (GPU and DATA
node labels); `ops` runs `up`/`down`/`status` on a swarm with homestack's ordering and
health gating. The only code that talks to the swarm is `homestack.engine.swarm`.
"""

from __future__ import annotations

from ..catalog import Site
from ..errors import BadInput

MODES = ("compose", "swarm")
LABEL_PREFIX = "homestack."
#: how often a swarm operation looks again at its tasks
POLL_S = 0.5


def deploy_mode(site: Site) -> str:
    """`compose` (the default) or `swarm`, from DEPLOY_MODE in the root .env."""
    mode = (site.root_env.get("DEPLOY_MODE") or "compose").strip().lower()
    if mode not in MODES:
        raise BadInput(
            f"DEPLOY_MODE={mode!r} is neither compose nor swarm",
            "Set DEPLOY_MODE=compose (one machine, the default) or DEPLOY_MODE=swarm in .env.",
            file=site.root / ".env",
        )
    return mode


def is_swarm(site: Site) -> bool:
    return deploy_mode(site) == "swarm"


def stack_name(site: Site, stack_id: str) -> str:
    """The swarm stack of one homestack stack (with the site prefix)."""
    return f"{site.prefix}{stack_id}"
