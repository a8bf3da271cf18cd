"""`backup --all` rehearsed under `--stand-in`: the shipped catalog's ai stack (stop, dump
and none backups; kept small for CI, the whole catalog was run by hand) on the busybox
stand-in, through the CLI, real engine and restic. Home Assistant's dump program (python3)
is not in the stand-in image: the stand-in's own dump runs instead, and the result says so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from homestack.cli.app import run
from testkit.sites import copy_catalog

pytestmark = pytest.mark.integration


def test_backup_all_of_a_stand_in_rehearsal_works_end_to_end(
    tmp_path: Path,
    standin_image: str,
    engine_cleanup: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    root = copy_catalog(tmp_path / "site")
    for stack in ("essentials", "management", "media"):
        shutil.rmtree(root / f"{stack}-stack")
    stack_file = root / "ai-stack" / "stack.yaml"
    text = stack_file.read_text().replace("depends_on:\n  - essentials\n", "")
    for slow in ("open-webui", "anythingllm"):  # more stop backups add time, not cover
        text = text.replace(f"  - {slow}\n", f"  # - {slow}\n")
    stack_file.write_text(text)
    site = str(root)
    assert run(["--site", site, "up", "--stand-in"]) == 0, capsys.readouterr()
    capsys.readouterr()

    code = run(["--site", site, "backup", "--all", "--jobs", "2", "--json"])
    report = json.loads(capsys.readouterr().out)
    failed = {r["service"]: r["error"] for r in report["results"] if not r["ok"]}
    assert code == 0 and not failed, failed
    results = {r["service"]: r for r in report["results"]}
    modes = {r["consistency"] for r in results.values() if not r["skipped"]}
    assert modes == {"stop", "dump", "none"}

    home = results["homeassistant"]
    assert home["snapshot"]
    assert any("stand-in's dump instead of python3" in w for w in home["warnings"])
    dump = (root / "DATA" / "homeassistant" / "homestack-dump.sql").read_text()
    assert dump.startswith("-- homestack stand-in dump of homeassistant")
    assert not [r for r in results.values() if r["warnings"] and r["service"] != "homeassistant"]

    status = json.loads(_cli_json(capsys, site, "backups", "homeassistant"))
    (listed,) = status["services"]
    assert len(listed["snapshots"]) == 1
    assert any(t.startswith("image=homestack/standin") for t in listed["snapshots"][0]["tags"])
    # every mode is tagged with the image the container runs: a live copy (none) too, not
    # the compose file's (lscr.io/linuxserver/faster-whisper …)
    for service in ("ollama", "faster-whisper", "libretranslate"):
        listing = json.loads(_cli_json(capsys, site, "backups", service))
        (tags,) = [snap["tags"] for snap in listing["services"][0]["snapshots"]]
        assert [t for t in tags if t.startswith("image=")] == [f"image={standin_image}"], (
            service,
            tags,
        )
    assert run(["--site", site, "down"]) == 0


def _cli_json(capsys: pytest.CaptureFixture[str], site: str, *argv: str) -> str:
    assert run(["--site", site, *argv, "--json"]) == 0
    return capsys.readouterr().out
