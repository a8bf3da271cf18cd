"""`homestack.lock`: the digest each service's pinned image resolved to, meant to be committed.

With it, `up` and `pull` on a second machine run the same bytes even when a tag was pushed
again: before Compose creates a container, the local `repo:tag` is made to point at the
locked digest (pulled by digest when needed). JSON, sorted, one service per entry, so a diff
of it reads well:

    {"version": 1, "services": {"jellyfin": {"image": "jellyfin/jellyfin:10.10.7",
                                             "digest": "sha256:…"}}}
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BadInput, CommandFailed, OperationFailed

if TYPE_CHECKING:
    from ..catalog import Service, Site

LOCK_FILE = "homestack.lock"


@dataclass(frozen=True)
class Locked:
    image: str
    digest: str


def lock_path(site: Site) -> Path:
    return site.root / LOCK_FILE


def read_lock(site: Site) -> dict[str, Locked]:
    path = lock_path(site)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
        services = data["services"]
        return {
            str(name): Locked(str(entry["image"]), str(entry["digest"]))
            for name, entry in services.items()
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BadInput(
            f"{path} is not a homestack lockfile",
            "Fix it from git (`git checkout homestack.lock`), or delete it and run "
            "`homestack lock` to write it again.",
            file=path,
        ) from None


def write_lock(site: Site, entries: Mapping[str, Locked]) -> None:
    from ..fsutil import write_atomic

    data: dict[str, Any] = {
        "version": 1,
        "services": {
            name: {"image": e.image, "digest": e.digest} for name, e in sorted(entries.items())
        },
    }
    path = lock_path(site)
    # a file of the repository: it stays its owner's (the site folder's) under sudo
    info = path.stat() if path.exists() else site.root.stat()
    owner = (info.st_uid, info.st_gid) if os.geteuid() == 0 else None
    write_atomic(path, json.dumps(data, indent=2) + "\n", mode=0o644, owner=owner)


def set_entry(site: Site, service: str, entry: Locked | None) -> None:
    entries = read_lock(site)
    if entry is None:
        entries.pop(service, None)
    else:
        entries[service] = entry
    write_lock(site, entries)


def pinned_image(site: Site, service: Service) -> str:
    """The image the service file pins, with its variables resolved."""
    from ..deploy.standin import image_of

    return image_of(service, site.stack_env(site.stacks[service.stack]))


def stale(site: Site) -> list[tuple[str, str]]:
    """(service, why) for each lock entry out of step with the files (validate's check)."""
    entries = read_lock(site)
    out: list[tuple[str, str]] = []
    known = {s.id: s for s in site.services()}
    for name, entry in sorted(entries.items()):
        service = known.get(name)
        if service is None:
            out.append((name, "is locked but no service file has it"))
            continue
        image = pinned_image(site, service)
        if image != entry.image:
            out.append((name, f"is locked at {entry.image} but its file pins {image}"))
    return out


# ---- the local engine: make repo:tag the locked bytes ---------------------------------------
def local_digests(image: str) -> list[str]:
    """`repo@sha256:…` names of the local image (empty when it is not here)."""
    from ..engine.backend import default_backend

    return default_backend().repo_digests(image)


def has_digest(image: str, digest: str) -> bool:
    return any(d.endswith("@" + digest) for d in local_digests(image))


def pull_pinned(image: str, digest: str) -> bool:
    """Make the local `image` (repo:tag) the bytes of `digest`: pull by digest, then tag.
    False when it already was."""
    from .registry import ImageRef

    if has_digest(image, digest):
        return False
    ref = ImageRef.parse(image)
    by_digest = ref.with_digest(digest)
    from ..engine.images import pull_image, tag_image

    pull_image(
        by_digest,
        hint="The registry must still hold the locked digest: run `homestack lock` to lock "
        "what the tag points at now, or check the network.",
    )
    tag_image(by_digest, image)
    return True


def honour_lock(site: Site, services: list[Service], images: Mapping[str, str]) -> list[str]:
    """Before `up` creates containers: each locked service whose file still pins the locked
    image gets that digest locally. Returns the images re-pointed."""
    entries = read_lock(site)
    if not entries:
        return []
    from ..engine.backend import default_backend
    from .registry import ImageRef

    done: list[str] = []
    local: dict[str, list[str]] | None = None
    for service in services:
        entry = entries.get(service.id)
        if entry is None or images.get(service.id) != entry.image:
            continue  # not locked, or the file moved on (validate says the lock is stale)
        if local is None:
            local = default_backend().image_digests()  # all local images, one call: up stays quick
        ref = ImageRef.parse(entry.image)
        here = local.get(ref.with_tag(ref.tag or "latest"), [])
        if any(d.endswith("@" + entry.digest) for d in here):
            continue  # already the locked bytes
        try:
            if pull_pinned(entry.image, entry.digest):
                done.append(f"{entry.image}@{entry.digest}")
        except CommandFailed as error:
            said = error.stderr.strip().splitlines()
            raise OperationFailed(
                f"{service.id}: cannot get the locked {entry.image}@{entry.digest[:19]}…: "
                + (said[-1] if said else "docker pull failed"),
                error.hint,
                service=service.id,
            ) from None
    return done


def locked_images(site: Site, services: list[Service]) -> dict[str, tuple[str, str]]:
    """service → (image, digest) for the selected services whose file pins the locked image."""
    entries = read_lock(site)
    out: dict[str, tuple[str, str]] = {}
    for service in services:
        entry = entries.get(service.id)
        if entry is not None and pinned_image(site, service) == entry.image:
            out[service.id] = (entry.image, entry.digest)
    return out
