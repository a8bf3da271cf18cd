"""`homestack pull` when images of several stacks cannot be pulled: every one is named.

The images live on a loopback registry that is not there (127.0.0.1:5999), so each pull
fails at once with "connection refused" and nothing leaves this machine (no DNS either).
One test also runs a tiny registry of its own on loopback, serving one image, so that one
pull succeeds beside the failing ones.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import json
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from homestack.cli.app import run
from testkit.sites import up_site

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

REGISTRY = "127.0.0.1:5999/homestack"  # loopback, nothing listens: nothing leaves this machine


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _one_image() -> tuple[bytes, dict[str, bytes]]:
    """A one-file image as a registry serves it: (manifest, digest → blob)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        text = b"pulled from a loopback registry\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(text)
        tar.addfile(info, io.BytesIO(text))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [_digest(raw.getvalue())]},
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": _digest(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer),
                    "digest": _digest(layer),
                }
            ],
        }
    ).encode()
    return manifest, {_digest(config): config, _digest(layer): layer}


@pytest.fixture
def loopback_registry(docker_engine: str, engine_cleanup: str) -> Iterator[str]:
    """host:port/prefix of a registry on 127.0.0.1 that serves one image under any name
    (the engine pulls from a loopback registry over plain HTTP)."""
    manifest, blobs = _one_image()

    class Registry(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, kind = b"{}", "application/json"
            if "/manifests/" in self.path:
                body, kind = manifest, "application/vnd.docker.distribution.manifest.v2+json"
            elif "/blobs/" in self.path:
                body, kind = blobs.get(self.path.rsplit("/", 1)[1], b""), "application/octet-stream"
                if not body:
                    self.send_error(404)
                    return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            self.send_header("Docker-Content-Digest", _digest(body))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    where = f"127.0.0.1:{server.server_port}/{engine_cleanup.rstrip('_')}"
    try:
        yield where
    finally:
        server.shutdown()
        server.server_close()
        listed = subprocess.run(
            ["docker", "image", "ls", "-q", f"{where}/*"],
            capture_output=True,
            text=True,
            check=False,
        )
        for image in set(listed.stdout.split()):
            subprocess.run(["docker", "rmi", "-f", image], capture_output=True, check=False)


@pytest.fixture
def site_root(
    tmp_path: Path, docker_engine: str, engine_cleanup: str, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    return up_site(
        tmp_path / "site",
        {
            "essentials": {"services": {"db": {"image": f"{REGISTRY}/db:1.0"}}},
            "media": {
                "services": {
                    "player": {"image": f"{REGISTRY}/player:2.0"},
                    "encoder": {"image": f"{REGISTRY}/encoder:3.0"},
                    "twin": {"image": f"{REGISTRY}/encoder:3.0"},  # one image, two services
                }
            },
        },
    )


def test_pull_names_every_image_that_failed_in_every_stack(
    site_root: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert run(["--site", str(site_root), "pull"]) == 1
    out, err = capfd.readouterr()
    for image in ("db:1.0", "player:2.0", "encoder:3.0"):
        assert f"{REGISTRY}/{image}" in err
    assert "connection refused" in err
    assert "Traceback" not in out + err and "goroutine" not in err
    assert "nothing pulled" in out


def test_pull_json_lists_what_failed_and_what_pulled(
    site_root: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert run(["--site", str(site_root), "pull", "--json"]) == 1
    out, err = capfd.readouterr()
    data = json.loads(out)
    assert data["pulled"] == {}
    failed = {f["image"]: f for f in data["failed"]}
    assert set(failed) == {
        f"{REGISTRY}/db:1.0",
        f"{REGISTRY}/player:2.0",
        f"{REGISTRY}/encoder:3.0",
    }
    assert failed[f"{REGISTRY}/db:1.0"]["stack"] == "essentials"
    assert sorted(failed[f"{REGISTRY}/encoder:3.0"]["services"]) == ["encoder", "twin"]
    assert all("connection refused" in f["reason"] for f in data["failed"])
    assert "cannot pull" in err


def test_pull_of_one_stack_names_only_its_images(
    site_root: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert run(["--site", str(site_root), "pull", "essentials"]) == 1
    err = capfd.readouterr().err
    assert f"{REGISTRY}/db:1.0" in err
    assert "player" not in err


def test_pull_goes_on_after_a_failing_stack_and_lists_what_pulled(
    tmp_path: Path,
    loopback_registry: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    good = f"{loopback_registry}/good:1.0"
    root = up_site(
        tmp_path / "site",
        {
            "ai": {"services": {"broken": {"image": f"{REGISTRY}/broken:1.0"}}},
            "essentials": {"services": {"db": {"image": good}}},
            "media": {"services": {"player": {"image": f"{REGISTRY}/player:2.0"}}},
        },
    )
    assert run(["--site", str(root), "pull", "--json"]) == 1
    out, err = capfd.readouterr()
    data = json.loads(out)
    assert data["pulled"] == {"essentials": ["db"]}
    assert {f["image"] for f in data["failed"]} == {
        f"{REGISTRY}/broken:1.0",
        f"{REGISTRY}/player:2.0",
    }
    assert f"{REGISTRY}/broken:1.0" in err and f"{REGISTRY}/player:2.0" in err
    assert good not in err
    present = subprocess.run(["docker", "image", "inspect", good], capture_output=True, check=False)
    assert present.returncode == 0  # really pulled

    assert run(["--site", str(root), "pull"]) == 1
    assert "pulled essentials: db" in capfd.readouterr().out


def test_pull_with_no_engine_says_so_not_no_registry(
    site_root: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from homestack.engine import docker as engine

    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    engine.reset_client()
    try:
        assert run(["--site", str(site_root), "pull"]) == 1
    finally:
        engine.reset_client()  # the next test makes its own, with DOCKER_HOST restored
    _, err = capfd.readouterr()
    assert "no Docker engine answers at unix:///nonexistent/docker.sock" in err
    assert "registry" not in err and "internet" not in err
    assert "fix:" in err
