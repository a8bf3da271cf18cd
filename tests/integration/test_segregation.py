"""The seed networks keep stacks apart: real containers from the stand-in image.

Traffic goes only between the containers this test starts: each container's DNS forwards
names Docker does not know to its own loopback, never to the host's resolver.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.deploy import ensure_networks
from homestack.engine import docker as engine
from testkit.engine import docker
from testkit.sites import service_file, tiny_site

pytestmark = pytest.mark.integration
WEB = "mkdir -p /www && echo {word} > /www/index.html && exec httpd -f -p 8080 -h /www"


class Boxes:
    def __init__(self, prefix: str, image: str) -> None:
        self.prefix = prefix
        self.image = image

    def start(self, name: str, network: str, command: str = "exec sleep 3600") -> str:
        full = f"{self.prefix}{name}"
        docker(
            "run", "-d", "--name", full, "--label", "homestack.test=1", "--dns", "127.0.0.1",
            "--network", self.prefix + network, self.image, "sh", "-c", command,
        )  # fmt: skip
        return full

    def fetch(self, box: str, host: str) -> tuple[bool, str]:
        """GET / on host:8080 from inside box with busybox nc; gives up after 2 s (a name
        Docker does not know would otherwise wait for the DNS forwarder to time out).
        Returns (answered, body)."""
        request = f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 2 nc -w 2 {host} 8080"
        done = docker("exec", box, "sh", "-c", request, check=False)
        head, _, body = done.stdout.replace("\r\n", "\n").partition("\n\n")
        return head.startswith("HTTP/1.") and " 200 " in head.split("\n")[0], body.strip()

    def wget(self, box: str, host: str) -> tuple[bool, str]:
        """busybox wget under `timeout` (its own -T option crashes this static build)."""
        url = f"http://{host}:8080/"
        done = docker("exec", box, "timeout", "2", "wget", "-q", "-O", "-", url, check=False)
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
    with ThreadPoolExecutor(4) as pool:  # docker run is slow on a busy machine: start at once
        started = pool.map(
            lambda args: boxes.start(*args),
            [
                ("ai-web", "ai-services", WEB.format(word="from-ai")),
                ("media-web", "media-services", WEB.format(word="from-media")),
                ("media-only", "media-services"),
                ("both", "media-services"),
            ],
        )
        ai_web, media_web, media_only, both = list(started)
    docker("network", "connect", boxes.prefix + "ai-services", both)

    ai_info = engine.inspect_container(ai_web)
    assert ai_info is not None
    assert set(ai_info.networks) == {boxes.prefix + "ai-services"}
    ai_ip = ai_info.networks[boxes.prefix + "ai-services"]
    assert ai_ip

    # joined to both: reaches both by name over Docker's DNS, and by IP
    _wait_until_served(boxes, both, ai_web)
    _wait_until_served(boxes, both, media_web)
    assert boxes.fetch(both, ai_web) == (True, "from-ai")
    assert boxes.fetch(both, media_web) == (True, "from-media")
    assert boxes.fetch(both, ai_ip) == (True, "from-ai")
    assert boxes.wget(both, ai_web) == (True, "from-ai")
    assert boxes.wget(both, media_web) == (True, "from-media")

    # only on media-services: its own network works; ai-services does not, by name or by IP
    assert boxes.fetch(media_only, media_web) == (True, "from-media")
    with ThreadPoolExecutor(4) as pool:  # each attempt waits out its 2 s limit
        attempts = [
            pool.submit(try_, media_only, target)
            for try_ in (boxes.fetch, boxes.wget)
            for target in (ai_web, ai_ip)
        ]
        assert [a.result()[0] for a in attempts] == [False, False, False, False]
