"""Reading a container's usage from its cgroup, on recorded file trees (v1 hybrid, v2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from homestack.engine.usage import _Cgroup

CID = "e91e36cbd3a2820c2ca3079b11ef80c6a13c7eb3d53370900a2b349c37cb53ae"
# /proc/PID/cgroup recorded on this Debian 12 host: cgroupfs driver, v1 with a unified line
RECORDED_V1_HYBRID = "".join(
    f"{n}:{c}:/docker/{CID}\n"
    for n, c in [
        (9, "name=systemd"),
        (8, "pids"),
        (4, "memory"),
        (2, "cpuacct"),
        (1, "cpu"),
        (0, ""),
    ]
)
RECORDED_V2_SYSTEMD = f"0::/system.slice/docker-{CID}.scope\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_v1_hybrid_reads_cpuacct_and_memory_recorded(tmp_path: Path) -> None:
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    _write(proc / "42" / "cgroup", RECORDED_V1_HYBRID)
    (root / "unified").mkdir(parents=True)  # present on hybrid hosts, not used
    _write(root / "cpuacct" / "docker" / CID / "cpuacct.usage", "70568069\n")
    memory = root / "memory" / "docker" / CID
    _write(memory / "memory.usage_in_bytes", "700416\n")
    _write(memory / "memory.limit_in_bytes", "9223372036854771712\n")
    _write(memory / "memory.stat", "cache 8192\ntotal_inactive_file 100416\n")
    group = _Cgroup(42, CID, proc=proc, root=root)
    assert not group.v2
    assert group.cpu_ns() == 70568069
    # usage less inactive file pages; "unlimited" is capped at the host's memory
    assert group.memory_usage(host_memory=8 * 1024**3) == (600000, 8 * 1024**3)


def test_pure_v2_reads_cpu_stat_and_memory_current_recorded(tmp_path: Path) -> None:
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    _write(proc / "7" / "cgroup", RECORDED_V2_SYSTEMD)
    _write(root / "cgroup.controllers", "cpu memory pids\n")
    scope = root / "system.slice" / f"docker-{CID}.scope"
    _write(scope / "cpu.stat", "usage_usec 1500\nuser_usec 1000\n")
    _write(scope / "memory.current", "1000000\n")
    _write(scope / "memory.max", "524288000\n")
    _write(scope / "memory.stat", "anon 500000\ninactive_file 200000\n")
    group = _Cgroup(7, CID, proc=proc, root=root)
    assert group.v2
    assert group.cpu_ns() == 1_500_000
    assert group.memory_usage(host_memory=None) == (800000, 524288000)


def test_a_process_of_another_container_or_host_is_refused(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    _write(proc / "1" / "cgroup", "0::/init.scope\n")
    with pytest.raises(FileNotFoundError):
        _Cgroup(1, CID, proc=proc, root=tmp_path / "cgroup")
