"""`backups`, `verify` and `prune` when the backup password file is gone (a new machine, a
site copied without secrets/): every row names the missing file and how to put it back. Before,
restic's own "Resolving password failed" reached the table with no fix, and for a remote
repository restic was started (and would connect) only to fail there.

Real restic on a local repository; the remote one (sftp to loopback) is never contacted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.sites import copy_catalog

pytestmark = pytest.mark.e2e

CLI = "import sys; from homestack.cli.app import run; sys.exit(run(sys.argv[1:]))"
PASSWORD = "secrets/homestack_backup_password"


def _cli(root: Path, *argv: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-c", CLI, "--site", str(root), *argv],
        env={k: v for k, v in os.environ.items() if not k.startswith("HOMESTACK_")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def site(tmp_path: Path) -> Path:
    if subprocess.run(["restic", "version"], capture_output=True, check=False).returncode:
        pytest.skip("restic is not installed")
    return copy_catalog(tmp_path / "site")


def test_a_local_repository_without_its_password_names_the_file(site: Path) -> None:
    (site / "secrets").mkdir(exist_ok=True)
    (site / PASSWORD).write_text("correct horse battery staple\n")
    repo = site / "DATA" / "backups" / "ollama"
    env = {**os.environ, "RESTIC_PASSWORD_FILE": str(site / PASSWORD)}
    subprocess.run(["restic", "init", "-r", str(repo)], env=env, capture_output=True, check=True)
    (site / PASSWORD).unlink()

    code, out, err = _cli(site, "backups", "ollama", "--json")
    [row] = json.loads(out)["services"]
    assert "homestack_backup_password is missing" in row["error"], row
    assert "copy of it you kept" in row["error"]
    assert "Resolving password failed" not in out + err

    code, out, err = _cli(site, "verify", "ollama")
    assert code == 1
    assert "homestack_backup_password is missing" in out + err
    code, out, err = _cli(site, "prune", "ollama")
    assert code == 1
    assert "is missing" in out + err and "nothing deleted" in out + err
    assert (repo / "config").is_file()  # nothing was touched
    assert not (site / PASSWORD).exists()  # and no new password was made in its place


def test_a_remote_repository_without_its_password_is_not_contacted(site: Path) -> None:
    env_file = site / ".env"
    base = env_file.read_text() if env_file.exists() else (site / ".env.example").read_text()
    env_file.write_text(base + "\nBACKUP_REPOSITORY=sftp:backup@127.0.0.1:/srv/{service}\n")
    code, out, _ = _cli(site, "backups", "ollama", "--json")
    [row] = json.loads(out)["services"]
    assert "homestack_backup_password is missing" in row["error"], row
    assert code == 1  # a repository that cannot be listed is a failed operation
    assert row["repository"] == "sftp:backup@127.0.0.1:/srv/ollama"
