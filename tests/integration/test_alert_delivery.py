"""The real Prometheus, blackbox exporter and Alertmanager run the generated configs.

Debian's `prometheus`, `prometheus-blackbox-exporter` and `prometheus-alertmanager` start on
loopback ports this test picks. The generated files are used as generated except for
addresses (container names become 127.0.0.1:PORT), file paths, and times (rule `for:`,
intervals, group and repeat waits shortened so the test takes seconds). A local HTTP server
stands in for ntfy and records what Alertmanager delivers.

A web UI that goes down raises ServiceDown, delivered within the configured wait with the
publisher token; a stack whose every probe fails raises StackDown, which holds back
(inhibits) its services' ServiceDown; a firing alert is repeated after repeat_interval;
`homestack alerts` lists it and `alerts silence` silences it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.generate import generate_all
from homestack.notify.alerts import list_alerts, silence
from testkit.engine import free_port
from testkit.receiver import Post, Receiver
from testkit.sites import copy_catalog

TOKEN = "tk_" + "Q" * 29
FOR = "2s"  # rules' `for:` in the test copies (5m generated)
GROUP_WAIT, GROUP_INTERVAL, REPEAT = "1s", "1s", "6s"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed (.ci/run installs it)")
        pytest.skip(f"{name} is not installed")
    return path


def fired(receiver: Receiver, name: str) -> list[tuple[Post, dict[str, Any]]]:
    """Every firing alert `name` the receiver got, with the POST it came in."""
    return [
        (post, alert)
        for post in receiver.got
        for alert in post.body.get("alerts", [])
        if alert["labels"].get("alertname") == name and alert["status"] == "firing"
    ]


class Web:
    """A web UI on loopback that answers 200 until stopped."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for(what: str, check: Callable[[], Any], timeout: float) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


@pytest.fixture
def generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in ("DATA_ROOT", "SECRETS_DIR", "DOMAIN", "HOMESTACK_SITE"):
        monkeypatch.delenv(key, raising=False)
    root = copy_catalog(tmp_path / "site")
    site = Site.load(root)
    assert site.service("ntfy").enabled and site.service("alertmanager").enabled
    site.secrets_dir.mkdir(parents=True, exist_ok=True)
    (site.secrets_dir / "ntfy_publisher_token").write_text(TOKEN)
    generate_all(site)
    return site.data_root / "config"


def _start(argv: list[str], log: Path, procs: list[subprocess.Popen[bytes]]) -> None:
    handle = log.open("wb")
    procs.append(subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT))


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_a_web_ui_going_down_reaches_the_receiver_inhibited_repeated_silenced(
    generated: Path,
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    prometheus, promtool = tool("prometheus"), tool("promtool")
    alertmanager, amtool = tool("prometheus-alertmanager"), tool("amtool")
    blackbox = tool("prometheus-blackbox-exporter")
    work = tmp_path / "run"
    work.mkdir()
    receiver = Receiver()
    receiver_port = receiver.start()
    request.addfinalizer(receiver.stop)
    ports = {name: free_port() for name in ("prometheus", "alertmanager", "blackbox")}

    # ---- the generated Alertmanager config, with the receiver's address and short waits
    am = yaml.safe_load((generated / "alertmanager" / "alertmanager.yml").read_text())
    hook = am["receivers"][0]["webhook_configs"][0]
    assert hook["url"] == "http://ntfy:8080/homestack?template=alertmanager"
    hook["url"] = f"http://127.0.0.1:{receiver_port}/homestack?template=alertmanager"
    auth = hook["http_config"]["authorization"]
    assert auth["credentials_file"] == "/etc/alertmanager/ntfy_token"
    auth["credentials_file"] = str(generated / "alertmanager" / "ntfy_token")
    am["route"].update(group_wait=GROUP_WAIT, group_interval=GROUP_INTERVAL, repeat_interval=REPEAT)
    am_file = work / "alertmanager.yml"
    am_file.write_text(yaml.safe_dump(am))
    done = subprocess.run(
        [amtool, "check-config", str(am_file)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr

    # ---- the generated rules, `for:` shortened
    rules = yaml.safe_load((generated / "prometheus" / "alerts.yml").read_text())
    names = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    assert {"ServiceDown", "StackDown", "HostDown", "ContainerRestarting", "DiskFilling"} <= names
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule["for"] = FOR
    (work / "alerts.yml").write_text(yaml.safe_dump(rules))

    # ---- the targets: one stack with one UI that goes down, one stack down entirely
    targets = yaml.safe_load((generated / "prometheus" / "targets" / "health-http.yml").read_text())
    by_stack: dict[str, list[dict[str, Any]]] = {}
    for entry in targets:
        by_stack.setdefault(entry["labels"]["stack"], []).append(entry)
    big = max(by_stack, key=lambda s: len(by_stack[s]))
    small = min((s for s in by_stack if s != big), key=lambda s: len(by_stack[s]))
    assert len(by_stack[big]) >= 2
    falls = Web()
    stays = Web()
    request.addfinalizer(stays.stop)
    gone = free_port()  # nothing listens here
    mine: list[dict[str, Any]] = []
    victim = by_stack[big][0]["labels"]["service"]
    for entry in by_stack[big]:
        port = falls.port if entry["labels"]["service"] == victim else stays.port
        mine.append({"targets": [f"http://127.0.0.1:{port}/"], "labels": entry["labels"]})
    for entry in by_stack[small]:
        mine.append({"targets": [f"http://127.0.0.1:{gone}/"], "labels": entry["labels"]})
    (work / "health-http.yml").write_text(yaml.safe_dump(mine))

    # ---- the generated Prometheus config: its probe job, addresses and intervals
    config = yaml.safe_load((generated / "prometheus" / "prometheus.yml").read_text())
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "alertmanager:9093"
    ]
    config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [
        f"127.0.0.1:{ports['alertmanager']}"
    ]
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(work / "alerts.yml")]
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "health-http")
    job["file_sd_configs"] = [{"files": [str(work / "health-http.yml")]}]
    job["relabel_configs"][-1]["replacement"] = f"127.0.0.1:{ports['blackbox']}"
    config["scrape_configs"] = [job]
    prom_file = work / "prometheus.yml"
    prom_file.write_text(yaml.safe_dump(config))
    done = subprocess.run(
        [promtool, "check", "config", str(prom_file)], capture_output=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr

    # the image's built-in modules, written out for Debian's exporter
    (work / "blackbox.yml").write_text(
        "modules:\n  http_2xx:\n    prober: http\n    timeout: 2s\n"
        "  tcp_connect:\n    prober: tcp\n    timeout: 2s\n"
    )
    _start(
        [blackbox, f"--config.file={work / 'blackbox.yml'}",
         f"--web.listen-address=127.0.0.1:{ports['blackbox']}"],
        work / "blackbox.log", processes,
    )  # fmt: skip
    _start(
        [alertmanager, f"--config.file={am_file}", f"--storage.path={work / 'am'}",
         f"--web.listen-address=127.0.0.1:{ports['alertmanager']}",
         "--cluster.listen-address="],
        work / "alertmanager.log", processes,
    )  # fmt: skip
    _start(
        [prometheus, f"--config.file={prom_file}", f"--storage.tsdb.path={work / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{ports['prometheus']}"],
        work / "prometheus.log", processes,
    )  # fmt: skip
    prom = f"http://127.0.0.1:{ports['prometheus']}"
    query = f"{prom}/api/v1/query?query=probe_success%7Bservice%3D%22{victim}%22%7D"

    def victim_up() -> bool:
        try:
            result = get_json(query)["data"]["result"]
        except OSError:
            return False
        return bool(result) and result[0]["value"][1] == "1"

    wait_for(f"{victim}'s probe to succeed", victim_up, 30)
    falls.stop()
    went_down = time.time()

    # ServiceDown for the victim, within for + evaluation + group_wait + a margin
    wait_for("ServiceDown at the receiver", lambda: fired(receiver, "ServiceDown"), 30)
    first, alert = fired(receiver, "ServiceDown")[0]
    assert alert["labels"]["service"] == victim
    assert alert["labels"]["stack"] == big
    assert first.at - went_down < 2 + 1 + 1 + 1 + 6  # for, scrape, eval, group_wait, margin
    assert first.path == "/homestack?template=alertmanager"
    assert first.authorization == f"Bearer {TOKEN}"

    # the stack that is down entirely: StackDown delivered, its services' ServiceDown not
    wait_for("StackDown at the receiver", lambda: fired(receiver, "StackDown"), 30)
    assert {a["labels"]["stack"] for _, a in fired(receiver, "StackDown")} == {small}
    am_api = f"http://127.0.0.1:{ports['alertmanager']}"

    def inhibited() -> list[dict[str, Any]]:
        return [
            a
            for a in get_json(f"{am_api}/api/v2/alerts")
            if a["labels"]["alertname"] == "ServiceDown"
            and a["labels"]["stack"] == small
            and a["status"]["inhibitedBy"]
        ]

    wait_for("the down stack's ServiceDown to be held back", inhibited, 20)
    assert all(a["labels"]["stack"] != small for _, a in fired(receiver, "ServiceDown"))

    # repeat: still firing, so sent again after repeat_interval (not on every group tick)
    wait_for("ServiceDown repeated", lambda: len(fired(receiver, "ServiceDown")) >= 2, 30)
    times = [r.at for r, _ in fired(receiver, "ServiceDown")]
    assert times[1] - times[0] >= 5  # REPEAT is 6s; the group is checked every second

    # `homestack alerts` and `alerts silence` over the API v2
    site = Site.load(generated.parents[1])
    report = list_alerts(site, url=am_api)
    assert any(a.name == "ServiceDown" and a.service == victim for a in report.alerts)
    made = silence(site, victim, "2h", url=am_api)
    assert made.id

    def silenced() -> bool:
        return any(
            a["labels"].get("service") == victim and made.id in a["status"]["silencedBy"]
            for a in get_json(f"{am_api}/api/v2/alerts")
        )

    wait_for("the victim's alerts to be silenced", silenced, 10)
    assert any(s.id == made.id for s in list_alerts(site, url=am_api).silences)

    # the same through the CLI
    monkeypatch.setenv("ALERTMANAGER_URL", am_api)
    assert run(["--site", str(site.root), "alerts", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["alertmanager"] == am_api
    row = next(a for a in shown["alerts"] if a["service"] == victim)
    assert row["silenced_by"] == [made.id]
    other = by_stack[big][1]["labels"]["service"]
    assert run(["--site", str(site.root), "alerts", "silence", other, "--for", "30m"]) == 0
    assert f'silenced service="{other}"' in capsys.readouterr().out
    assert len(list_alerts(site, url=am_api).silences) == 2
