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

from collections.abc import Iterator

import pytest

from testkit.engine import new_prefix, remove_everything_named
from testkit.jsonsnap import ENGINE_COMMANDS, Ran, check_ran, run_cli
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

Outputs = dict[str, Ran]


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
                    code, _, err = run_cli(root, "backup", "web")
                    assert code == 0, err
                done[command] = run_cli(root, *argv, "--json")
            yield done, {prefix: "<PREFIX>", str(tmp): "<TMP>"}
        finally:
            remove_everything_named(prefix)


@pytest.mark.parametrize("command", list(ARGV))
def test_json_output_matches_its_snapshot(
    command: str, outputs: tuple[Outputs, dict[str, str]]
) -> None:
    results, replacements = outputs
    check_ran(command, results[command], replacements)


def test_every_engine_command_has_its_arguments() -> None:
    assert set(ARGV) == set(ENGINE_COMMANDS)
