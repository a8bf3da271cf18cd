"""The `--json` output of the registry commands (`outdated`, `lock`, `pull`, `update`,
`rollback`), compared with their snapshots (tests/snapshots/json/<command>.json), against a
real registry (Debian's docker-registry on a loopback port, testkit.registry), the real engine,
Compose and restic.

The stand-in image is pushed as app 1.0.0, 1.0.1, 1.1.0, 2.0.0 and 1.2.0 (whose health check
fails), then removed locally: every pull is the registry's. One small site (tst/app on 1.0.0,
backed up by stopping it, its data in DATA/app) is brought up once for the module; the commands
then run once each, in this order (RUNS):

1. `outdated`: patch 1.0.1, minor 1.2.0, major 2.0.0 (exit 1: something can be updated);
2. `lock`: homestack.lock gets 1.0.0's digest;
3. `pull`: app's image;
4. `update app`: to 1.0.1, a pre-update snapshot first, health-gated;
5. `update app --to 1.2.0`: unhealthy, so rolled back to 1.0.1 (exit 1);
6. `rollback app`: back to 1.0.0;
7. `pull` after app's tag was set to 9.9.9 by hand, a tag the registry does not have (exit 1).

A command run once has its output as its snapshot; those of `update` and `pull` hold both
runs, keyed by what each does.

The registry's address, the name prefix, the temp folder, digests, snapshot ids, times and
durations become placeholders (testkit.jsonsnap.normalise); everything else is compared exactly.

Regenerate after an intended change of the contract, then review the diff:
    UPDATE_SNAPSHOTS=1 .venv/bin/pytest -n 0 tests/integration/test_json_snapshots_registry.py
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from collections.abc import Iterator

import pytest

from homestack.cli.app import run
from testkit.engine import new_prefix, remove_everything_named
from testkit.jsonsnap import REGISTRY_COMMANDS, check_snapshot, normalise
from testkit.registry import remove_local_images, start_registry

pytestmark = pytest.mark.integration

TAGS = ("1.0.0", "1.0.1", "1.1.0", "1.2.0", "2.0.0")  # 1.2.0: unhealthy (testkit.registry)
SERVICE = """services:
  app:
    x-homestack:
      title: App
      description: A stand-in for the registry commands' snapshots.
      backup:
        consistency: stop
    image: {image}
    stop_grace_period: 2s
    volumes:
      - tst_app_data:/data
    labels:
      homestack.test: "1"

volumes:
  tst_app_data:
    name: ${{HOMESTACK_PREFIX:-}}tst_app_data
    driver: local
    driver_opts:
      type: none
      o: bind
      device: ${{DATA_ROOT:?}}/app
"""
BASE = "networks:\n  snap-test:\n    name: ${HOMESTACK_PREFIX:-}snap-test\n"
#: in order: (command, what the run does: its key in the snapshot, or None for the command's
#: only run; its arguments before --json; its exit code; a tag the service file is set to
#: first, by hand, or None)
RUNS: list[tuple[str, str | None, list[str], int, str | None]] = [
    ("outdated", None, ["outdated"], 1, None),  # something can be updated
    ("lock", None, ["lock"], 0, None),
    ("pull", "app's pinned tag", ["pull"], 0, None),
    ("update", "app to its newest patch", ["update", "app", "--yes", "--timeout", "60"], 0, None),
    (
        "update",
        "app to an unhealthy version: rolled back",
        ["update", "app", "--to", "1.2.0", "--yes", "--timeout", "30"],
        1,
        None,
    ),
    ("rollback", None, ["rollback", "app", "--timeout", "60"], 0, None),
    ("pull", "a tag the registry does not have", ["pull"], 1, "9.9.9"),
]

Outputs = dict[tuple[str, str | None], tuple[int, str, str]]


@pytest.fixture(scope="module")
def outputs(
    docker_engine: str, standin_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Outputs, dict[str, str]]]:
    """Each command's (exit code, stdout, stderr), run once in order on one site; and what
    the normaliser replaces (the registry's address, the prefix, the temp folder)."""
    tmp = tmp_path_factory.mktemp("jsonsnap-registry")
    registry = start_registry(tmp / "registry")
    prefix = new_prefix("hsjr")
    done: Outputs = {}
    try:
        for tag in TAGS:
            registry.push(tag)
        remove_local_images(registry.repository)
        root = tmp / "site"
        (root / "tst-stack" / "services").mkdir(parents=True)
        (root / "base.docker-compose.yaml").write_text(BASE)
        (root / ".env").write_text("TZ=Etc/UTC\nDATA_ROOT=./DATA\nSECRETS_DIR=./secrets\n")
        (root / "tst-stack" / "stack.yaml").write_text(
            "description: registry snapshots\nservices:\n  - app\n"
        )
        service = root / "tst-stack" / "services" / "app.docker-compose.yaml"
        service.write_text(SERVICE.format(image=registry.image("1.0.0")))
        (root / "DATA" / "app").mkdir(parents=True)
        (root / "DATA" / "app" / "db.txt").write_text("written by 1.0.0\n")
        (root / "secrets").mkdir()

        def cli(*argv: str) -> tuple[int, str, str]:
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = run(["--site", str(root), *argv])
            return code, out.getvalue(), err.getvalue()

        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("HOMESTACK_PREFIX", prefix)
            patch.setenv("TZ", "Etc/UTC")
            patch.setenv("HOMESTACK_REGISTRY_TTL", "0")
            code, _, err = cli("up", "--timeout", "60")
            assert code == 0, err
            for command, label, argv, _, retag in RUNS:
                if retag is not None:
                    text = service.read_text()
                    service.write_text(re.sub(r"(image: \S+):[0-9.]+", rf"\1:{retag}", text))
                done[command, label] = cli(*argv, "--json")
        yield done, {registry.host: "<REGISTRY>", prefix: "<PREFIX>", str(tmp): "<TMP>"}
    finally:
        remove_everything_named(prefix)
        registry.stop()
        remove_local_images(registry.repository)
        shutil.rmtree(tmp / "registry", ignore_errors=True)


def test_every_registry_command_runs() -> None:
    assert {command for command, *_ in RUNS} == set(REGISTRY_COMMANDS)


@pytest.mark.parametrize("command", REGISTRY_COMMANDS)
def test_json_output_matches_its_snapshot(
    command: str, outputs: tuple[Outputs, dict[str, str]]
) -> None:
    results, replacements = outputs
    found: dict[str, object] = {}
    for name, label, _, expected, _ in RUNS:
        if name == command:
            code, out, err = results[name, label]
            assert code == expected, err
            found[label or ""] = json.loads(out)
    data = found[""] if list(found) == [""] else found
    check_snapshot(command, normalise(data, replacements))
