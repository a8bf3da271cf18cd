"""File Browser's first user, rehearsed with the stand-in image on the real engine: `up`
makes the secret and the settings file, the service's user (PUID) reads the file where the
image's entrypoint looks for it (/config/settings.json, upstream docker/alpine/init.sh at
v2.63.23), its hash matches the secret, and the container's environment (what `docker
inspect` shows) holds neither the password nor its hash. File Browser itself is not run
here (no registry): tests/unit/generate/test_generate_filebrowser.py pins the upstream keys."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import bcrypt
import pytest

from homestack.catalog import Site
from homestack.deploy.up import GOOD, up
from homestack.generate import filebrowser
from testkit.sites import copy_catalog

pytestmark = pytest.mark.integration

PUID = 4321  # not the test's own user: the file must be readable by the service's user


def _docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def test_the_service_user_reads_the_hash_and_the_environment_has_no_password(
    tmp_path: Path,
    standin_image: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: the DATA folders are given to another user (PUID)")
    for key in ("DATA_ROOT", "SECRETS_DIR", "HOMESTACK_SITE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    root = copy_catalog(tmp_path / "site")
    (root / ".env").write_text(f"PUID={PUID}\nPGID={PUID}\n", encoding="utf-8")
    site = Site.load(root)

    result = up(site, ["filebrowser"], stand_in="", timeout=120)
    assert result.ok, [(r.service, r.state, r.detail) for r in result.services]
    assert {r.service: r.state for r in result.services}["filebrowser"] in GOOD

    password = (site.secrets_dir / filebrowser.ADMIN_SECRET).read_text(encoding="utf-8")
    container = _docker(
        "ps", "-q",
        "--filter", f"label=com.docker.compose.project={engine_cleanup}media",
        "--filter", "label=com.docker.compose.service=filebrowser",
    ).strip()  # fmt: skip
    assert container, "the stand-in File Browser is not running"
    seen = _docker("exec", "--user", f"{PUID}:{PUID}", container, "cat", "/config/settings.json")
    settings = json.loads(seen)
    assert settings["username"] == "admin"
    assert bcrypt.checkpw(password.encode(), settings["password"].encode())
    # nobody but the service's user (and root) reads it on the host
    host_file = site.data_root / "config/filebrowser/settings.json"
    assert host_file.stat().st_mode & 0o077 == 0
    assert host_file.stat().st_uid == PUID

    env = json.loads(_docker("inspect", "--format", "{{json .Config.Env}}", container))
    joined = "\n".join(env)
    assert password not in joined
    assert settings["password"] not in joined
    assert not [line for line in env if line.startswith(("FB_PASSWORD=", "FB_USERNAME="))]
