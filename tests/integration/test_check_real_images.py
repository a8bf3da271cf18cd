"""scripts/check-real-images.sh, the release check against the real images, as far as it can
run here: no registry is reachable, so it is pointed at an engine that is not there. It must
copy the catalog, validate it with the real Compose CLI, stop at the pull with one FAIL line
and exit 1, and leave no scratch folder behind."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "check-real-images.sh"


def test_release_check_validates_then_stops_at_the_pull_without_an_engine(
    compose_cli: None, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock",  # nothing answers, nothing pulls
        "TMPDIR": str(tmp_path),
    }
    done = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "== 1. validate" in out and "0 error(s)" in out
    (fail,) = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert fail.startswith("FAIL pull:") and "no Docker engine answers" in fail
    assert "== 3." not in out  # nothing was started
    assert not list(tmp_path.glob("homestack-relcheck.*"))  # the scratch copy is gone
