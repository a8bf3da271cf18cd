"""The `--json` contract: which commands have one, how their output is normalised, and the
snapshot files they are compared with (tests/snapshots/json/<command>.json).

tests/unit/test_json_snapshots.py (engine-free commands) and
tests/integration/test_json_snapshots_engine.py (commands that need a running engine) use it;
the unit module also checks that every command with a `--json` option is in exactly one of
UNIT_COMMANDS, ENGINE_COMMANDS, OTHER_COMMANDS (the modules that bring up their own real
part: a registry, Alertmanager, a receiver; or replay a recorded host) and EXCLUDED, so a new
`--json` command without a snapshot fails there.

`UPDATE_SNAPSHOTS=1 pytest …` (re)writes the snapshot files. A missing snapshot file fails
under CI=true; elsewhere it is written and the test skips, saying so.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testkit.engine import IN_CI, REPO

SNAPSHOTS = REPO / "tests" / "snapshots" / "json"

#: the commands tests/unit/test_json_snapshots.py snapshots (no engine: DOCKER_HOST points at
#: a socket that does not exist, so a command that asked the engine would fail there)
UNIT_COMMANDS = (
    "ls",
    "plan",
    "config",
    "urls",
    "validate",
    "generate",
    "enable",
    "disable",
    "secrets ls",
    "users ls",
    "install data",
    "install secrets",
    "install dashboard",
    "backup",
    "backups",
    "verify",
    "prune",
    "history",
    "ca",
    "install all",
    "notify check",
)

#: the commands tests/integration/test_json_snapshots_engine.py snapshots on one running site
ENGINE_COMMANDS = (
    "install networks",
    "up",
    "status",
    "logs",
    "doctor",
    "restart",
    "restore",
    "down",
)

#: the commands snapshotted by modules that bring up their own real part (or replay a
#: recording of a host), each command in the module named beside it
HOST_RECORDING_COMMANDS = ("gpu", "install drivers", "install docker")  # unit/…_host_recording
NOTIFY_COMMANDS = ("notify test", "notify flush")  # integration/…_notify
ALERTMANAGER_COMMANDS = ("alerts silence", "alerts")  # integration/…_alertmanager
REGISTRY_COMMANDS = ("outdated", "lock", "pull", "update", "rollback")  # integration/…_registry
OTHER_COMMANDS = (
    *HOST_RECORDING_COMMANDS,
    *NOTIFY_COMMANDS,
    *ALERTMANAGER_COMMANDS,
    *REGISTRY_COMMANDS,
)

#: commands with --json that no snapshot covers, and why
SWARM = (
    "needs a Docker Swarm: only the swarm lab (tests/swarmlab.sh: root, its own dockerd in a "
    "namespace, one lab per machine at a time) has one, never the shared engine; issue 21 is "
    "still changing the swarm commands; tests/integration/test_swarm_single.py and "
    "test_swarm_lab.py check their output on the lab"
)
EXCLUDED = {"nodes": SWARM, "nodes label": SWARM}


def json_commands() -> set[str]:
    """Every command (or group with its own callback) that has a `--json` option, as typed
    after `homestack` ("install all"), found by walking the Click tree of the app."""
    import typer.main

    from homestack.cli import app

    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
        yield path, command
        for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
            yield from walk(sub, (*path, name))

    return {
        " ".join(path)
        for path, command in walk(typer.main.get_command(app), ())
        if path and any("--json" in getattr(p, "opts", ()) for p in command.params)
    }


# -- normalisation: only what changes from run to run -------------------------------------

#: values under these keys are times, durations, ids or pids: their presence and type stay,
#: their value becomes a placeholder
VOLATILE_KEYS = {
    "started": "<TIME>",
    "started_at": "<TIME>",
    "finished": "<TIME>",
    "finished_at": "<TIME>",
    "created": "<TIME>",
    "created_at": "<TIME>",
    "time": "<TIME>",
    "timestamp": "<TIME>",
    "when": "<TIME>",
    "since": "<TIME>",
    "taken_at": "<TIME>",
    "launched": "<TIME>",
    "ready": "<TIME>",
    "uptime": "<DURATION>",
    "uptime_s": "<DURATION>",
    "duration_s": "<DURATION>",
    "snapshot": "<ID>",
    "safety_snapshot": "<ID>",
    "seconds": "<DURATION>",
    "elapsed": "<DURATION>",
    "duration": "<DURATION>",
    "took": "<DURATION>",
    "age": "<DURATION>",
    "id": "<ID>",
    "container_id": "<ID>",
    "pid": "<PID>",
    "cpu_percent": "<NUMBER>",
    "memory_bytes": "<NUMBER>",
    "mem_used": "<NUMBER>",
    "mem_limit": "<NUMBER>",
}

#: under these keys, a mapping whose keys are kept and whose values are all volatile (the
#: seconds each phase of an update took: {"snapshot": 0.4, "pull": 0.01, "recreate": 2.7})
VOLATILE_MAPPINGS = {"timings": "<DURATION>"}

_PATTERNS = (
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"), "<TIME>"),
    # a restic snapshot's short id in a step ("snapshot 1e1404c0 (pre-update)": update, rollback)
    (re.compile(r"\bsnapshot [0-9a-f]{8}\b"), "snapshot <ID>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<ID>"),
    # a new network's subnet is the first one free on the engine, which others share
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}/\d{1,2}\b"), "<SUBNET>"),
    (re.compile(r"\b[0-9a-f]{12}\b"), "<ID>"),
)


def normalise(data: Any, replacements: dict[str, str], exact: dict[str, str] | None = None) -> Any:
    """`data` with the volatile parts replaced by placeholders.

    - the scalar values of VOLATILE_KEYS (not booleans, not empty; a list under `created`
      is kept);
    - every value of a mapping under VOLATILE_MAPPINGS (its keys are kept);
    - in every string: the `replacements` (absolute temp paths, the test's name prefix;
      longest first; the folder of this Python's scripts is always one), ISO times,
      container ids, restic snapshot ids after "snapshot " and subnets (IPv4 CIDR);
    - a string equal to a key of `exact` becomes its value (the user running the test,
      "0:0" as root, is always one: `<RUNNER>`).

    Keys, order and every other value are kept as they are."""
    runner = f"{os.getuid()}:{os.getgid()}"
    found = {
        str(Path(sys.executable).parent): "<BIN>",
        f"owner {runner}": "owner <RUNNER>",
        f"owned by {runner}": "owned by <RUNNER>",
        **replacements,
    }
    ordered = sorted(found.items(), key=lambda item: -len(item[0]))
    whole = {runner: "<RUNNER>", **(exact or {})}

    def text(value: str) -> str:
        for old, new in ordered:
            value = value.replace(old, new)
        for pattern, placeholder in _PATTERNS:
            value = pattern.sub(placeholder, value)
        return value

    def walk(value: Any, key: str | None = None) -> Any:
        scalar = isinstance(value, str | int | float) and not isinstance(value, bool)
        if key in VOLATILE_KEYS and scalar and value != "":
            return VOLATILE_KEYS[key]
        if key in VOLATILE_MAPPINGS and isinstance(value, dict):
            return {text(k): VOLATILE_MAPPINGS[key] for k in value}
        if isinstance(value, dict):
            return {text(k): walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, str):
            return whole[value] if value in whole else text(value)
        return value

    return walk(data)


#: what differs from one machine to the next, by command: doctor's checks by name, the parts
#: of `install all` by name, the events of `notify check` by key; their value is hidden, their
#: place, name and status are compared
HOST_CHECKS = ("engine", "compose", "restic", "disk", "gpu")
HOST_PARTS = ("door", "drivers", "docker", "tools")
HOST_EVENTS = ("disk",)
HOST_FACT = "<HOST FACT>"


def host_facts_hidden(command: str, data: Any) -> Any:
    """`data` with this machine's facts hidden (HOST_CHECKS, HOST_PARTS, HOST_EVENTS): the
    versions of Docker, Compose and restic, free disk space, GPUs, the default route."""
    if command == "doctor":
        for check in data["checks"]:
            if check["name"] in HOST_CHECKS:
                check["detail"] = HOST_FACT
    elif command == "install all":
        for part in data["parts"]:
            if part["name"] in HOST_PARTS:
                part["summary"] = part["data"] = HOST_FACT
    elif command in ("notify check", "notify flush"):  # deliveries of events
        for delivery in data:
            if delivery["event"]["key"] in HOST_EVENTS:
                event = delivery["event"]
                event.update(dict.fromkeys(("title", "body", "level", "resolved"), HOST_FACT))
    return data


#: one run of the CLI: (exit code, stdout, stderr)
Ran = tuple[int, str, str]


def run_cli(root: Path, *argv: str) -> Ran:
    """`homestack --site ROOT ARGV…` in this process (as the existing CLI tests run it)."""
    from homestack.cli.app import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(["--site", str(root), *argv])
    return code, out.getvalue(), err.getvalue()


def check_ran(command: str, ran: Ran, replacements: dict[str, str], code: int = 0) -> None:
    """A run of `command … --json` against its snapshot: the exit code first (stderr shown
    when it differs), then its output (one JSON document; logs: one a line) with this
    machine's facts hidden and the volatile rest normalised."""
    got, out, err = ran
    assert got == code, err
    lines = [json.loads(line) for line in out.splitlines()] if command == "logs" else None
    data = lines if lines is not None else json.loads(out)
    check_snapshot(command, normalise(host_facts_hidden(command, data), replacements))


def snapshot_path(command: str) -> Path:
    return SNAPSHOTS / (command.replace(" ", "_") + ".json")


def check_snapshot(command: str, data: Any) -> None:
    """Compare `data` (already normalised) with the command's snapshot, exactly."""
    path = snapshot_path(command)
    shown = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(shown, encoding="utf-8")
        return
    if not path.exists():
        if IN_CI:
            pytest.fail(f"no snapshot {path} (write it with UPDATE_SNAPSHOTS=1, then review it)")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(shown, encoding="utf-8")
        pytest.skip(f"wrote the missing snapshot {path}: review and commit it")
    expected = path.read_text(encoding="utf-8")
    if shown != expected:
        diff = difflib.unified_diff(
            expected.splitlines(), shown.splitlines(), "snapshot", "now", lineterm=""
        )
        pytest.fail(
            f"`homestack {command} --json` changed (snapshot {path.relative_to(REPO)}); a "
            "refactor must not change it: fix the code, or if the difference is volatile, the "
            "normaliser.\n" + "\n".join(diff),
            pytrace=False,
        )
