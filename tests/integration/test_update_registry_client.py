"""The registry client against the real docker-registry: the answer cache (TTL, then a
conditional request), and a registry that accepts connections but never answers (timeout:
a warning for its services, in about the timeout, never a hang or a crash)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.update.outdated import outdated
from homestack.update.registry import Cache, ImageRef, Registry
from testkit.registry import LocalRegistry, registry

pytestmark = pytest.mark.integration
__all__ = ["registry"]


def test_answers_are_cached_on_disk_for_the_ttl(registry: LocalRegistry, tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    ref = ImageRef.parse(registry.image("1.0.0"))
    first = Registry(Cache(path, ttl=600))
    tags = first.tags(ref)
    digest = first.digest(ref, "1.0.0")
    first.cache.save()
    asked = first.requests
    assert asked >= 2 and "1.0.1" in tags

    again = Registry(Cache(path, ttl=600))  # a later command, within the TTL
    assert again.tags(ref) == tags and again.digest(ref, "1.0.0") == digest
    assert again.requests == 0

    stale = Registry(Cache(path, ttl=0))  # past the TTL: asked again
    assert stale.tags(ref) == tags
    assert stale.requests >= 1
    # update never trusts the cache for what it pins
    assert first.digest(ref, "1.0.0", use_cache=False) == digest
    assert first.requests > asked


def test_a_registry_that_never_answers_is_a_warning_after_the_timeout(
    registry: LocalRegistry, tmp_path: Path
) -> None:
    from test_update_registry import make_site

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # connections complete in the kernel; nothing ever reads or answers
    port = silent.getsockname()[1]
    try:
        site = make_site(tmp_path / "site", "h19silent_", f"127.0.0.1:{port}/h19/app:1.0.0")
        (site.root / "tst-stack" / "services" / "other.docker-compose.yaml").write_text(
            site.file.read_text()
            .replace("  app:", "  other:")
            .replace(f"127.0.0.1:{port}/h19/app", registry.repository)
            .replace("tst_app_data", "tst_other_data")
            .replace("}/app", "}/other")
        )
        stack = site.root / "tst-stack" / "stack.yaml"
        stack.write_text(stack.read_text() + "  - other\n")
        started = time.monotonic()
        result = outdated(Site.load(site.root), registry=Registry(Cache(None, 0), timeout=1.0))
        took = time.monotonic() - started
    finally:
        silent.close()
    rows = {r.service: r for r in result.services}
    assert rows["app"].warning and "did not answer" in rows["app"].warning
    assert rows["other"].patch == "1.0.1" and not rows["other"].warning
    assert took < 5, took  # the timeout, not a hang
    assert result.warnings == [f"app: {rows['app'].warning}"]
