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

import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from homestack.cli.app import run
from homestack.engine.docker import reset_client
from testkit.engine import IN_CI, free_port
from testkit.jsonsnap import (
    ENGINE_COMMANDS,
    EXCLUDED,
    UNIT_COMMANDS,
    check_snapshot,
    host_facts_hidden,
    json_commands,
    normalise,
)
from testkit.receiver import Receiver
from testkit.sites import make_site

SNAPSHOT_CA = Path(__file__).resolve().parents[1] / "snapshots" / "ca-root.crt"
ENV = (
    "TZ=Etc/UTC\nDATA_ROOT=./DATA\nSECRETS_DIR=./secrets\nBIND_ADDRESS=127.0.0.1\n"
    "DOMAIN=home.test\nLAN_ADDRESS=10.78.0.1\nPUID=1000\nPGID=1000\n"
)


def _users_file(root: Path, hook: str) -> None:
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


def _local_ca(root: Path, hook: str) -> None:
    """The root certificate Caddy makes on its first start: a fixed one (public part only,
    valid until 2126), so its fingerprint and dates are the snapshot's."""
    from homestack.lan import ca_root

    path = ca_root(root / "DATA")
    path.parent.mkdir(parents=True)
    shutil.copy(SNAPSHOT_CA, path)


def _units_folder(root: Path, hook: str) -> None:
    (root.parent / "units").mkdir()


def _channel(root: Path, hook: str) -> None:
    """A notification channel: Apprise's json:// to the test's loopback receiver."""
    (root / "secrets").mkdir(exist_ok=True)
    (root / "secrets" / "homestack_notify_urls").write_text(hook + "\n", encoding="utf-8")


def _held_event(root: Path, hook: str) -> None:
    """One event quiet hours held back (sent at 03:30 with NOTIFY_QUIET_HOURS=22:00-07:00),
    then the quiet hours dropped from .env: `notify flush` sends it now."""
    from homestack.catalog import Site
    from homestack.notify.events import send

    _channel(root, hook)
    (root / ".env").write_text(ENV + "NOTIFY_QUIET_HOURS=22:00-07:00\n", encoding="utf-8")
    night = datetime(2026, 12, 7, 3, 30, tzinfo=UTC)
    delivery = send(
        Site.load(root), "backup:ollama", "Backup of ollama failed", "disk full", now=night
    )
    assert delivery is not None and delivery.outcome == "held"
    (root / ".env").write_text(ENV, encoding="utf-8")


def _alertmanager(root: Path, url: str) -> None:
    """ALERTMANAGER_URL: the test's own Alertmanager, with one alert firing."""
    (root / ".env").write_text(ENV + f"ALERTMANAGER_URL={url}\n", encoding="utf-8")


#: command → (its arguments before --json, what to do to the site first, given the URL of
#: the helper the case needs: a notification receiver or an Alertmanager, both on loopback)
CASES: dict[str, tuple[list[str], Callable[[Path, str], None] | None]] = {
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
    "notify test": (["notify", "test"], _channel),
    "notify flush": (["notify", "flush"], _held_event),
    "alerts": (["alerts"], _alertmanager),
    "alerts silence": (
        ["alerts", "silence", "ollama", "--for", "2h", "--comment", "snap"],
        _alertmanager,
    ),
}


def test_every_json_command_is_snapshotted_or_excluded_for_a_reason() -> None:
    """A new command with --json needs a snapshot here or in the engine module (or a reason
    in EXCLUDED); the three lists never name a command twice."""
    unit, engine, excluded = set(UNIT_COMMANDS), set(ENGINE_COMMANDS), set(EXCLUDED)
    assert not (unit & engine) and not (unit & excluded) and not (engine & excluded)
    assert unit | engine | excluded == json_commands()
    assert set(CASES) == unit
    assert all(reason.strip() for reason in EXCLUDED.values())


@pytest.fixture(autouse=True)
def no_engine_client() -> Iterator[None]:
    """The engine client is one per process: one an earlier test made would answer here
    whatever DOCKER_HOST says; these commands meet no engine, and leave none behind."""
    reset_client()
    yield
    reset_client()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver()
    got.start()
    yield got
    got.stop()


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    """Debian's prometheus-alertmanager on a free loopback port (no cluster), one alert
    posted to it (ServiceDown of ai/ollama, since a fixed time); its URL."""
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        if IN_CI:
            pytest.fail("prometheus-alertmanager is not installed (.ci/run installs it)")
        pytest.skip("prometheus-alertmanager is not installed")
    config = tmp_path / "alertmanager.yml"
    config.write_text("route:\n  receiver: none\nreceivers:\n  - name: none\n")
    url = f"http://127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.path={tmp_path / 'am'}",
         f"--web.listen-address={url.removeprefix('http://')}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url + "/-/ready", timeout=2):  # noqa: S310
                    break
            except OSError:
                assert time.monotonic() < deadline, "alertmanager did not start"
                time.sleep(0.1)
        alert = {
            "labels": {"alertname": "ServiceDown", "service": "ollama", "stack": "ai",
                       "severity": "critical"},
            "annotations": {"summary": "ollama is down"},
            "startsAt": "2026-12-07T03:00:00Z",
        }  # fmt: skip
        posted = urllib.request.Request(  # noqa: S310 - loopback
            url + "/api/v2/alerts",
            data=json.dumps([alert]).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(posted, timeout=5):  # noqa: S310 - loopback
            pass
        yield url
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.parametrize("command", UNIT_COMMANDS)
def test_json_output_matches_its_snapshot(
    command: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HOMESTACK_PREFIX", "hsjson_")
    monkeypatch.setenv("TZ", "Etc/UTC")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setenv("HOMESTACK_DOCTOR_DNS", "off")
    root = make_site(tmp_path / "site", {".env": ENV})
    argv, prepare = CASES[command]
    # a receiver or an Alertmanager only where one is used: each takes its time
    port = request.getfixturevalue("receiver").port if prepare in (_channel, _held_event) else 0
    url = f"json://127.0.0.1:{port}/hook"
    replacements = {str(tmp_path): "<TMP>", f"127.0.0.1:{port}/": "127.0.0.1:<PORT>/"}
    if prepare is _alertmanager:
        url = request.getfixturevalue("alertmanager")
        replacements[url] = "<ALERTMANAGER>"
    if prepare is not None:
        prepare(root, url)
    capsys.readouterr()
    argv = [word.replace("{tmp}", str(tmp_path)) for word in argv]
    code = run(["--site", str(root), *argv, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    check_snapshot(
        command,
        normalise(host_facts_hidden(command, data), replacements),
    )
