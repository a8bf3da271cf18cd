"""doctor: a running container that still uses a DATA folder or secret deleted on the host
(deleted by mistake, then made again by `homestack up`) is named, with the restart that fixes
it; Docker itself keeps it running and healthy. Real engine and Compose."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.engine.backend import ComposeBackend
from homestack.observe.doctor import run_doctor
from homestack.observe.doctor_mounts import check_mounts
from testkit.engine import create_networks, new_prefix, remove_everything_named, start
from testkit.sites import running_site

pytestmark = pytest.mark.integration

BODY = (
    "command: ['sh', '-c', 'while true; do sleep 1; done']\n"
    "volumes:\n"
    "  - ${DATA_ROOT}/web:/data\n"
    "  - ${SECRETS_DIR}/web_token:/run/secrets/web_token:ro\n"
)


def test_deleted_data_folder_and_secret_are_named_until_restart(
    tmp_path: Path, standin_image: str
) -> None:
    prefix = new_prefix()
    site = running_site(tmp_path / "site", prefix, {"ai": {"web": (True, BODY, "")}})
    try:
        create_networks(prefix, ["ai-services"])
        data = site.root / "DATA" / "web"
        data.mkdir(parents=True)
        secrets = site.root / "secrets"
        secrets.mkdir(mode=0o700)
        (secrets / "web_token").write_text("old")
        start(site, "ai", ["web"])

        def mounts(whole: bool = False) -> dict[str, tuple[str, str, str | None]]:
            loaded = Site.load(site.root)
            checks = run_doctor(loaded).checks if whole else check_mounts(loaded, ComposeBackend())
            return {c.name: (c.status, c.detail, c.fix) for c in checks if c.area == "mounts"}

        assert mounts() == {
            "mounts": (
                "ok",
                "1 running container(s) use the folders and files on the host now",
                None,
            )
        }
        # deleted by mistake, then made again (as `homestack up` does)
        shutil.rmtree(data)
        data.mkdir()
        (secrets / "web_token").unlink()
        (secrets / "web_token").write_text("new")
        found = mounts(whole=True)  # as `homestack doctor` shows it
        status, detail, fix = found["mounts web"]
        assert status == "warn"
        assert "/data (" in detail and f"/run/secrets/web_token ({secrets}/web_token)" in detail
        assert "homestack restart web" in (fix or "")
        # a restart mounts what is there now; the warning is gone
        subprocess.run(["docker", "restart", f"{prefix}ai-web-1"], check=True, capture_output=True)
        assert list(mounts()) == ["mounts"]
    finally:
        remove_everything_named(prefix)
