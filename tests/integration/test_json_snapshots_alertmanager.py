"""The `--json` output of `alerts` and `alerts silence`, compared with their snapshots
(tests/snapshots/json/<command>.json), against the real Alertmanager (Debian's
prometheus-alertmanager on a free loopback port, its own storage, one receiver that sends
nowhere).

Two alerts are posted to its API v2 as Prometheus would post them (ServiceDown for ollama,
ContainerRestarting for webui, with the catalog's labels and a summary); then, once for the
module and in this order:

1. `alerts silence ollama --for 2h --comment maintenance`;
2. `alerts`, once Alertmanager applies the silence: ollama's alert silenced, webui's firing,
   the one silence listed.

The site is testkit.sites.make_site with ALERTMANAGER_URL in its .env. Alertmanager's port,
the silence's id (a UUID it makes) and times become placeholders (testkit.jsonsnap.normalise);
everything else is compared exactly.

Regenerate after an intended change of the contract, then review the diff:
    UPDATE_SNAPSHOTS=1 .venv/bin/pytest -n 0 tests/integration/test_json_snapshots_alertmanager.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from testkit.engine import IN_CI, free_port
from testkit.jsonsnap import ALERTMANAGER_COMMANDS, Ran, check_ran, run_cli
from testkit.sites import make_site

pytestmark = pytest.mark.integration

CONFIG = "route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n"
ALERTS = [
    {
        "labels": {
            "alertname": "ServiceDown",
            "service": "ollama",
            "stack": "ai",
            "severity": "critical",
        },
        "annotations": {"summary": "ollama does not answer its health probe"},
        "startsAt": "2026-01-01T03:30:00Z",
    },
    {
        "labels": {
            "alertname": "ContainerRestarting",
            "service": "webui",
            "stack": "ai",
            "severity": "warning",
        },
        "annotations": {"summary": "webui restarted 3 times in 15 minutes"},
        "startsAt": "2026-01-01T03:31:00Z",
    },
]
#: command → its arguments before --json
ARGV = {
    "alerts silence": ["alerts", "silence", "ollama", "--for", "2h", "--comment", "maintenance"],
    "alerts": ["alerts"],
}

Outputs = dict[str, Ran]


def alertmanager_binary() -> str:
    found = shutil.which("prometheus-alertmanager")
    if found is None:
        if IN_CI:
            pytest.fail("prometheus-alertmanager is not installed (.ci/run installs it)")
        pytest.skip("prometheus-alertmanager is not installed")
    return found


def call(url: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback
        return json.loads(answer.read() or b"null")


def wait_until(what: str, check: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Outputs, dict[str, str]]]:
    """Each command's (exit code, stdout, stderr), run once in order; and what the normaliser
    replaces (Alertmanager's address, the silence's id, the temp folder)."""
    binary = alertmanager_binary()
    tmp = tmp_path_factory.mktemp("jsonsnap-alertmanager")
    (tmp / "alertmanager.yml").write_text(CONFIG, encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = f"TZ=Etc/UTC\nDATA_ROOT=./DATA\nSECRETS_DIR=./secrets\nALERTMANAGER_URL={url}\n"
    root = make_site(tmp / "site", {".env": env})
    with (tmp / "alertmanager.log").open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={tmp / 'alertmanager.yml'}",
                f"--storage.path={tmp / 'storage'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    done: Outputs = {}

    def cli(*argv: str) -> Ran:
        return run_cli(root, *argv, "--json")

    try:
        wait_until("Alertmanager to answer", lambda: call(f"{url}/api/v2/status"))
        call(f"{url}/api/v2/alerts", ALERTS)
        wait_until("both alerts", lambda: len(call(f"{url}/api/v2/alerts")) == 2)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("HOMESTACK_PREFIX", "hsjson_")
            patch.setenv("TZ", "Etc/UTC")
            done["alerts silence"] = cli(*ARGV["alerts silence"])
            code, out, err = done["alerts silence"]
            assert code == 0, err
            made = json.loads(out)["id"]

            def silenced() -> bool:
                return any(made in a["status"]["silencedBy"] for a in call(f"{url}/api/v2/alerts"))

            wait_until("ollama's alert to be silenced", silenced)
            done["alerts"] = cli(*ARGV["alerts"])
        yield done, {url: "<ALERTMANAGER>", made: "<SILENCE ID>", str(tmp): "<TMP>"}
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.parametrize("command", ALERTMANAGER_COMMANDS)
def test_json_output_matches_its_snapshot(
    command: str, outputs: tuple[Outputs, dict[str, str]]
) -> None:
    results, replacements = outputs
    check_ran(command, results[command], replacements)
