"""A real Registry HTTP API v2 for the update tests: Debian's `docker-registry` (the
distribution project's registry) on a free loopback port, with its own storage and config,
and stand-in images pushed to it under several tags.

The Docker engine speaks plain http to registries on 127.0.0.0/8 by default, so `docker
push 127.0.0.1:PORT/…` works with no daemon change. Each tag's image is the offline stand-in
(static busybox) with its own behaviour:

- 1.0.0, 1.0.1, 1.1.0, 2.0.0: healthy; each stamps /data/version with its tag and serves
  it at http://…:8080/version;
- 1.2.0: its health check fails;
- 1.3.0: rewrites its data on start (/data/db.txt), then fails its health check.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from testkit.engine import IN_CI, free_port

GOOD = ("1.0.0", "1.0.1", "1.1.0", "2.0.0")
UNHEALTHY = "1.2.0"
MIGRATES = "1.3.0"
TAGS = (*GOOD, UNHEALTHY, MIGRATES)

DOCKERFILE = """FROM {base}
LABEL org.homestack.test.tag="{tag}" org.homestack.test.build="{build}"
HEALTHCHECK --interval=1s --timeout=2s --start-period=3s --retries=1 \\
  CMD ["sh", "-c", "test -f /tmp/ok"]
CMD ["sh", "-c", {script}]
"""
LOOP = "trap 'exit 0' TERM; while :; do sleep 1; done"


def script(tag: str) -> str:
    return "mkdir -p /tmp; " + _behaviour(tag)


def _behaviour(tag: str) -> str:
    if tag == UNHEALTHY:
        return f"echo {tag} > /tmp/version; {LOOP}"
    if tag == MIGRATES:
        return f"mkdir -p /data; echo migrated-by-{tag} > /data/db.txt; rm -f /data/v1-only; {LOOP}"
    # a healthy version stamps the data it runs on (only when the stamp changes)
    stamp = f'[ "$(cat /data/version 2>/dev/null)" = {tag} ] || echo {tag} > /data/version; '
    serve = f"mkdir -p /www; echo {tag} > /www/version; httpd -p 8080 -h /www; "
    return f"{stamp}{serve}touch /tmp/ok; {LOOP}"


@dataclass
class LocalRegistry:
    port: int
    storage: Path
    config: Path
    repository: str  # 127.0.0.1:PORT/h19/app
    process: subprocess.Popen[bytes] | None = None
    digests: dict[str, str] = field(default_factory=dict)  # tag → pushed digest

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def image(self, tag: str) -> str:
        return f"{self.repository}:{tag}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["docker-registry", "serve", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_answers(self.port)

    def push(self, tag: str, build: str = "1", repository: str | None = None) -> str:
        """Build the stand-in for `tag` and push it; returns the pushed digest."""
        repository = repository or self.repository
        image = f"{repository}:{tag}"
        with tempfile.TemporaryDirectory(prefix="h19-img-") as folder:
            text = DOCKERFILE.format(
                base="homestack/standin:local", tag=tag, build=build, script=_json(script(tag))
            )
            (Path(folder) / "Dockerfile").write_text(text)
            docker("build", "-q", "-t", image, folder, env={"DOCKER_BUILDKIT": "0"})
        docker("push", image)
        return digest_of(image, repository)


def _json(text: str) -> str:
    import json

    return json.dumps(text)


def docker(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["docker", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, f"docker {' '.join(args)}: {done.stderr}"
    return done.stdout


def digest_of(image: str, repository: str) -> str:
    import json

    found = json.loads(docker("image", "inspect", "--format", "{{json .RepoDigests}}", image))
    return next(d.split("@", 1)[1] for d in found if d.startswith(repository + "@"))


def wait_answers(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"docker-registry did not answer on port {port}")


def registry_binary() -> str:
    found = shutil.which("docker-registry")
    if found is None:
        if IN_CI:
            pytest.fail("docker-registry is missing (CI=true: .ci/run installs it)")
        pytest.skip("docker-registry (Debian package docker-registry) is not installed")
    return found


def start_registry(root: Path) -> LocalRegistry:
    registry_binary()
    port = free_port()
    storage = root / "storage"
    storage.mkdir(parents=True)
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    registry = LocalRegistry(port, storage, config, f"127.0.0.1:{port}/h19/app")
    registry.start()
    return registry


def remove_local_images(repository: str) -> None:
    done = subprocess.run(
        ["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repository],
        capture_output=True,
        text=True,
        check=False,
    )
    names = [n for n in done.stdout.split() if not n.endswith(":<none>")]
    if names:
        subprocess.run(["docker", "rmi", "-f", *names], capture_output=True, check=False)
    done = subprocess.run(
        ["docker", "image", "ls", "-q", "--filter", f"reference={repository}"],
        capture_output=True,
        text=True,
        check=False,
    )
    ids = done.stdout.split()
    if ids:
        subprocess.run(["docker", "rmi", "-f", *ids], capture_output=True, check=False)


@pytest.fixture(scope="module")
def registry(docker_engine: str, standin_image: str) -> Iterator[LocalRegistry]:
    """A registry with every tag pushed; stopped and its images removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="h19-registry-"))
    found = start_registry(root)
    try:
        found.digests = {tag: found.push(tag) for tag in TAGS}
        # only the registry has them now: update and up must pull, as on a real machine
        remove_local_images(found.repository)
        yield found
    finally:
        found.stop()
        remove_local_images(found.repository)
        shutil.rmtree(root, ignore_errors=True)
