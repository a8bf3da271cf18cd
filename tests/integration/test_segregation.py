"""The seed networks keep stacks apart: real containers from the stand-in image.

Traffic goes only between the containers this test starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deploykit import docker, service_file, tiny_site
from homestack.catalog import Site
from homestack.deploy import ensure_networks
from homestack.engine import docker as engine

pytestmark = pytest.mark.integration
WEB = "mkdir -p /www && echo {word} > /www/index.html && exec httpd -f -p 8080 -h /www"


class Boxes:
    def __init__(self, prefix: str, image: str) -> None:
        self.prefix = prefix
        self.image = image

    def start(self, name: str, network: str, command: str = "exec sleep 3600") -> str:
        full = f"{self.prefix}{name}"
        docker(
            "run", "-d", "--name", full, "--label", "homestack.test=1",
            "--network", self.prefix + network, self.image, "sh", "-c", command,
        )  # fmt: skip
        return full

    def fetch(self, box: str, host: str) -> tuple[bool, str]:
        """GET / on host:8080 from inside box with busybox nc, which gives up after 3 s.
        Returns (answered, body)."""
        request = f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {host} 8080"
        done = docker("exec", box, "sh", "-c", request, check=False)
        head, _, body = done.stdout.replace("\r\n", "\n").partition("\n\n")
        return head.startswith("HTTP/1.") and " 200 " in head.split("\n")[0], body.strip()

    def wget(self, box: str, host: str) -> tuple[bool, str]:
        """busybox wget, without -T: that option crashes this static build (exit 139), so
        use it only where the answer (or a DNS failure) comes at once."""
        done = docker("exec", box, "wget", "-q", "-O", "-", f"http://{host}:8080/", check=False)
        return done.returncode == 0, done.stdout.strip()


@pytest.fixture
def boxes(
    engine_cleanup: str, standin_image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Boxes]:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    tiny_site(tmp_path / "site", {"app": service_file("app")})
    ensure_networks(Site.load(tmp_path / "site"))
    yield Boxes(engine_cleanup, standin_image)


def _wait_until_served(boxes: Boxes, box: str, host: str) -> None:
    for _ in range(30):
        ok, _ = boxes.fetch(box, host)
        if ok:
            return
    pytest.fail(f"{host}:8080 never answered from {box}")


def test_media_cannot_reach_ai_and_a_container_on_both_reaches_both(boxes: Boxes) -> None:
    ai_web = boxes.start("ai-web", "ai-services", WEB.format(word="from-ai"))
    media_web = boxes.start("media-web", "media-services", WEB.format(word="from-media"))
    media_only = boxes.start("media-only", "media-services")
    both = boxes.start("both", "media-services")
    docker("network", "connect", boxes.prefix + "ai-services", both)

    ai_info = engine.inspect_container(ai_web)
    assert ai_info is not None
    assert set(ai_info.networks) == {boxes.prefix + "ai-services"}
    ai_ip = ai_info.networks[boxes.prefix + "ai-services"]
    assert ai_ip

    # joined to both: reaches both by name, over Docker's DNS
    _wait_until_served(boxes, both, ai_web)
    _wait_until_served(boxes, both, media_web)
    assert boxes.fetch(both, ai_web) == (True, "from-ai")
    assert boxes.fetch(both, media_web) == (True, "from-media")

    # only on media-services: its own network works, ai-services does not, by name or by IP
    assert boxes.fetch(media_only, media_web) == (True, "from-media")
    assert boxes.fetch(media_only, ai_web)[0] is False
    assert boxes.fetch(media_only, ai_ip)[0] is False
    assert boxes.fetch(both, ai_ip) == (True, "from-ai")
    assert boxes.wget(both, ai_web) == (True, "from-ai")
    assert boxes.wget(both, media_web) == (True, "from-media")
    assert boxes.wget(media_only, ai_web)[0] is False  # the name does not resolve there
