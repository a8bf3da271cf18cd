"""What `up` asks of the update package: undo killed updates first, record deploys after."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..catalog import Site
    from ..deploy.up import UpResult


def before_up(site: Site) -> tuple[Site, list[str]]:
    """Converge updates a killed process left; the site is read again when files changed."""
    from .apply import converge, update_dir

    if not any(update_dir(site).glob("*.journal.json")):
        return site, []
    lines = converge(site)
    if lines:
        from ..catalog import Site as SiteClass

        site = SiteClass.load(site.root)
    return site, lines


def after_up(site: Site, result: UpResult) -> None:
    """One history line per service this `up` created or recreated and saw healthy."""
    from ..deploy.standin import image_of
    from ..deploy.up import GOOD
    from ..errors import HomestackError
    from . import history
    from .lockfile import read_lock
    from .registry import ImageRef

    deployed = [
        r for r in result.services if r.action in ("create", "recreate") and r.state in GOOD
    ]
    if not deployed:
        return
    lock = read_lock(site)
    hashes = _config_hashes(site)
    local: dict[str, list[str]] | None = None
    envs: dict[str, dict[str, str]] = {}
    for run in deployed:
        service = site.service(run.service)
        image = result.images.get(run.service)  # as up resolved it
        if image is None:
            if service.stack not in envs:
                envs[service.stack] = site.stack_env(site.stacks[service.stack])
            image = image_of(service, envs[service.stack])
        entry = lock.get(run.service)
        digest = entry.digest if entry and entry.image == image else None
        if digest is None:
            try:
                ref = ImageRef.parse(image)
            except HomestackError:  # an odd reference: no digest
                ref = None
            if local is None:
                local = _local()  # one engine call for every image, when one is needed
            here = local.get(ref.with_tag(ref.tag or "latest"), []) if ref else []
            found = [d for d in here if ref and d.startswith(ref.repository + "@")]
            digest = found[0].split("@", 1)[1] if found else None
        history.append(
            site,
            history.Deploy(
                history.now(), run.service, image, digest, hashes.get((service.stack, run.service))
            ),
        )


def _local() -> dict[str, list[str]]:
    from ..engine.backend import default_backend

    return default_backend().image_digests()


def _config_hashes(site: Site) -> dict[tuple[str, str], str]:
    """(stack, service) → Compose's config hash on its container (one listing)."""
    from ..deploy.projects import HASH_LABEL, PROJECT_LABEL, SERVICE_LABEL
    from ..engine.backend import default_backend

    stacks = {site.project_name(s): s.id for s in site.stacks.values()}
    out: dict[tuple[str, str], str] = {}
    for info in default_backend().containers(set(stacks), oneoffs=True):
        stack = stacks.get(info.labels.get(PROJECT_LABEL, ""))
        if stack and info.labels.get(HASH_LABEL):
            out[(stack, info.labels.get(SERVICE_LABEL, ""))] = info.labels[HASH_LABEL]
    return out
