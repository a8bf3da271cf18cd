"""A rehearsal says what it is (issue 15): after `up --stand-in`, `status` and `doctor`
showed the stand-ins as a real healthy site. Real engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testkit.cli import cli_output
from testkit.sites import service_file, tiny_site

pytestmark = pytest.mark.integration

LIMITED = """deploy:
  resources:
    limits: {memory: 64m}
labels:
  homestack.test: "1"
"""


def test_status_and_doctor_mark_stand_ins_and_their_dropped_memory_limit(
    tmp_path: Path, standin_image: str, engine_cleanup: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tiny_site(
        tmp_path / "site",
        {"app": service_file("app", image="example/app:1.0", body=LIMITED, volume=False)},
        env=f"HOMESTACK_PREFIX={engine_cleanup}\n",
    )
    site = ["--site", str(root)]
    code, out = cli_output(capsys, *site, "up", "--stand-in")
    assert code == 0, out

    code, out = cli_output(capsys, *site, "status", "--wide")
    assert code == 0, out
    row = next(line for line in out.splitlines() if line.startswith("app"))
    assert "(stand-in)" in row and "no limit" in row
    assert "rehearsal: 1 of 1 containers are stand-ins" in " ".join(out.split())
    code, out = cli_output(capsys, *site, "status", "--json")
    assert json.loads(out)["services"][0]["standin"] is True

    code, out = cli_output(capsys, *site, "doctor", "--json")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert checks["rehearsal"]["status"] == "warn"
    assert "stand-ins" in checks["rehearsal"]["detail"]
