"""The `--json` output of `notify test` and `notify flush`, compared with their snapshots
(tests/snapshots/json/<command>.json), delivering through Apprise to real loopback receivers
(testkit.receiver).

The site (one stack, ai: ollama with a secret, webui; a fixed .env) has two channels:
`json://` to a receiver that answers, and `json://` to a port where nothing listens yet. It has
no stack whose network is named apart from its id (essentials): one stack.yaml the code before
and after the refactor read alike (the network moved from Python into stack.yaml). Run once
for the module, in order:

1. `notify test`: one channel sent, one failed (exit 1): both shapes of a delivery;
2. `notify check` (not compared here: tests/unit/test_json_snapshots.py has it): its doctor
   event reaches the first channel and is kept to retry for the second;
3. the second receiver starts on that port; `notify flush` retries the kept event: sent.

DOCKER_HOST names a socket that does not exist, so doctor's findings (the event's body) are
this site's, not the shared engine's. The receivers' ports and the temp folder become
placeholders (testkit.jsonsnap.normalise); everything else is compared exactly.

Regenerate after an intended change of the contract, then review the diff:
    UPDATE_SNAPSHOTS=1 .venv/bin/pytest -n 0 tests/integration/test_json_snapshots_notify.py
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from homestack.engine.docker import reset_client
from testkit.engine import free_port
from testkit.jsonsnap import NOTIFY_COMMANDS, Ran, check_ran, run_cli
from testkit.receiver import Receiver
from testkit.sites import service_yaml, write_site

pytestmark = pytest.mark.integration

ENV = "TZ=Etc/UTC\nDATA_ROOT=./DATA\nSECRETS_DIR=./secrets\nBIND_ADDRESS=127.0.0.1\n"
#: command → (its arguments before --json, its exit code)
ARGV = {
    "notify test": (["notify", "test"], 1),  # the second channel is down
    "notify flush": (["notify", "flush"], 0),
}

Outputs = dict[str, Ran]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Outputs, dict[str, str]]]:
    """Each command's (exit code, stdout, stderr), run once in order on one site; and what
    the normaliser replaces (the receivers' addresses, the temp folder)."""
    tmp = tmp_path_factory.mktemp("jsonsnap-notify")
    ollama = service_yaml(
        "ollama",
        meta="secrets:\n  - name: api_key\n    length: 40",
        body="secrets: [ollama_api_key]",
        tail="secrets:\n  ollama_api_key:\n    file: ${SECRETS_DIR:-./secrets}/ollama_api_key",
    )
    webui = service_yaml("webui", body="depends_on:\n  ollama:\n    condition: service_healthy")
    root = write_site(tmp / "site", {"ai": {"ollama": ollama, "webui": webui}}, env=ENV)
    up, later = Receiver(), Receiver(port=free_port())
    up.start()
    (root / "secrets").mkdir(exist_ok=True)
    (root / "secrets" / "homestack_notify_urls").write_text(
        f"json://127.0.0.1:{up.port}/\njson://127.0.0.1:{later.port}/\n", encoding="utf-8"
    )
    done: Outputs = {}

    def cli(*argv: str) -> Ran:
        return run_cli(root, *argv)

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOMESTACK_PREFIX", "hsjson_")
        patch.setenv("TZ", "Etc/UTC")
        patch.setenv("DOCKER_HOST", f"unix://{tmp}/no-engine.sock")
        # the engine client is one per process: one an earlier test made on this worker
        # would answer from the real engine whatever DOCKER_HOST says
        reset_client()
        try:
            done["notify test"] = cli(*ARGV["notify test"][0], "--json")
            code, _, err = cli("notify", "check", "--json")
            assert code == 0, err
            later.start()  # the down channel is back
            done["notify flush"] = cli(*ARGV["notify flush"][0], "--json")
            assert later.got, "the flushed event did not reach the channel that came back"
            yield (
                done,
                {
                    f"127.0.0.1:{up.port}": "<RECEIVER>",
                    f"127.0.0.1:{later.port}": "<RECEIVER DOWN, THEN UP>",
                    str(tmp): "<TMP>",
                },
            )
        finally:
            up.stop()
            later.stop()
            reset_client()


@pytest.mark.parametrize("command", NOTIFY_COMMANDS)
def test_json_output_matches_its_snapshot(
    command: str, outputs: tuple[Outputs, dict[str, str]]
) -> None:
    results, replacements = outputs
    check_ran(command, results[command], replacements, code=ARGV[command][1])
