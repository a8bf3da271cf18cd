"""Snapshots are tagged `image=` with the image the service's container runs, for every
consistency mode: a `none` service (copied live) was tagged with its compose file's image,
so a `--stand-in` rehearsal's samba said `crazymax/samba:…` while it ran the stand-in.
Real engine, real restic; the kit's `plain` service is backed up with consistency none."""

from __future__ import annotations

import json

import pytest

from homestack.backup import backup
from homestack.engine.compose import ComposeProject
from testkit.backupsites import BackupSite, backup_site

pytestmark = pytest.mark.integration
__all__ = ["backup_site"]

DECLARED = "crazymax/samba:4.23.8"  # never pulled: only the file names it


def _image_tags(site: BackupSite, service: str) -> list[str]:
    done = site.restic(service, "snapshots", "--json", "--no-lock")
    assert done.returncode == 0, done.stderr
    return [
        tag
        for snapshot in sorted(json.loads(done.stdout), key=lambda s: s["time"])
        for tag in snapshot["tags"]
        if tag.startswith("image=")
    ]


def test_a_live_copy_is_tagged_with_the_running_image_else_the_declared_one(
    backup_site: BackupSite,
) -> None:
    (backup_site.data / "plain" / "notes.txt").write_text("live\n")
    site = backup_site.load()
    # the container is made from the stand-in image (as `up --stand-in` does) …
    ComposeProject(site, site.stacks["tst"], services=[site.service("plain")]).run(
        "up", "-d", "--no-deps", "plain", timeout=120
    )
    # … then the file names another image, not deployed yet
    service_file = backup_site.root / "tst-stack" / "services" / "plain.docker-compose.yaml"
    text = service_file.read_text()
    service_file.write_text(text.replace("image: homestack/standin:local", f"image: {DECLARED}"))

    site = backup_site.load()
    run = backup(site, [site.service("plain")])
    assert run.ok, [(r.error, r.hint) for r in run.results]
    assert run.results[0].consistency == "none"
    assert _image_tags(backup_site, "plain") == ["image=homestack/standin:local"]

    # no container at all: nothing runs, so the tag is the image the file would run
    ComposeProject(site, site.stacks["tst"], services=[site.service("plain")]).run(
        "rm", "-f", "-s", "plain", timeout=120
    )
    run = backup(backup_site.load(), [site.service("plain")])
    assert run.ok, [(r.error, r.hint) for r in run.results]
    assert _image_tags(backup_site, "plain") == [
        "image=homestack/standin:local",
        f"image={DECLARED}",
    ]
    assert run.results[0].warnings == []
