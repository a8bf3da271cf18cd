"""Status pieces without an engine: stats arithmetic, rows, URLs, rendering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from homestack.catalog import Site
from homestack.engine.model import Container
from homestack.engine.usage import usage_from_stats
from homestack.observe import status as st
from homestack.observe.doctor_net import probe_script
from homestack.observe.render import human_bytes, human_duration, status_table


@pytest.fixture(autouse=True)
def _no_prefix_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    # the fake engines answer for the projects of the sites written here, with no prefix
    monkeypatch.delenv("HOMESTACK_PREFIX", raising=False)


# recorded from Docker 20.10 (cgroup v1), `GET /containers/{id}/stats?stream=false`
RECORDED_STATS_V1 = {
    "cpu_stats": {
        "cpu_usage": {"total_usage": 2_500_000_000, "percpu_usage": [1, 2]},
        "system_cpu_usage": 1_471_060_000_000,
        "online_cpus": 2,
    },
    "precpu_stats": {
        "cpu_usage": {"total_usage": 2_000_000_000},
        "system_cpu_usage": 1_469_060_000_000,
    },
    "memory_stats": {
        "usage": 700_416,
        "stats": {"total_inactive_file": 100_416, "cache": 8192},
        "limit": 25_276_514_304,
    },
}


def test_usage_from_recorded_stats_matches_the_docker_cli_formula() -> None:
    usage = usage_from_stats(RECORDED_STATS_V1)
    # 0.5 s of CPU over 2 s of system time on 2 CPUs = 50 %
    assert usage.cpu_percent == 50.0
    assert usage.mem_used == 600_000  # page cache (inactive files) left out, as docker does
    assert usage.mem_limit == 25_276_514_304


def test_usage_from_a_one_shot_sample_has_no_cpu_percent() -> None:
    one_shot = dict(RECORDED_STATS_V1, precpu_stats={"cpu_usage": {"total_usage": 0}})
    assert usage_from_stats(one_shot).cpu_percent is None


def test_cgroup_v2_memory_key() -> None:
    stats = {"memory_stats": {"usage": 1000, "stats": {"inactive_file": 400}, "limit": 5000}}
    assert usage_from_stats(stats).mem_used == 600


def _site(tmp_path: Path) -> Site:
    (tmp_path / "base.docker-compose.yaml").write_text("networks: {}\n")
    (tmp_path / ".env").write_text("DOMAIN=home.test\n")
    services = tmp_path / "ai-stack" / "services"
    services.mkdir(parents=True)
    (tmp_path / "ai-stack" / "stack.yaml").write_text("services:\n  - ui\n  - api\n")
    for name, web in (("ui", "web: {port: 80, subdomain: chat, path: /app/}"), ("api", "")):
        (services / f"{name}.docker-compose.yaml").write_text(
            f"services:\n  {name}:\n    x-homestack:\n      title: {name}\n"
            f"      description: d\n      {web}\n    image: x:1\n"
        )
    return Site.load(tmp_path)


def test_service_url_uses_subdomain_domain_and_path(tmp_path: Path) -> None:
    site = _site(tmp_path)
    env = site.stack_env(site.stacks["ai"])
    assert st.service_url(site.service("ui"), env) == "https://chat.home.test/app/"
    assert st.service_url(site.service("api"), env) is None
    assert st.service_url(site.service("ui"), {}) is None  # no DOMAIN, no URL


def test_ports_are_deduplicated_across_ip_families() -> None:
    summary = {
        "Ports": [
            {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},  # noqa: S104
            {"IP": "::", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
            {"PrivatePort": 9000, "Type": "tcp"},  # exposed, not published
        ]
    }
    assert st._ports(Container.parse(summary)) == ["0.0.0.0:8080->80/tcp"]


def _box(raw: dict[str, object]) -> Container:
    return Container.parse(raw)


def test_health_keeps_the_last_probe_output_only_when_unhealthy() -> None:
    log = [{"Output": "old"}, {"Output": "  connection\nrefused  "}]
    assert st._health(_box({"State": {"Health": {"Status": "unhealthy", "Log": log}}})) == (
        "unhealthy",
        "connection refused",
    )
    assert st._health(_box({"State": {"Health": {"Status": "healthy", "Log": log}}})) == (
        "healthy",
        None,
    )
    assert st._health(_box({"State": {}})) == (None, None)


def test_docker_times_parse_and_zero_time_is_none() -> None:
    parsed = st._parse_time("2024-05-01T12:00:00.123456789Z")
    assert parsed is not None and parsed.microsecond == 123456
    assert st._parse_time("0001-01-01T00:00:00Z") is None


def _row(name: str, cpu: float | None, mem: int | None, **extra: object) -> st.StatusRow:
    fields: dict[str, object] = {
        "service": name,
        "stack": "ai",
        "container": f"ai-{name}-1",
        "enabled": True,
        "state": "running",
        "health": None,
        "health_output": None,
        "exit_code": None,
        "started_at": None,
        "uptime_s": 3725.0,
        "restarts": 0,
        "cpu_percent": cpu,
        "mem_used": mem,
        "mem_limit": 2 * 1024**3,
        "url": None,
        "ports": [],
        "last_backup": None,
        "backup_failed": False,
        "flag": None,
    }
    fields.update(extra)
    return st.StatusRow(**fields)  # type: ignore[arg-type]


def test_sort_rows_for_top() -> None:
    rows = [_row("a", 1.0, 300), _row("b", 50.0, 100), _row("c", None, None)]
    assert [r.service for r in st.sort_rows(rows, "cpu")] == ["b", "a", "c"]
    assert [r.service for r in st.sort_rows(rows, "mem")] == ["a", "b", "c"]
    assert [r.service for r in st.sort_rows(rows, "name")] == ["a", "b", "c"]


def test_problem_rows() -> None:
    assert not _row("a", 1, 1).problem
    assert _row("a", 1, 1, health="unhealthy").problem
    assert _row("a", None, None, state="exited", exit_code=3).problem
    assert not _row("a", None, None, state="exited", exit_code=0).problem
    assert _row("a", None, None, state="missing", flag=st.MISSING).problem


def test_table_shows_flags_health_output_and_memory() -> None:
    rows = [
        _row("ok", 12.345, 512 * 1024**2),
        _row("sick", 0.0, 1024, health="unhealthy", health_output="db down"),
        _row("gone", None, None, state="missing", flag=st.MISSING, uptime_s=None),
    ]
    console = Console(width=250, record=True, color_system=None)
    console.print(status_table(rows, backups_known=True))
    text = console.export_text()
    assert "12.3%" in text and "512.0 MiB / 2.0 GiB" in text and "1h2m" in text
    assert "unhealthy db down" in text
    assert "missing enabled-but-missing" in text and "never" in text


def test_human_units() -> None:
    assert human_bytes(None) == "-" and human_bytes(512) == "512 B"
    assert human_bytes(3 * 1024**3) == "3.0 GiB" and human_bytes(1536) == "1.5 KiB"
    assert human_bytes(5 * 1024**4) == "5.0 TiB" and human_bytes(0) == "0 B"
    assert human_duration(59) == "59s" and human_duration(61) == "1m1s"
    assert human_duration(86400 * 2 + 3600) == "2d1h" and human_duration(None) == "-"


def test_probe_script_runs_every_probe_at_once_with_timeouts() -> None:
    script = probe_script([("control", "10.0.0.2"), ("x@net", "10.1.0.2")], ["web"])
    assert script.count("ping -c1 -W1") == 2 and "timeout 2 nslookup web" in script
    assert script.count(") &") == 3 and script.endswith("wait")


class _FakeEmptyEngine:
    """A backend with no containers (the fake stands for an empty engine)."""

    def containers(self, *_: object, **__: object) -> list[Container]:
        return []

    def inspect_many(self, ids: list[str]) -> dict[str, Container]:
        return {}

    def stats(self, pids: dict[str, int], **_: object) -> dict[str, object]:
        return {}


def test_missing_and_named_disabled_rows_fake_empty_engine(tmp_path: Path) -> None:
    site = _site(tmp_path)
    (tmp_path / "ai-stack" / "stack.yaml").write_text("services:\n  - ui\n  # - api\n")
    site = Site.load(tmp_path)
    rows = st.collect_status(site, backend=_FakeEmptyEngine(), with_backups=False).rows
    assert [(r.service, r.state, r.flag) for r in rows] == [("ui", "missing", st.MISSING)]
    assert rows[0].url == "https://chat.home.test/app/"
    named = st.collect_status(site, ["api"], backend=_FakeEmptyEngine(), with_backups=False).rows
    assert [(r.service, r.state, r.flag, r.enabled) for r in named] == [
        ("api", "disabled", None, False)
    ]


def test_the_byte_formatter_loads_without_the_docker_sdk() -> None:
    """`backup` and `backups` print sizes with it; they must not pay for the SDK import."""
    import subprocess
    import sys

    code = "import sys; import homestack.observe.render; print('docker' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


class _FakeStoppedEngine(_FakeEmptyEngine):
    """A backend (fake) holding stopped containers of `ui` (unhealthy when it stopped)
    and of `job`, a oneshot that ran to completion."""

    def containers(self, *_: object, **__: object) -> list[Container]:
        return [
            Container.parse(
                {"Id": cid, "Names": [f"/ai-{svc}-1"], "State": "exited", "Labels": labels}
            )
            for cid, svc, labels in (
                (
                    "c1",
                    "ui",
                    {"com.docker.compose.project": "ai", "com.docker.compose.service": "ui"},
                ),
                (
                    "c2",
                    "job",
                    {"com.docker.compose.project": "ai", "com.docker.compose.service": "job"},
                ),
            )
        ]

    def inspect_many(self, ids: list[str]) -> dict[str, Container]:
        health = {"Status": "unhealthy", "Log": [{"Output": "stale"}]}
        raw = {"State": {"Status": "exited", "ExitCode": 0, "Health": health}, "RestartCount": 0}
        return {cid: Container.parse(raw) for cid in ids}


def test_stopped_enabled_service_is_flagged_and_its_old_health_hidden_fake_engine(
    tmp_path: Path,
) -> None:
    site = _site(tmp_path)
    services = tmp_path / "ai-stack" / "services"
    (services / "job.docker-compose.yaml").write_text(
        "services:\n  job:\n    x-homestack:\n      title: job\n      description: d\n"
        "      oneshot: true\n    image: x:1\n"
    )
    (tmp_path / "ai-stack" / "stack.yaml").write_text("services:\n  - ui\n  - job\n")
    site = Site.load(tmp_path)
    rows = {
        r.service: r
        for r in st.collect_status(site, backend=_FakeStoppedEngine(), with_backups=False).rows
    }
    ui = rows["ui"]
    assert (ui.state, ui.exit_code, ui.flag) == ("exited", 0, st.STOPPED)
    assert ui.health is None and ui.health_output is None  # the last probe before it stopped
    assert ui.problem
    assert rows["job"].flag is None and not rows["job"].problem  # a finished oneshot is fine


def test_table_on_an_80_column_terminal_keeps_names_and_memory_whole() -> None:
    rows = [
        _row("blackbox-exporter", 2.5, 600 * 1024, url="https://metrics.home.arpa/"),
        _row("jellyfin", None, None, state="exited", exit_code=137, flag=st.STOPPED),
        _row("sick", 0.0, 1024, health="unhealthy", health_output="wget: connection refused"),
    ]
    console = Console(width=80, record=True, color_system=None)
    console.print(status_table(rows, backups_known=True))
    text = console.export_text()
    lines = text.splitlines()
    assert all(len(line.rstrip()) <= 80 for line in lines)
    # the URL is kept (wrapped), never dropped silently (issue 15); the stack gives way
    assert lines[0].split() == ["SERVICE", "STATE", "HEALTH", "CPU", "MEMORY", "URL"]
    assert lines[1].split()[:2] == ["blackbox-exporter", "running"]
    assert "https://metrics.hom" in lines[1] and "e.arpa/" in lines[2]
    assert "2.5%" in lines[1] and "600.0 KiB" in lines[1]  # used memory, on its row
    assert "enabled-but-" in text and "stopped" in text and "refused" in text  # wrapped
    # where there is room, every column is there
    wide = Console(width=250, record=True, color_system=None)
    wide.print(status_table(rows, backups_known=True))
    header = wide.export_text().splitlines()[0].split()
    assert header[-4:] == ["MEMORY", "URL", "PORTS", "BACKUP"]
    # --wide: every column and every cell whole, whatever the terminal
    narrow = Console(width=80, record=True, color_system=None)
    narrow.width = 1000  # as `status --wide` sets it
    narrow.print(status_table(rows, backups_known=True, wide=True))
    every = narrow.export_text().splitlines()
    assert every[0].split()[-4:] == ["MEMORY", "URL", "PORTS", "BACKUP"]
    assert "https://metrics.home.arpa/" in every[1] and "enabled-but-stopped" in every[2]


def test_backup_cell_after_a_failed_attempt() -> None:
    ago = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    rows = [
        _row("first", None, None, backup_failed=True),  # its only attempt failed
        _row("later", None, None, backup_failed=True, last_backup=ago),
    ]
    console = Console(width=250, record=True, color_system=None)
    console.print(status_table(rows, backups_known=True))
    lines = {line.split()[0]: line for line in console.export_text().splitlines()[1:] if line}
    assert lines["first"].rstrip().endswith("failed (never ok)")
    assert lines["later"].rstrip().endswith("failed, ok 3h ago")
