"""Resolve once, then act: what a command's services are, read and interpolated one time.

`up`, `plan`, `down` and `backup` walk their services through several phases (the stand-in
override, DATA folders and volumes, secrets, images, the plan's list of what would be made).
Each phase used to derive what it needed for itself: the stack's env layers merged again, the
service's `user:`, ports, image and volume interpolated again. Here a selection is resolved
one time: each stack's env (the layers as Compose interpolates them) once, what the phases
read of each service (image, user, ports, expose, its data volume) interpolated once
(`resolve_service`), and every phase reads the result. A settings layer that cannot be read
is kept as the error of its stack's services, so a command that reports per service (backup)
still fails only those.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import settings
from .catalog import Service, Site, container_ids
from .errors import BadInput
from .ports import PortBinding, parse_ports

#: what the phases read of a service's compose mapping: the image, the user it runs as, its
#: published and exposed ports (the rest is Compose's to interpolate, as it runs it)
RESOLVED_KEYS = ("image", "user", "ports", "expose")


@dataclass(frozen=True)
class ResolvedService:
    """One service as Compose will see it (before overlays are merged): its stack's env, and
    the keys of its compose mapping the phases read (interpolated), with its data volume."""

    service: Service
    env: Mapping[str, str]
    #: the keys of the service's mapping that the phases read (RESOLVED_KEYS), interpolated
    compose: Mapping[str, Any]
    #: (engine name, interpolated definition) of its `{stack}_{service}_data` volume
    volume: tuple[str, dict[str, Any]] | None
    overlays: tuple[str, ...] = ()
    needs: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        return self.service.id

    @property
    def image(self) -> str:
        raw = self.compose.get("image")
        return str(raw) if raw else ""

    @property
    def user(self) -> tuple[int, int] | None:
        """The uid:gid its container runs as, when the files say (BadInput for an id chown
        cannot use): x-homestack uid/gid, else a numeric `user:` after interpolation."""
        user = self.compose.get("user")
        return container_ids(self.service, None if user is None else str(user))

    @property
    def ports(self) -> list[PortBinding]:
        bindings, _ = parse_ports(self.compose.get("ports"))
        return bindings

    @property
    def expose(self) -> list[Any]:
        return list(self.compose.get("expose") or [])


@dataclass
class Resolved:
    """The resolved services of one command, by id; `of` raises what could not be read."""

    site: Site
    services: dict[str, ResolvedService] = field(default_factory=dict)
    #: stack id → the error reading its settings layers (its services cannot be resolved)
    errors: dict[str, BadInput] = field(default_factory=dict)

    def of(self, service: Service) -> ResolvedService:
        if service.stack in self.errors:
            raise self.errors[service.stack]
        found = self.services.get(service.id)
        if found is None or found.service is not service:  # not part of this command
            found = resolve(self.site, [service]).of(service)
            self.services[service.id] = found
        return found

    def raise_first(self) -> None:
        """BadInput for the first stack whose settings could not be read."""
        for error in self.errors.values():
            raise error


def resolve_service(
    site: Site,
    service: Service,
    env: Mapping[str, str],
    overlays: Sequence[str] = (),
    needs: Collection[str] = (),
) -> ResolvedService:
    """The one place a service's files are interpolated with its env (what the phases read
    of its compose mapping, and its data volume's definition, in one pass)."""
    compose = service.compose
    data = service.doc.data if service.doc else None
    volumes = data.get("volumes") if isinstance(data, dict) else None
    definition = volumes.get(service.volume_name) if isinstance(volumes, dict) else None
    declared = isinstance(volumes, dict) and service.volume_name in volumes
    resolved = settings.interpolate_tree(
        {
            "compose": {key: compose[key] for key in RESOLVED_KEYS if key in compose},
            "volume": definition if isinstance(definition, dict) else {},
        },
        {"HOMESTACK_PREFIX": site.prefix, **env},
    )
    volume = None
    if declared:
        name = resolved["volume"].get("name") or (
            f"{site.project_name(site.stacks[service.stack])}_{service.volume_name}"
        )
        volume = (str(name), resolved["volume"])
    return ResolvedService(
        service, env, resolved["compose"], volume, tuple(overlays), frozenset(needs)
    )


def resolve(
    site: Site,
    services: Iterable[Service],
    *,
    overlays: Mapping[str, Sequence[str]] | None = None,
    needs: Mapping[str, Collection[str]] | None = None,
) -> Resolved:
    """Each stack's env once, each service once (a stack whose layers cannot be read keeps
    its error for its services)."""
    result = Resolved(site)
    envs: dict[str, dict[str, str]] = {}
    for service in services:
        if service.stack in result.errors or service.id in result.services:
            continue
        if service.stack not in envs:
            try:
                envs[service.stack] = site.stack_env(site.stacks[service.stack])
            except BadInput as exc:
                result.errors[service.stack] = exc
                continue
        result.services[service.id] = resolve_service(
            site,
            service,
            envs[service.stack],
            (overlays or {}).get(service.id, ()),
            (needs or {}).get(service.id, ()),
        )
    return result
