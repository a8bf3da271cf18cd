"""The `--json` output of the commands that need a running engine, compared with their
snapshots (tests/snapshots/json/<command>.json): one small site (essentials/web ← media/app
on the stand-in image), brought up once for the module; each command runs once, in the order
of ARGV (install networks, up … down), and each test compares one. The registry commands
(outdated, lock, pull, update, rollback) run on a second small site whose image comes from a
local registry (registrykit: Debian's docker-registry on a loopback port).

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
import yaml

from homestack.cli.app import run
from testkit.engine import new_prefix, remove_everything_named
from testkit.jsonsnap import ENGINE_COMMANDS, check_snapshot, host_facts_hidden, normalise
from testkit.registry import remove_local_images, start_registry
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

#: the commands that need an image registry: command → (arguments before --json, exit code)
REGISTRY_ARGV = {
    "outdated": (["outdated"], 1),  # 1: something can be updated
    "lock": (["lock"], 0),
    "pull": (["pull"], 0),
    "update": (["update", "app", "--to", "1.0.1", "--yes"], 0),
    "rollback": (["rollback", "app"], 0),
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
    assert set(ARGV) | set(REGISTRY_ARGV) == set(ENGINE_COMMANDS)
    assert not set(ARGV) & set(REGISTRY_ARGV)


@pytest.fixture(scope="module")
def registry_outputs(
    docker_engine: str, standin_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Outputs, dict[str, str]]]:
    """A registry (registrykit) holding 1.0.0, 1.0.1 and 2.0.0 of one stand-in image, and a
    site running 1.0.0 of it; the registry commands run once each, in REGISTRY_ARGV's order
    (outdated, lock, pull, update to 1.0.1, rollback)."""
    prefix = new_prefix("hsjr")
    tmp = tmp_path_factory.mktemp("jsonsnap-registry")
    registry = start_registry(tmp / "registry")
    try:
        for tag in ("1.0.0", "1.0.1", "2.0.0"):
            registry.push(tag)
        remove_local_images(registry.repository)  # pulled from the registry, as for real
        root = write_site(
            tmp / "site", {"media": {"services": {"app": {"image": registry.image("1.0.0")}}}}
        )
        # update rewrites the `image: name:tag` line: the service file in block YAML
        service = root / "media-stack" / "services" / "app.docker-compose.yaml"
        service.write_text(yaml.safe_dump(json.loads(service.read_text()), sort_keys=False))
        done: Outputs = {}
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("HOMESTACK_PREFIX", prefix)
            patch.setenv("TZ", "Etc/UTC")
            patch.setenv("HOMESTACK_REGISTRY_TTL", "0")
            quiet = io.StringIO()
            with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
                assert run(["--site", str(root), "up"]) == 0, quiet.getvalue()
            for command, (argv, _) in REGISTRY_ARGV.items():
                out, err = io.StringIO(), io.StringIO()
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    code = run(["--site", str(root), *argv, "--json"])
                done[command] = (code, out.getvalue(), err.getvalue())
            yield done, {prefix: "<PREFIX>", str(tmp): "<TMP>", registry.host: "<REGISTRY>"}
    finally:
        remove_everything_named(prefix)
        registry.stop()
        remove_local_images(registry.repository)


@pytest.mark.parametrize("command", list(REGISTRY_ARGV))
def test_registry_json_output_matches_its_snapshot(
    command: str, registry_outputs: tuple[Outputs, dict[str, str]]
) -> None:
    results, replacements = registry_outputs
    code, out, err = results[command]
    assert code == REGISTRY_ARGV[command][1], err
    check_snapshot(command, normalise(json.loads(out), replacements))
