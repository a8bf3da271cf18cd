"""The backup tests' site: stand-in services on a real engine, namespaced.

Backup test modules import the `backup_site` fixture from here. The site comes with the
backup password and an initialised, empty restic repository for each service, copied from
one made once per session (`restic init` derives and calibrates its key: seconds on a busy
machine, for every service of every test); a test about the first backup (the password
made and announced, the repository created, or its place taken) is marked
`@pytest.mark.fresh_repositories` and starts without them. `files` is backed up stopped,
`db` is a database-like service backed up from a dump, `plain` (no container) copied live.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.engine import backup_ops
from homestack.engine.compose import ComposeProject
from testkit.engine import IN_CI
from testkit.sites import write_site

BASE = """networks:
  backup-test:
    name: ${HOMESTACK_PREFIX:-}backup-test
"""

SERVE = "trap 'exit 0' TERM; httpd -f -p 8080 -h /data & wait"


def backup_service(name: str, meta: str, command: str, health: str) -> str:
    return f"""services:
  {name}:
    x-homestack:
      title: {name}
      description: A stand-in for the backup tests.
{meta}
    image: homestack/standin:local
    command: ["sh", "-c", {command!r}]
    stop_grace_period: 5s
    healthcheck:
      test: ["CMD", "sh", "-c", {health!r}]
      interval: 500ms
      timeout: 3s
      retries: 5
    volumes:
      - tst_{name}_data:/data
    networks:
      - backup-test
    labels:
      homestack.test: "1"

volumes:
  tst_{name}_data:
    name: ${{HOMESTACK_PREFIX:-}}tst_{name}_data
    driver: local
    driver_opts:
      type: none
      o: bind
      device: ${{DATA_ROOT:?}}/{name}
"""


FILES = backup_service(
    "files",
    """      secrets:
        - name: token
      backup:
        consistency: stop""",
    SERVE,
    "test -d /data && test ! -e /data/poison",
)
DB_START = (
    "mkdir -p /data/db; "
    "if [ -f /data/dump.txt ] && [ ! -f /data/db/rows ]; then cp /data/dump.txt /data/db/rows; fi; "
    "[ -f /data/db/rows ] || echo seed > /data/db/rows; " + SERVE
)
DB = backup_service(
    "db",
    """      backup:
        consistency: dump
        dump_command: ["sh", "-c", "cat /data/db/rows"]
        dump_file: dump.txt
        exclude: [db]""",
    DB_START,
    "test -s /data/db/rows",
)
PLAIN = """services:
  plain:
    x-homestack:
      title: plain
      description: Files that are safe to copy live; no container needed.
      backup:
        consistency: none
        paths: [data]
    image: homestack/standin:local
"""


@dataclass
class BackupSite:
    root: Path
    prefix: str

    def load(self) -> Site:
        return Site.load(self.root)

    @property
    def data(self) -> Path:
        return self.root / "DATA"

    def set_env(self, **values: str) -> None:
        env = self.root / ".env"
        lines = [
            line for line in env.read_text().splitlines() if line.split("=", 1)[0] not in values
        ]
        lines += [f"{key}={value}" for key, value in values.items()]
        env.write_text("\n".join(lines) + "\n")

    def up(self, *services: str) -> None:
        site = self.load()
        chosen = [site.service(s) for s in services]
        ComposeProject(site, site.stacks["tst"], services=chosen).run(
            "up", "-d", "--wait", timeout=180
        )

    def running(self, service: str) -> bool:
        site = self.load()
        return backup_ops.state(site, site.service(service)).running

    def wait_healthy(self, service: str) -> None:
        site = self.load()
        backup_ops.wait_healthy(site, site.service(service), 60)

    def restic(self, service: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        env["RESTIC_REPOSITORY"] = str(self.data / "backups" / service)
        env["RESTIC_PASSWORD_FILE"] = str(self.root / "secrets" / "homestack_backup_password")
        return subprocess.run(
            ["restic", *args], capture_output=True, text=True, env=env, check=False
        )

    def snapshot_count(self, service: str) -> int:
        import json

        done = self.restic(service, "snapshots", "--json", "--no-lock")
        assert done.returncode == 0, done.stderr
        return len(json.loads(done.stdout))

    def spawn(self, *argv: str, hold_at: str | None = None) -> tuple[subprocess.Popen[str], Path]:
        """Run the real CLI in a child (own process group); with hold_at it stops there."""
        marker = self.root / f".hold-{time.monotonic_ns()}"
        env = dict(os.environ)
        if hold_at:
            env["HOMESTACK_TEST_HOLD_AT"] = hold_at
            env["HOMESTACK_TEST_HOLD_FILE"] = str(marker)
        code = "import sys; from homestack.cli.app import run; sys.exit(run(sys.argv[1:]))"
        child = subprocess.Popen(
            [sys.executable, "-c", code, "--site", str(self.root), *argv],
            env=env,
            stdin=subprocess.DEVNULL,  # never a terminal: nothing asks
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        return child, marker

    def spawn_and_kill(self, *argv: str, hold_at: str) -> None:
        """Start the CLI, wait until it reaches `hold_at`, then kill -9 its process group."""
        child, marker = self.spawn(*argv, hold_at=hold_at)
        deadline = time.monotonic() + 120
        while not marker.exists():
            if child.poll() is not None:
                out, err = child.communicate()
                pytest.fail(f"child ended before {hold_at} (rc {child.returncode}): {out}{err}")
            if time.monotonic() > deadline:
                os.killpg(child.pid, signal.SIGKILL)
                pytest.fail(f"child never reached {hold_at}")
            time.sleep(0.05)
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()


def manifest(*roots: Path) -> dict[str, tuple[object, ...]]:
    """Every entry under roots: type, mode, owner, and content hash or link target."""
    found: dict[str, tuple[object, ...]] = {}
    for root in roots:
        entries = [root, *sorted(root.rglob("*"))] if root.is_dir() else [root]
        for path in entries:
            info = path.lstat()
            if path.is_symlink():
                what: object = ("link", os.readlink(path))
            elif path.is_dir():
                what = "dir"
            else:
                what = hashlib.sha256(path.read_bytes()).hexdigest()
            found[str(path)] = (info.st_mode, info.st_uid, info.st_gid, what)
    return found


PASSWORD_FILE = "homestack_backup_password"


_TEMPLATE: list[Path] = []


def restic_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a backup password and `repository`, initialised with it (made once
    per test process; a function, not a fixture: test modules import only backup_site)."""
    if _TEMPLATE:
        return _TEMPLATE[0]
    if shutil.which("restic") is None:
        if IN_CI:
            pytest.fail("restic is missing (CI=true: the backup tests must run)")
        pytest.skip("restic is not installed")
    folder = tmp_path_factory.mktemp("restic-template")
    password = folder / PASSWORD_FILE
    password.write_text(secrets.token_urlsafe(32) + "\n")
    password.chmod(0o600)
    env = {**os.environ, "RESTIC_PASSWORD_FILE": str(password)}
    done = subprocess.run(
        ["restic", "init", "--repository-version", "2", "-r", str(folder / "repository")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    _TEMPLATE.append(folder)
    return folder


@pytest.fixture
def backup_site(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    engine_cleanup: str,
    standin_image: str,
) -> Iterator[BackupSite]:
    root = tmp_path / "site"
    write_site(
        root,
        {"tst": {"files": FILES, "db": DB, "plain": PLAIN}},
        base=BASE,
        env=f"HOMESTACK_PREFIX={engine_cleanup}\nDATA_ROOT=./DATA\nSECRETS_DIR=./secrets\n",
        description="backup tests",
    )
    for folder in ("files", "db", "plain", "config/files"):
        (root / "DATA" / folder).mkdir(parents=True)
    (root / "secrets").mkdir()
    token = root / "secrets" / "files_token"
    token.write_text("s3cret\n")
    token.chmod(0o600)
    if request.node.get_closest_marker("fresh_repositories") is None:
        template = restic_template(tmp_path_factory)
        shutil.copy2(template / PASSWORD_FILE, root / "secrets" / PASSWORD_FILE)
        for service in ("files", "db", "plain"):
            shutil.copytree(template / "repository", root / "DATA" / "backups" / service)
    # engine_cleanup removes the containers, network and volumes (all named with the prefix)
    yield BackupSite(root, engine_cleanup)


def fill_files(data: Path) -> None:
    """Bytes, modes, owners and symlinks worth round-tripping."""
    (data / "text.txt").write_text("hello\n" * 1000)
    (data / "text.txt").chmod(0o640)
    os.chown(data / "text.txt", 1234, 5678)
    (data / "blob.bin").write_bytes(os.urandom(300_000))
    sub = data / "private"
    sub.mkdir()
    sub.chmod(0o700)
    (sub / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (sub / "run.sh").chmod(0o755)
    os.symlink("text.txt", data / "link")
    os.symlink("/nowhere/at/all", data / "dangling")
