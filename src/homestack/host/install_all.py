"""`homestack install all`: the seed's sequence, non-interactive and idempotent.

settings (.env from .env.example) → drivers (checked; installed only with --yes) → Docker →
tools (restic, a static busybox) → networks → secrets → DATA → up. Each part prints what it
changes (or would, with --dry-run) and says when there was nothing to change, as Progress
events to the caller's sink; a second run changes nothing and says so. A real run holds the
site lock for the whole sequence.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import settings
from ..errors import BadInput, OperationFailed
from ..events import EventSink
from ..serial import Serialised, entry
from .docker_install import install_docker
from .drivers import install_drivers
from .envfile import ensure_env
from .probe import HostProbe
from .steps import Echo, reporter
from .tools_install import install_tools

if TYPE_CHECKING:
    from ..deploy.up import UpResult


@dataclass(frozen=True)
class PartResult(Serialised):
    name: str  # settings, drivers, docker, networks, secrets, data, up
    changed: bool
    summary: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class InstallAllResult(Serialised):
    DATA_EXTRA = ("changed", "ok", "summary")
    DATA_ORDER = ("stack", "dry_run", "changed", "ok", "summary", "parts")

    stack: str | None
    dry_run: bool
    parts: list[PartResult] = field(default_factory=list)
    #: the UpResult, when up ran (its own data is in the up part)
    up: UpResult | None = field(default=None, metadata=entry(omit=True))

    @property
    def changed(self) -> bool:
        return any(part.changed for part in self.parts)

    @property
    def ok(self) -> bool:
        return self.up is None or bool(self.up.ok)

    def summary(self) -> str:
        if self.dry_run:
            return "dry run: nothing was changed"
        if not self.changed:
            return (
                "nothing changed: settings, drivers, Docker, networks, secrets, DATA, tools "
                "and every service were already in place"
            )
        changed = [part.name for part in self.parts if part.changed]
        return "changed: " + ", ".join(changed)


def _names(changes: list[str], verb: str, dry_run: bool) -> str:
    if not changes:
        return "nothing to change"
    shown = ", ".join(changes[:6]) + (f" and {len(changes) - 6} more" if len(changes) > 6 else "")
    return f"{'would ' if dry_run else ''}{verb} {shown}"


def secrets_line(created: list[str], fixed: list[str], dry_run: bool) -> str:
    """New secrets are written; existing ones only get their owner or mode fixed."""
    if not fixed:
        return _names(created, "write secret", dry_run)
    fixes = _names(fixed, "fix the owner or mode of", dry_run)
    if not created:
        return fixes
    return f"{_names(created, 'write secret', dry_run)}; {fixes.removeprefix('would ')}"


def install_all(
    root: Path,
    sink: EventSink,
    *,
    probe: HostProbe | None = None,
    stack: str | None = None,
    stand_in: str | None = None,
    dry_run: bool = False,
    yes: bool = False,
    command: Sequence[str] | None = None,
) -> InstallAllResult:
    """Run every part in order, each part's lines as Progress events to `sink` (up's states as
    ServiceChanged); raises at the first part that fails (the parts before it stay done,
    and a rerun continues from there). `command`: the CLI's words (Context.command)."""
    if dry_run:
        return _install_all(root, sink, probe, stack, stand_in, dry_run, yes, command)
    from ..sitelock import site_lock

    with site_lock(root, "install all", command=command, waiting=sink):
        return _install_all(root, sink, probe, stack, stand_in, dry_run, yes, command)


def _install_all(
    root: Path,
    sink: EventSink,
    probe: HostProbe | None,
    stack: str | None,
    stand_in: str | None,
    dry_run: bool,
    yes: bool,
    command: Sequence[str] | None,
) -> InstallAllResult:
    echo = reporter(sink, "install all")
    probe = probe or HostProbe()
    result = InstallAllResult(stack, dry_run)
    if stack is not None:
        _known_stack(root, stack)

    env = ensure_env(root, probe, dry_run=dry_run)
    if env.created:
        filled = ", ".join(f"{k}={v}" for k, v in env.filled.items())
        summary = f"{'would create' if dry_run else 'created'} .env from .env.example ({filled})"
    else:
        summary = ".env exists: nothing to change"
    echo(f"settings: {summary}")
    for note in env.notes:
        echo(f"  note: {note}")
    result.parts.append(PartResult("settings", env.changed, summary, env.to_data()))
    services = check_site(root, stack)
    door = _door(root, echo)
    result.parts.append(PartResult("door", False, door, {"proposal": door}))
    if probe.euid != 0:
        _without_root(root, services, probe.euid, echo, refuse=not dry_run and stand_in is None)

    drivers = install_drivers(probe, sink, yes=yes, dry_run=dry_run)
    result.parts.append(
        PartResult("drivers", drivers.changed, drivers.verified or drivers.plan.summary,
                   drivers.to_data())
    )  # fmt: skip

    docker = install_docker(probe, sink, dry_run=dry_run)
    result.parts.append(
        PartResult("docker", docker.changed, docker.verified or docker.plan.summary,
                   docker.to_data())
    )  # fmt: skip
    tools = install_tools(probe, sink, dry_run=dry_run)
    result.parts.append(
        PartResult("tools", tools.changed, tools.verified or tools.plan.summary, tools.to_data())
    )
    working = docker.plan.facts.get("engine") and docker.plan.facts.get("compose")
    if dry_run and not working:
        echo("networks, secrets, data, up: would follow once Docker works")
        return result

    _deploy(root, echo, result, stack=stack, stand_in=stand_in, dry_run=dry_run, sink=sink,
            command=command)  # fmt: skip
    if stand_in is None and stack is None and result.ok:
        _dashboard(root, echo, result, dry_run=dry_run)
    echo(result.summary())
    return result


def _door(root: Path, echo: Echo) -> str:
    """The LAN address the proxy will publish on (from .env, or .env.example on a dry run
    before .env exists)."""
    from ..lan import door_proposal

    layer = settings.layer_file(root)
    env_file = settings.read_env(layer) if layer else None
    env = settings.merge_layers([env_file], os.environ)
    env.update({k: v for k, v in os.environ.items() if k == "LAN_ADDRESS"})  # env wins
    line = door_proposal(env, layer)
    echo(f"door: {line}")
    return line


def _known_stack(root: Path, stack: str) -> None:
    """`--stack` names a stack (`media` or `media-stack`): a typo or a service name is refused
    before .env is written (it was taken as a service, so `--stack ollama` went on)."""
    from ..catalog import Site

    Site.load(root).stack(stack)


def check_site(root: Path, stack: str | None) -> list[Any]:
    """Refuse bad input before anything on the host changes: a broken env layer, a PUID,
    PGID or GPU value homestack cannot use, an unknown --stack (later parts found these only
    after drivers, Docker, networks or secrets had been changed)."""
    from .. import settings
    from ..catalog import Site
    from ..deploy.data import owner_ids
    from ..deploy.projects import select
    from ..gpu import SETTINGS

    site = Site.load(root)
    selection = select(site, [stack] if stack else None, overlays=False)  # env, stack name
    owner_ids(site)
    gpu = site.root_env.get("GPU", "auto")
    if (gpu.strip().lower() or "auto") not in SETTINGS:
        where = "the environment" if "GPU" in os.environ else ".env"
        raise BadInput(
            f"GPU={gpu} is not one of {', '.join(SETTINGS)}",
            f"Set GPU in {where} to auto (detect), nvidia, amd, intel or cpu.",
            file=root / ".env" if "GPU" not in os.environ else None,
        )
    settings.require_root_timezone(root, site.root_env)  # TZ=garbage: UTC without a word
    return list(selection.services)


def foreign_owners(root: Path, services: list[Any], uid: int) -> list[str]:
    """Services whose secrets or DATA folders must belong to another user than `uid`
    (the user each container runs as): only root can give them that owner."""
    from ..catalog import Site
    from ..deploy.data import service_owner
    from ..deploy.secrets import wanted_secrets

    site = Site.load(root)
    owners: dict[str, int] = {}
    for wanted in wanted_secrets(site, services):
        if wanted.uid is not None and wanted.uid != uid:
            owners[wanted.service] = wanted.uid
    for service in services:
        owner = service_owner(site, service)[0]
        if owner != uid:
            owners[service.id] = owner
    return [f"{name} (uid {owner})" for name, owner in sorted(owners.items())]


def _without_root(root: Path, services: list[Any], uid: int, echo: Echo, *, refuse: bool) -> None:
    foreign = foreign_owners(root, services, uid)
    if not foreign:
        return
    shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
    what = f"the secrets and DATA folders of {shown} must belong to the user each runs as"
    if refuse:
        raise OperationFailed(
            f"not root: {what}, and only root can give them that owner",
            "Run it with sudo (`sudo ./install-stack.sh`); --dry-run or --stand-in work "
            "without root.",
        )
    echo(f"  note: not root: {what}; a real install needs sudo")


def _deploy(
    root: Path,
    echo: Echo,
    result: InstallAllResult,
    *,
    stack: str | None,
    stand_in: str | None,
    dry_run: bool,
    sink: EventSink,
    command: Sequence[str] | None,
) -> None:
    from ..catalog import Site
    from ..context import Context
    from ..deploy.data import ensure_data
    from ..deploy.networks import ensure_networks
    from ..deploy.projects import select
    from ..deploy.secrets import ensure_secrets

    site = Site.load(root)
    names = [stack] if stack else None
    selection = select(site, names)
    services = selection.services

    networks = ensure_networks(site, services, dry_run=dry_run)  # a swarm's: up makes them
    line = _names(list(networks.created), "create network", dry_run)
    echo(f"networks: {line}")
    for note in networks.notes:
        echo(f"  note: {note}")
    result.parts.append(PartResult("networks", networks.changed, line, networks.to_data()))

    secrets = ensure_secrets(site, services, dry_run=dry_run)
    line = secrets_line(secrets.created, secrets.fixed, dry_run)
    echo(f"secrets: {line}")
    result.parts.append(PartResult("secrets", secrets.changed, line, secrets.to_data()))

    data = ensure_data(site, services, dry_run=dry_run)
    line = _names(list(data.created), "create", dry_run)
    echo(f"data: {line}")
    for note in data.notes:
        echo(f"  note: {note}")
    result.parts.append(PartResult("data", data.changed, line, data.to_data()))

    ids = [s.id for s in services]
    if dry_run:
        line = f"would bring up {len(ids)} services: {', '.join(ids) or 'none enabled'}"
        echo(f"up: {line}")
        result.parts.append(PartResult("up", False, line, {"services": ids}))
        return
    from ..api import up
    from ..update import hooks

    echo(f"up: {len(ids)} services" + (" (stand-in image)" if stand_in is not None else ""))
    # api.up: on a swarm site (DEPLOY_MODE=swarm) the services are deployed to the swarm
    ctx = Context.for_site(site, sink=sink, command=command, up_hooks=hooks)
    outcome = up(ctx, names, stand_in=stand_in)
    result.up = outcome
    touched = [run.service for run in outcome.touched]
    line = outcome.summary()
    echo(f"up: {line}")
    result.parts.append(
        PartResult("up", bool(touched), line, {"touched": touched, "ok": outcome.ok})
    )


def _dashboard(root: Path, echo: Echo, result: InstallAllResult, *, dry_run: bool) -> None:
    """`install dashboard` (a systemd unit for `homestack serve`); a rehearsal (--stand-in)
    or a single stack leaves the host's boot services alone."""
    from ..catalog import Site
    from ..web.unit import install_dashboard

    done = install_dashboard(Site.load(root), dry_run=dry_run)
    if done.skipped or done.up_to_date:
        line = done.skipped or "unit in place: nothing to change"
    else:
        line = ("would write " if dry_run else "wrote ") + ", ".join(done.files)
    echo(f"dashboard: {line}")
    result.parts.append(PartResult("dashboard", done.changed, line, done.to_data()))
