"""`homestack logs` against a real engine: merged order, --grep, --level, following a restart."""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.observe.logs import LogLine, LogQuery, follow_logs, history
from testkit.engine import (
    container_state,
    create_networks,
    new_prefix,
    remove_everything_named,
    start,
    wait_for,
)
from testkit.sites import running_site

pytestmark = pytest.mark.integration


def ticker(name: str, count: int, step: str, sync: Path) -> str:
    """A service that prints numbered lines once `sync/go` exists (so two services' lines
    interleave), errors on stderr, then idles."""
    script = (
        "while [ ! -f /sync/go ]; do sleep 0.1; done; "
        f"i=0; while [ $i -lt {count} ]; do i=$((i+1)); "
        f'if [ $((i % 3)) -eq 0 ]; then echo "ERROR {name} line $i" >&2; '
        f'else echo "level=info {name} line $i"; fi; sleep {step}; done; '
        "while true; do sleep 1; done"
    )
    escaped = script.replace("$", "$$")  # for the shell, not for Compose
    return f"command: ['sh', '-c', '{escaped}']\nvolumes: ['{sync}:/sync:ro']"


@pytest.fixture(scope="module")
def logs_site(tmp_path_factory: pytest.TempPathFactory, standin_image: str) -> Iterator[Site]:
    prefix = new_prefix()
    folder = tmp_path_factory.mktemp("logs")
    sync = folder / "sync"
    sync.mkdir()
    site = running_site(
        folder / "site",
        prefix,
        {
            "ai": {
                "alpha": (True, ticker("alpha", 6, "0.2", sync), ""),
                "gamma": (True, "command: ['sh', '-c', 'sleep 1']", ""),  # never started
                "delta": (False, "command: ['sh', '-c', 'sleep 1']", ""),  # disabled
            },
            "media": {
                "beta": (True, ticker("beta", 6, "0.3", sync), ""),
                "echoer": (
                    True,
                    "command: ['sh', '-c', 'echo boot $$(date +%s%N); "
                    "while true; do sleep 1; done']",
                    "",
                ),
            },
        },
    )
    create_networks(prefix, ["ai-services", "media-services"])
    start(site, "ai", ["alpha"])
    start(site, "media", ["beta", "echoer"])
    (sync / "go").write_text("go")
    yield site
    remove_everything_named(prefix)


def _all_printed(site: Site) -> bool:
    lines = history(site, LogQuery.build(["alpha", "beta"]))
    return len(lines) >= 12


def test_merged_in_time_order_from_several_containers(logs_site: Site) -> None:
    assert wait_for(lambda: _all_printed(logs_site), timeout=30)
    lines = history(logs_site, LogQuery.build(["alpha", "beta"]))
    assert [line.time for line in lines] == sorted(line.time for line in lines)
    assert {line.service for line in lines} == {"alpha", "beta"}
    # the two containers' lines interleave rather than come one container after the other
    services = [line.service for line in lines]
    switches = sum(1 for a, b in itertools.pairwise(services) if a != b)
    assert switches >= 3
    errors = [line for line in lines if line.stream == "stderr"]
    assert errors and all(line.level == "error" for line in errors)
    assert all(line.level == "info" for line in lines if line.stream == "stdout")
    assert {line.stack for line in lines} == {"ai", "media"}


def test_grep_level_and_json(logs_site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert wait_for(lambda: _all_printed(logs_site), timeout=30)
    only_three = history(logs_site, LogQuery.build(["ai"], grep=r"line [36]$"))
    assert [line.line for line in only_three] == ["ERROR alpha line 3", "ERROR alpha line 6"]
    errors = history(logs_site, LogQuery.build(None, level="error"))
    assert errors and {line.level for line in errors} == {"error"}
    root = str(logs_site.root)
    assert run(["--site", root, "logs", "beta", "--json", "--grep", "line 1$"]) == 0
    objects = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert len(objects) == 1
    assert objects[0]["service"] == "beta" and objects[0]["stack"] == "media"
    assert objects[0]["stream"] == "stdout" and objects[0]["level"] == "info"
    assert set(objects[0]) >= {"time", "service", "stack", "stream", "line", "level"}
    assert run(["--site", root, "logs", "alpha", "--grep", "no such line", "--since", "1h"]) == 0
    quiet = capsys.readouterr()
    assert quiet.out == ""
    assert "no log lines since " in quiet.err and "matching 'no such line' from alpha" in quiet.err
    # a service with no container is named as such, with the fix; a disabled one not at all
    assert run(["--site", root, "logs", "ai", "--grep", "no such line"]) == 0
    missing = capsys.readouterr().err
    assert "from alpha; gamma has no container (`homestack up gamma` starts it)" in missing
    assert "delta" not in missing
    assert run(["--site", root, "logs", "alpha", "--level", "warn"]) == 0
    printed = capsys.readouterr().out
    assert "ERROR alpha line 3" in printed and "level=info" not in printed


def test_follow_survives_a_restart_and_a_recreation(logs_site: Site) -> None:
    container = f"{logs_site.prefix}media-echoer-1"
    assert wait_for(lambda: container_state(container) == "running")
    first_id = container_state(container, "{{.Id}}")
    stop = threading.Event()
    seen: list[LogLine] = []
    boots = {2: threading.Event(), 3: threading.Event()}

    def consume() -> None:
        for line in follow_logs(logs_site, LogQuery.build(["echoer"]), stop=stop, poll=0.2):
            seen.append(line)
            count = sum(1 for s in seen if s.line.startswith("boot"))
            if count in boots:
                boots[count].set()
            if count >= 3:
                return

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    assert wait_for(lambda: len(seen) >= 1, timeout=15)
    # the same container restarts: re-attached from the last line seen
    subprocess.run(["docker", "restart", "-t", "0", container], check=True, capture_output=True)
    assert boots[2].wait(timeout=20), [s.line for s in seen]
    # Compose recreates it: a new container under the same name, attached from its start
    start(logs_site, "media", ["echoer"], "--force-recreate")
    assert container_state(container, "{{.Id}}") != first_id
    assert boots[3].wait(timeout=30), [s.line for s in seen]
    stop.set()
    lines = [s.line for s in seen if s.line.startswith("boot")]
    assert len(lines) == 3 and len(set(lines)) == 3  # nothing repeated, every boot came


def test_logs_without_engine_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site = running_site(tmp_path / "site", "hstdead_", {"ai": {"x": (True, "", "")}})
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/dead.sock")
    # the process-wide client would still talk to the live engine; restored afterwards
    monkeypatch.setattr("homestack.engine.docker._client", None)
    assert run(["--site", str(site.root), "logs"]) == 1
    assert "fix:" in capsys.readouterr().err


def test_logs_follow_says_it_is_following(logs_site: Site) -> None:
    """`logs -f` said nothing until a line came: it looked hung (issue 15)."""
    import sys

    script = str(Path(sys.executable).with_name("homestack"))
    child = subprocess.Popen(
        [script, "--site", str(logs_site.root), "logs", "-f", "echoer", "--since", "1s"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stderr is not None
        first = child.stderr.readline()
    finally:
        child.terminate()
        child.wait(timeout=30)
    assert first.startswith("following the logs of echoer since "), first
    assert "(Ctrl-C to stop)" in first
