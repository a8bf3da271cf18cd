"""Image references as Docker reads them, and the one-line tag rewrite of a service file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.errors import BadInput
from homestack.update.apply import rewrite_image
from homestack.update.lockfile import Locked, read_lock, stale, write_lock
from homestack.update.registry import ImageRef, insecure


@pytest.mark.parametrize(
    ("image", "host", "path", "tag", "repository"),
    [
        ("caddy:2.10.2-alpine", "docker.io", "library/caddy", "2.10.2-alpine", "caddy"),
        ("grafana/loki:3.5.0", "docker.io", "grafana/loki", "3.5.0", "grafana/loki"),
        (
            "ghcr.io/authelia/authelia:4.39.14",
            "ghcr.io",
            "authelia/authelia",
            "4.39.14",
            "ghcr.io/authelia/authelia",
        ),
        (
            "lscr.io/linuxserver/faster-whisper:gpu-v2.4.0-ls72",
            "lscr.io",
            "linuxserver/faster-whisper",
            "gpu-v2.4.0-ls72",
            "lscr.io/linuxserver/faster-whisper",
        ),
        (
            "nvcr.io/nvidia/k8s/dcgm-exporter:4.4.2-4.7.0-ubuntu22.04",
            "nvcr.io",
            "nvidia/k8s/dcgm-exporter",
            "4.4.2-4.7.0-ubuntu22.04",
            "nvcr.io/nvidia/k8s/dcgm-exporter",
        ),
        ("127.0.0.1:5000/h19/app:1.0.0", "127.0.0.1:5000", "h19/app", "1.0.0", None),
        ("localhost/app", "localhost", "app", None, "localhost/app"),
    ],
)
def test_image_references(
    image: str, host: str, path: str, tag: str | None, repository: str | None
) -> None:
    ref = ImageRef.parse(image)
    assert (ref.host, ref.path, ref.tag) == (host, path, tag)
    assert ref.repository == (repository or image.rsplit(":", 1)[0])


def test_docker_hub_is_asked_at_its_api_host_and_loopback_over_http() -> None:
    assert ImageRef.parse("caddy:2").api_host == "registry-1.docker.io"
    assert insecure("127.0.0.1:5000") and insecure("localhost:5000")
    assert not insecure("ghcr.io") and not insecure("registry.lan:5000")


def test_bad_reference_is_bad_input() -> None:
    with pytest.raises(BadInput):
        ImageRef.parse("Not An Image")


SERVICE = """services:
  app:
    x-homestack:
      title: App
      description: test
    # the pinned release
    image: "example/app:1.0.0"   # keep me
    environment:
      OTHER_IMAGE: example/app:1.0.0
"""


def _site(tmp_path: Path, text: str = SERVICE) -> Site:
    stack = tmp_path / "ai-stack" / "services"
    stack.mkdir(parents=True)
    (tmp_path / "base.docker-compose.yaml").write_text("networks: {}\n")
    (stack.parent / "stack.yaml").write_text("description: t\nservices:\n  - app\n")
    (stack / "app.docker-compose.yaml").write_text(text)
    return Site.load(tmp_path)


def test_rewrite_changes_only_the_image_line(tmp_path: Path) -> None:
    site = _site(tmp_path)
    edited = rewrite_image(site.service("app"), "example/app:1.0.1")
    assert edited == SERVICE.replace('"example/app:1.0.0"', '"example/app:1.0.1"')


def test_rewrite_refuses_an_image_from_a_variable(tmp_path: Path) -> None:
    site = _site(tmp_path, SERVICE.replace('"example/app:1.0.0"', "example/app:${APP_TAG}"))
    with pytest.raises(BadInput, match="variable"):
        rewrite_image(site.service("app"), "example/app:1.0.1")


def test_lock_round_trip_and_stale_entries(tmp_path: Path) -> None:
    site = _site(tmp_path)
    digest = "sha256:" + "a" * 64
    write_lock(site, {"app": Locked("example/app:1.0.0", digest), "gone": Locked("x:1", digest)})
    assert read_lock(site)["app"] == Locked("example/app:1.0.0", digest)
    assert stale(site) == [("gone", "is locked but no service file has it")]
    write_lock(site, {"app": Locked("example/app:0.9.0", digest)})
    assert stale(site) == [
        ("app", "is locked at example/app:0.9.0 but its file pins example/app:1.0.0")
    ]
    (tmp_path / "homestack.lock").write_text("{not json")
    with pytest.raises(BadInput, match="not a homestack lockfile"):
        read_lock(site)


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_under_sudo_the_lock_and_the_service_file_stay_the_owners(tmp_path: Path) -> None:
    """`sudo homestack update` in a user's clone: the files it writes stay the user's."""
    from homestack.update.apply import write_file

    site = _site(tmp_path)
    path = site.service("app").file
    for owned in (tmp_path, path):
        os.chown(owned, 1234, 5678)
    path.chmod(0o640)
    write_file(path, rewrite_image(site.service("app"), "example/app:1.0.1"))
    write_lock(site, {"app": Locked("example/app:1.0.1", "sha256:" + "b" * 64)})
    for written in (path, tmp_path / "homestack.lock"):
        info = written.stat()
        assert (info.st_uid, info.st_gid) == (1234, 5678), written
    assert path.stat().st_mode & 0o777 == 0o640
