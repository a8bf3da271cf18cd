"""`install-stack.sh` itself, on a copy of the script (no venv made, nothing installed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runuser") is None, reason="needs root to act as nobody"
)
def test_venv_made_with_sudo_is_named_when_another_user_cannot_install_into_it() -> None:
    base = Path(tempfile.mkdtemp(prefix="homestack-shim-"))
    try:
        base.chmod(0o755)
        shutil.copy(REPO / "install-stack.sh", base)
        (base / "pyproject.toml").write_text("[project]\nname = 'changed'\n")
        fake_python = base / ".venv" / "bin" / "python"  # root's venv, without homestack
        fake_python.parent.mkdir(parents=True)
        (base / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
        fake_python.write_text("#!/bin/sh\nexit 1\n")
        fake_python.chmod(0o755)
        done = subprocess.run(
            ["runuser", "-u", "nobody", "--", str(base / "install-stack.sh"), "--dry-run"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={"PATH": os.environ["PATH"], "HOME": "/nonexistent"},
        )
    finally:
        shutil.rmtree(base)
    assert done.returncode == 1, done.stderr
    assert f"{base}/.venv belongs to root (made with sudo?)" in done.stderr
    assert "sudo ./install-stack.sh" in done.stderr and "pip" not in done.stderr
