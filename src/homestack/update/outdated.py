"""`homestack outdated`: each enabled service's pinned image against its registry.

Registries are asked concurrently (one thread per image, each request with a timeout), so the
whole catalog takes about as long as the slowest registry; answers are cached (TTL + ETag).
An unreachable registry is a warning for its services, never a crash. A tag pushed again
(the registry's digest for the pinned tag differs from the locked one, or from the one this
machine pulled) is reported as re-pushed.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .. import serial
from ..errors import HomestackError
from ..serial import Serialised
from .registry import Cache, ImageRef, Registry, RegistryError, cache_path, ttl
from .tags import newer_versions

if TYPE_CHECKING:
    from ..catalog import Service, Site

MAX_THREADS = 64  # every question at once: a catalog of ~30 services asks ~60


@dataclass
class ServiceVersions(Serialised):
    service: str
    stack: str
    image: str
    tag: str | None = None
    patch: str | None = None
    minor: str | None = None
    major: str | None = None
    digest: str | None = None  # the registry's digest of the pinned tag now
    known_digest: str | None = None  # the locked digest (else the local image's)
    repushed: bool = False
    manual_major: bool = False
    warning: str | None = None

    DATA_EXTRA = ("outdated",)

    @property
    def outdated(self) -> bool:
        return bool(self.patch or self.minor or self.major or self.repushed)


@dataclass
class OutdatedResult(Serialised):
    services: list[ServiceVersions]
    elapsed: float = field(metadata=serial.entry(ndigits=3))
    requests: int = 0
    warnings: list[str] = field(default_factory=list)

    DATA_EXTRA = ("summary",)
    DATA_ORDER = ("summary", "elapsed", "requests", "services")

    @property
    def outdated(self) -> list[ServiceVersions]:
        return [s for s in self.services if s.outdated]

    def summary(self) -> str:
        n = len(self.outdated)
        return (
            f"{n} of {len(self.services)} services can be updated"
            if n
            else f"all {len(self.services)} services are on their newest tag"
        ) + (f"; {len(self.warnings)} could not be checked" if self.warnings else "")


def registry_for(site: Site, *, timeout: float | None = None) -> Registry:
    cache = Cache(cache_path(site.data_root), ttl())
    return Registry(cache, timeout=timeout or 10.0)


def outdated(
    site: Site, names: list[str] | None = None, *, registry: Registry | None = None
) -> OutdatedResult:
    """Every selected enabled service's versions. Every question (the tag list of each
    repository, the digest of each pinned tag, each local image's digests) is asked at once,
    each once: the whole catalog takes about one round trip of the slowest registry."""
    from ..deploy.standin import image_of
    from .lockfile import read_lock

    started = time.monotonic()
    services = _selected(site, names)
    registry = registry or registry_for(site)
    lock = read_lock(site)
    rows: list[ServiceVersions] = []
    refs: dict[str, ImageRef] = {}
    envs = {k: site.stack_env(site.stacks[k]) for k in {s.stack for s in services}}
    for service in services:
        image = image_of(service, envs[service.stack])
        row = ServiceVersions(service.id, service.stack, image)
        row.manual_major = bool(service.meta and service.meta.update.major == "manual")
        entry = lock.get(service.id)
        row.known_digest = entry.digest if entry is not None and entry.image == image else None
        rows.append(row)
        try:
            refs[service.id] = ImageRef.parse(image)
            row.tag = refs[service.id].tag or "latest"
        except HomestackError as error:
            row.warning = f"{image!r}: {error.message}"
    repos = {ref.repository: ref for ref in refs.values()}
    pinned = {(ref.repository, ref.tag or "latest"): ref for ref in refs.values()}
    unlocked = {r.image for r in rows if r.known_digest is None and r.service in refs}
    workers = max(1, min(MAX_THREADS, len(repos) + len(pinned) + len(unlocked)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        tag_lists = {name: pool.submit(registry.tags, ref) for name, ref in repos.items()}
        digests = {key: pool.submit(registry.digest, ref, key[1]) for key, ref in pinned.items()}
        local = pool.submit(_local_digests) if unlocked else None
        for row in rows:
            ref = refs.get(row.service)
            if ref is not None:
                _fill(row, ref, tag_lists[ref.repository], digests, local)
    registry.cache.save()
    warnings = [f"{r.service}: {r.warning}" for r in rows if r.warning]
    return OutdatedResult(rows, time.monotonic() - started, registry.requests, warnings)


def _fill(
    row: ServiceVersions,
    ref: ImageRef,
    tags: Future[list[str]],
    digests: dict[tuple[str, str], Future[str]],
    local: Future[dict[str, list[str]]] | None,
) -> None:
    tag = row.tag or "latest"
    try:
        newer = newer_versions(tag, tags.result())
        row.digest = digests[(ref.repository, tag)].result()
    except RegistryError as error:
        row.warning = error.message
        return
    if newer is None:
        row.warning = f"tag {tag!r} is not a version: nothing to compare"
    else:
        row.patch, row.minor, row.major = newer.patch, newer.minor, newer.major
    if row.known_digest is None and local is not None:
        here = local.result().get(ref.with_tag(tag), [])
        mine = [d for d in here if d.startswith(ref.repository + "@")]
        row.known_digest = mine[0].split("@", 1)[1] if mine else None
    row.repushed = bool(row.known_digest and row.digest and row.known_digest != row.digest)


def _local_digests() -> dict[str, list[str]]:
    """Every local image's digests by `repo:tag`; none when no engine answers (then a re-push
    is judged by the lock alone)."""
    from ..engine.backend import default_backend

    try:
        return default_backend().image_digests()
    except HomestackError:
        return {}


def _selected(site: Site, names: list[str] | None) -> list[Service]:
    if not names:
        return [s for s in site.services(enabled_only=True) if s.compose.get("image")]
    out: list[Service] = []
    for name in names:
        if name in site.stacks:
            out += [s for s in site.stacks[name].enabled if s.compose.get("image")]
        else:
            out.append(site.service(name))
    return list({s.id: s for s in out}.values())


@dataclass
class LockResult:
    locked: dict[str, str]  # service → image@digest
    unchanged: list[str]
    warnings: list[str]

    def to_data(self) -> dict[str, Any]:
        return asdict(self)


def refresh_lock(
    site: Site, names: list[str] | None = None, *, registry: Registry | None = None
) -> LockResult:
    """`homestack lock`: each selected service's pinned image resolved to its digest now."""
    from .lockfile import Locked, pinned_image, read_lock, write_lock

    services = _selected(site, names)
    registry = registry or registry_for(site)

    def resolve(service: Service) -> tuple[str, str | None, str | None]:
        image = pinned_image(site, service)
        try:
            ref = ImageRef.parse(image)
            return image, registry.digest(ref, ref.tag or "latest", use_cache=False), None
        except RegistryError as error:
            return image, None, error.message

    with ThreadPoolExecutor(max_workers=max(1, min(MAX_THREADS, len(services)))) as pool:
        found = dict(zip([s.id for s in services], pool.map(resolve, services), strict=True))
    entries = read_lock(site)
    result = LockResult({}, [], [])
    for name, (image, digest, error) in found.items():
        if digest is None:
            result.warnings.append(f"{name}: {error}")
            continue
        old = entries.get(name)
        if old is not None and old.image == image and old.digest == digest:
            result.unchanged.append(name)
        else:
            result.locked[name] = f"{image}@{digest}"
        entries[name] = Locked(image, digest)
    known = {s.id for s in site.services()}
    kept = {k: v for k, v in entries.items() if k in known}
    if result.locked or kept != read_lock(site):  # nothing new: the file is left as it was
        write_lock(site, kept)
    return result
