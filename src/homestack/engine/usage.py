"""CPU and memory of running containers as `docker stats` reports them, from two sources.

The Engine API's stats endpoint answers on the daemon's collector tick (once a second) and
needs two ticks for a CPU percentage; that is why `docker stats --no-stream` takes 2-3 s.
When the engine runs on this host (its containers' processes are visible in /proc), the same
counters the daemon reads are read directly from each container's cgroup, twice, a short
interval apart: same numbers, no tick to wait for. This module only computes; the engine is
asked through engine.docker, whose `usage_many` tries the cgroups first and falls back to
concurrent stats calls (`HOMESTACK_STATS=api` forces those).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CGROUP_ROOT = Path("/sys/fs/cgroup")
SAMPLE_INTERVAL_S = 0.25  # between the two cgroup readings of a CPU percentage


@dataclass(frozen=True)
class Usage:
    cpu_percent: float | None  # of one core, like `docker stats`
    mem_used: int | None  # bytes, page cache left out, like `docker stats`
    mem_limit: int | None


def _host_memory() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class _Cgroup:
    """The cgroup files of one container process, v1 or v2."""

    def __init__(
        self, pid: int, cid: str, *, proc: Path = Path("/proc"), root: Path = CGROUP_ROOT
    ) -> None:
        self.cpu: Path | None = None
        self.memory: Path | None = None
        self.v2 = False
        unified: str | None = None
        for line in (proc / str(pid) / "cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if cid[:12] not in path:
                continue
            rel = path.lstrip("/")
            if controllers == "":
                unified = rel
            for name in controllers.split(","):
                if name == "cpuacct":
                    folder = root / controllers / rel
                    self.cpu = folder if folder.is_dir() else root / "cpuacct" / rel
                elif name == "memory":
                    self.memory = root / "memory" / rel
        # pure cgroup v2 only: a hybrid host's "0::" line points at the unused unified tree
        pure_v2 = (root / "cgroup.controllers").is_file()
        if (self.cpu is None or self.memory is None) and unified is not None and pure_v2:
            self.v2 = True
            self.cpu = self.memory = root / unified
        if self.cpu is None or self.memory is None:
            raise FileNotFoundError(f"no cgroup of {cid[:12]} under {root}")

    def cpu_ns(self) -> int:
        if self.cpu is None:
            raise FileNotFoundError("no cpu cgroup")
        if self.v2:
            for line in (self.cpu / "cpu.stat").read_text().splitlines():
                if line.startswith("usage_usec"):
                    return int(line.split()[1]) * 1000
            raise FileNotFoundError("cpu.stat has no usage_usec")
        return int((self.cpu / "cpuacct.usage").read_text())

    def memory_usage(self, host_memory: int | None) -> tuple[int, int | None]:
        if self.memory is None:
            raise FileNotFoundError("no memory cgroup")
        stats: dict[str, int] = {}
        stat_file = self.memory / "memory.stat"
        for line in stat_file.read_text().splitlines():
            key, _, value = line.partition(" ")
            if value.isdigit():
                stats[key] = int(value)
        if self.v2:
            used = int((self.memory / "memory.current").read_text())
            inactive = stats.get("inactive_file", 0)
            raw_limit = (self.memory / "memory.max").read_text().strip()
            limit = None if raw_limit == "max" else int(raw_limit)
        else:
            used = int((self.memory / "memory.usage_in_bytes").read_text())
            inactive = stats.get("total_inactive_file", 0)
            limit = int((self.memory / "memory.limit_in_bytes").read_text())
        if inactive < used:
            used -= inactive
        if host_memory and (limit is None or limit > host_memory):
            limit = host_memory
        return used, limit


def cgroup_usage(pids: dict[str, int], interval: float) -> dict[str, Usage] | None:
    """Usage of running containers read from their cgroups; None when they are not local.

    A container that stops while it is read is left out (it has no usage any more).
    """
    host_memory = _host_memory()
    first: dict[str, tuple[_Cgroup, int, int]] = {}
    for cid, pid in pids.items():
        try:
            group = _Cgroup(pid, cid)
            first[cid] = (group, time.monotonic_ns(), group.cpu_ns())
        except (OSError, ValueError, IndexError):
            continue
    if not first:
        return None  # not one container's cgroup is visible: the engine is not local
    time.sleep(interval)
    out: dict[str, Usage] = {}
    for cid, (group, then, cpu_then) in first.items():
        try:
            now, cpu = time.monotonic_ns(), group.cpu_ns()
            used, limit = group.memory_usage(host_memory)
        except (OSError, ValueError):
            continue  # stopped in between
        wall = now - then
        percent = max(0.0, (cpu - cpu_then) / wall * 100) if wall > 0 else None
        out[cid] = Usage(percent, used, limit)
    return out


def usage_from_stats(stats: dict[str, Any]) -> Usage:
    """CPU % and memory from one Engine API stats object, as the docker CLI computes them."""
    cpu, pre = stats.get("cpu_stats") or {}, stats.get("precpu_stats") or {}
    percent: float | None = None
    cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (
        pre.get("cpu_usage") or {}
    ).get("total_usage", 0)
    system_delta = (cpu.get("system_cpu_usage") or 0) - (pre.get("system_cpu_usage") or 0)
    if pre.get("system_cpu_usage") and system_delta > 0:
        cpus = cpu.get("online_cpus") or len(
            (cpu.get("cpu_usage") or {}).get("percpu_usage") or [1]
        )
        percent = max(0.0, cpu_delta / system_delta * cpus * 100)
    memory = stats.get("memory_stats") or {}
    used = memory.get("usage")
    extra = memory.get("stats") or {}
    inactive = extra.get("total_inactive_file", extra.get("inactive_file"))
    if used is not None and inactive is not None and inactive < used:
        used -= inactive
    return Usage(percent, used, memory.get("limit"))
