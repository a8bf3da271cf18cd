"""The `--json` output of every engine-free command, compared with its snapshot
(tests/snapshots/json/<command>.json), so a refactor that changes the CLI contract fails.

The site is sitekit.make_site (proxy ← ollama ← webui, whisper disabled) with a fixed .env,
built afresh for each command in tmp_path; the process environment names everything the
commands read (HOMESTACK_PREFIX, TZ, DOCKER_HOST at a socket that does not exist: none of
these commands may need the engine). Volatile values (the temp folder, times, ids) become
placeholders through testkit.jsonsnap.normalise; everything else is compared exactly.

Regenerate after an intended change of the contract, then review the diff:
    UPDATE_SNAPSHOTS=1 .venv/bin/pytest -n 0 tests/unit/test_json_snapshots.py
A missing snapshot fails under CI=true. The commands needing an engine are in
tests/integration/test_json_snapshots_engine.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from homestack.engine.docker import reset_client
from testkit.jsonsnap import (
    ENGINE_COMMANDS,
    EXCLUDED,
    OTHER_COMMANDS,
    UNIT_COMMANDS,
    check_ran,
    json_commands,
    run_cli,
)
from testkit.sites import make_site

SNAPSHOT_CA = Path(__file__).resolve().parents[1] / "snapshots" / "ca-root.crt"
ENV = (
    "TZ=Etc/UTC\nDATA_ROOT=./DATA\nSECRETS_DIR=./secrets\nBIND_ADDRESS=127.0.0.1\n"
    "DOMAIN=home.test\nLAN_ADDRESS=10.78.0.1\nPUID=1000\nPGID=1000\n"
)


def _users_file(root: Path) -> None:
    """Two people in Authelia's users file (what `generate` and `users add` write)."""
    path = root / "DATA" / "config" / "authelia" / "users_database.yml"
    path.parent.mkdir(parents=True)
    path.write_text(
        "users:\n"
        "  admin:\n    displayname: Admin\n    password: '$argon2id$v=19$m=65536,t=3,p=4$x'\n"
        "    email: admin@home.test\n    groups: [admins, users]\n"
        "  bob:\n    displayname: Bob\n    password: '$argon2id$v=19$m=65536,t=3,p=4$y'\n"
        "    email: bob@home.test\n    groups: [users]\n",
        encoding="utf-8",
    )


def _local_ca(root: Path) -> None:
    """The root certificate Caddy makes on its first start: a fixed one (public part only,
    valid until 2126), so its fingerprint and dates are the snapshot's."""
    from homestack.lan import ca_root

    path = ca_root(root / "DATA")
    path.parent.mkdir(parents=True)
    shutil.copy(SNAPSHOT_CA, path)


def _units_folder(root: Path) -> None:
    (root.parent / "units").mkdir()


#: command → (its arguments before --json, what to do to the site first)
CASES: dict[str, tuple[list[str], Callable[[Path], None] | None]] = {
    "ls": (["ls"], None),
    "plan": (["plan"], None),
    "config": (["config", "ai"], None),
    "urls": (["urls"], None),
    "validate": (["validate", "--offline"], None),
    "generate": (["generate", "--dry-run"], None),
    "enable": (["enable", "whisper"], None),
    "disable": (["disable", "webui"], None),
    "secrets ls": (["secrets", "ls"], None),
    "users ls": (["users", "ls"], _users_file),
    "install data": (["install", "data", "--dry-run"], None),
    "install secrets": (["install", "secrets", "--dry-run"], None),
    "install dashboard": (
        ["install", "dashboard", "--dry-run", "--target", "{tmp}/units"],
        _units_folder,
    ),
    "backup": (
        ["backup", "--install-timer", "--dry-run", "--scheduler", "cron", "--target", "{tmp}/u"],
        None,
    ),
    "backups": (["backups", "ollama"], None),
    "verify": (["verify", "ollama"], None),
    "prune": (["prune", "ollama", "--dry-run"], None),
    "history": (["history", "ollama"], None),
    "ca": (["ca", "--out", "{tmp}/ca"], _local_ca),
    "install all": (["install", "all", "--dry-run"], None),
    "notify check": (["notify", "check"], None),
}


def test_every_json_command_is_snapshotted_or_excluded_for_a_reason() -> None:
    """A new command with --json needs a snapshot here, in the engine module or in one of
    the modules of OTHER_COMMANDS (or a reason in EXCLUDED); no two lists name one command."""
    unit, engine, excluded = set(UNIT_COMMANDS), set(ENGINE_COMMANDS), set(EXCLUDED)
    other = set(OTHER_COMMANDS)  # the modules with their own real part (jsonsnap names them)
    assert len(other) == len(OTHER_COMMANDS)
    lists = (unit, engine, other, excluded)
    assert all(not (a & b) for i, a in enumerate(lists) for b in lists[i + 1 :])
    assert unit | engine | other | excluded == json_commands()
    assert set(CASES) == unit
    assert all(reason.strip() for reason in EXCLUDED.values())


@pytest.fixture(autouse=True)
def no_engine_client() -> Iterator[None]:
    """The engine client is one per process: one an earlier test made would answer here
    whatever DOCKER_HOST says; these commands meet no engine, and leave none behind."""
    reset_client()
    yield
    reset_client()


@pytest.mark.parametrize("command", UNIT_COMMANDS)
def test_json_output_matches_its_snapshot(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", "hsjson_")
    monkeypatch.setenv("TZ", "Etc/UTC")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setenv("HOMESTACK_DOCTOR_DNS", "off")
    root = make_site(tmp_path / "site", {".env": ENV})
    argv, prepare = CASES[command]
    if prepare is not None:
        prepare(root)
    argv = [word.replace("{tmp}", str(tmp_path)) for word in argv]
    check_ran(command, run_cli(root, *argv, "--json"), {str(tmp_path): "<TMP>"})
