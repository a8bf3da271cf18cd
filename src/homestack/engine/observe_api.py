"""Engine API calls for status, top, logs and doctor (docker SDK, low-level APIClient).

Everything here reads: one container list filtered by Compose's project label, inspects and
resource usage fetched concurrently, log streams, network inspects, and one short-lived probe
container for doctor's network checks. No subprocess per container.

Resource usage comes from the Engine API's stats endpoint, which answers on the daemon's
collector tick (once a second) and needs two ticks for a CPU percentage — that is why
`docker stats --no-stream` takes 2-3 s. When the engine runs on this host (its containers'
processes are visible in /proc), the same counters the daemon reads are read directly from
each container's cgroup, twice, a quarter of a second apart: same numbers, no tick to wait for.
`HOMESTACK_STATS=api` forces the Engine API path.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EngineUnavailable

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
ONEOFF_LABEL = "com.docker.compose.oneoff"
PROBE_LABEL = "homestack.probe"
SAMPLE_INTERVAL_S = 0.25
CGROUP_ROOT = Path("/sys/fs/cgroup")
_POOL = 64  # the shared client's connection pool (engine.docker.client)
_INSPECT_WORKERS = 16  # inspects answer in a millisecond; more threads only cost CPU


def api_client() -> Any:
    """The low-level client of the one shared docker SDK client (engine.docker.client).

    Raises EngineUnavailable (with the fix) when no engine answers.
    """
    from .docker import client

    return client().api


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one API call, turning a vanished engine into EngineUnavailable."""
    import docker.errors
    import requests

    from .docker import ENGINE_HINT, engine_address

    try:
        return fn(*args, **kwargs)
    except (requests.exceptions.ConnectionError, docker.errors.DockerException) as exc:
        if isinstance(exc, docker.errors.APIError):
            raise
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EngineUnavailable(
            f"the Docker engine at {engine_address()} stopped answering: {reason}", ENGINE_HINT
        ) from None


# ---- containers ---------------------------------------------------------------------------


def project_containers(api: Any, projects: set[str]) -> list[dict[str, Any]]:
    """Every container (any state) of these compose projects, one-off runs left out."""
    listed = call(api.containers, all=True, filters={"label": PROJECT_LABEL})
    out = []
    for summary in listed:
        labels = summary.get("Labels") or {}
        if labels.get(PROJECT_LABEL) in projects and labels.get(ONEOFF_LABEL) != "True":
            out.append(summary)
    return out


def running_containers(api: Any) -> list[dict[str, Any]]:
    """The list rows of every running container."""
    rows: list[dict[str, Any]] = call(api.containers)
    return rows


def inspect_many(api: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Inspect containers concurrently; ones that vanished meanwhile are left out."""
    import docker.errors

    def one(cid: str) -> tuple[str, dict[str, Any] | None]:
        try:
            return cid, call(api.inspect_container, cid)
        except docker.errors.NotFound:
            return cid, None

    if not ids:
        return {}
    with ThreadPoolExecutor(max_workers=min(_INSPECT_WORKERS, len(ids))) as pool:
        return {cid: info for cid, info in pool.map(one, ids) if info is not None}


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


def _cgroup_usage(pids: dict[str, int], interval: float) -> dict[str, Usage] | None:
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


def _api_usage_one(api: Any, cid: str) -> Usage | None:
    import docker.errors

    try:
        stats = call(api.stats, cid, stream=False)
    except docker.errors.APIError:
        return None
    return usage_from_stats(stats)


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


def usage_many(
    api: Any, pids: dict[str, int], interval: float = SAMPLE_INTERVAL_S
) -> dict[str, Usage]:
    """CPU and memory of running containers (container id → its main pid), concurrently."""
    if not pids:
        return {}
    if os.environ.get("HOMESTACK_STATS", "").lower() != "api":
        local = _cgroup_usage(pids, interval)
        if local is not None:
            return local
    with ThreadPoolExecutor(max_workers=min(_POOL, len(pids))) as pool:
        results = pool.map(lambda cid: (cid, _api_usage_one(api, cid)), list(pids))
        return {cid: usage for cid, usage in results if usage is not None}


# ---- logs ---------------------------------------------------------------------------------


def log_stream(
    api: Any,
    cid: str,
    *,
    stream: str,
    follow: bool,
    since: float | None = None,
    tail: int | None = None,
) -> Iterator[str]:
    """Lines of one container's stdout or stderr, each starting with Docker's timestamp."""
    kwargs: dict[str, Any] = {
        "stdout": stream == "stdout",
        "stderr": stream == "stderr",
        "stream": True,
        "follow": follow,
        "timestamps": True,
    }
    if since:
        kwargs["since"] = since
    if tail is not None:
        kwargs["tail"] = tail
    chunks = call(api.logs, cid, **kwargs)
    pending = b""
    try:
        for chunk in chunks:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line.decode("utf-8", "replace").rstrip("\r")
    except Exception as exc:  # the connection dropped: the container went away
        import requests

        if not isinstance(exc, (requests.exceptions.RequestException, OSError)):
            raise
    if pending:
        yield pending.decode("utf-8", "replace").rstrip("\r")


# ---- networks and probes ------------------------------------------------------------------


def engine_version(api: Any) -> dict[str, Any]:
    version: dict[str, Any] = call(api.version)
    return version


def network(api: Any, name: str) -> dict[str, Any] | None:
    import docker.errors

    try:
        found: dict[str, Any] = call(api.inspect_network, name)
    except docker.errors.NotFound:
        return None
    return found


def run_probe(
    api: Any, image: str, network_name: str, script: str, *, name: str, timeout: float = 20
) -> tuple[int, str]:
    """Run `sh -c script` in a throwaway container on one network; (exit code, output)."""
    container = call(
        api.create_container,
        image,
        command=["sh", "-c", script],
        name=name,
        labels={PROBE_LABEL: "1"},
        host_config=api.create_host_config(network_mode=network_name),
    )
    cid = container["Id"]
    try:
        call(api.start, cid)
        result = call(api.wait, cid, timeout=timeout)
        output = call(api.logs, cid, stdout=True, stderr=True)
        return int(result.get("StatusCode", 1)), output.decode("utf-8", "replace")
    finally:
        import contextlib

        with contextlib.suppress(Exception):
            api.remove_container(cid, force=True)
