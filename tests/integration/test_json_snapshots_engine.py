"""The `--json` output of the commands that need a running engine, compared with their
snapshots (tests/snapshots/json/<command>.json): one small site (essentials/web ← media/app
on the stand-in image), brought up once for the module; each command runs once, in the order
of ARGV (install networks, up … down), and each test compares one. The registry commands
are in test_json_snapshots_registry.py.

Volatile values (the test's name prefix, the temp folder, times, durations, container ids)
become placeholders through testkit.jsonsnap.normalise; everything else is compared exactly.

Regenerate after an intended change of the contract, then review the diff:
    UPDATE_SNAPSHOTS=1 .venv/bin/pytest -n 0 tests/integration/test_json_snapshots_engine.py
A missing snapshot fails under CI=true. The engine-free commands, and the check that every
`--json` command is covered, are in tests/unit/test_json_snapshots.py.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator

import pytest

from homestack.cli.app import run
from testkit.engine import new_prefix, remove_everything_named
from testkit.jsonsnap import ENGINE_COMMANDS, check_snapshot, host_facts_hidden, normalise
from testkit.sites import HTTPD
from testkit.sites import up_site as write_site

pytestmark = pytest.mark.integration

#: command → its arguments before --json
ARGV = {
    "install networks": ["install", "networks"],
    "up": ["up"],
    "status": ["status"],
    "logs": ["logs", "web", "--tail", "3"],
    "doctor": ["doctor"],
    "restart": ["restart", "media"],
    "restore": ["restore", "web", "--yes"],
    "down": ["down", "--yes"],
}

Outputs = dict[str, tuple[int, str, str]]


@pytest.fixture(scope="module")
def outputs(
    docker_engine: str, standin_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Outputs, dict[str, str]]]:
    """Every engine command's (exit code, stdout, stderr), run once in order on one site;
    and what the normaliser replaces (the prefix, the temp folder)."""
    prefix = new_prefix("hsjs")
    tmp = tmp_path_factory.mktemp("jsonsnap")
    root = write_site(
        tmp / "site",
        {
            "essentials": {"services": {"web": {"script": f"echo web says hello; {HTTPD}"}}},
            "media": {"depends_on": ["essentials"], "services": {"app": {"secret": True}}},
        },
    )
    done: Outputs = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOMESTACK_PREFIX", prefix)
        patch.setenv("TZ", "Etc/UTC")
        patch.setenv("HOMESTACK_DOCTOR_DNS", "off")
        try:
            for command, argv in ARGV.items():
                if command == "restore":  # a backup to restore first
                    with contextlib.redirect_stdout(io.StringIO()):
                        assert run(["--site", str(root), "backup", "web"]) == 0
                out, err = io.StringIO(), io.StringIO()
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    code = run(["--site", str(root), *argv, "--json"])
                done[command] = (code, out.getvalue(), err.getvalue())
            yield done, {prefix: "<PREFIX>", str(tmp): "<TMP>"}
        finally:
            remove_everything_named(prefix)


@pytest.mark.parametrize("command", list(ARGV))
def test_json_output_matches_its_snapshot(
    command: str, outputs: tuple[Outputs, dict[str, str]]
) -> None:
    results, replacements = outputs
    code, out, err = results[command]
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()] if command == "logs" else None
    data = lines if lines is not None else json.loads(out)  # logs: one JSON object a line
    check_snapshot(command, normalise(host_facts_hidden(command, data), replacements))


def test_every_engine_command_has_its_arguments() -> None:
    assert set(ARGV) == set(ENGINE_COMMANDS)
