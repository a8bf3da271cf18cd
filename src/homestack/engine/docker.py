"""The Engine API through the docker SDK: the one client every command uses.

One lazily created, pinged client per process (`client()`; its low-level `api_client()`).
Deploy and lint read the engine through typed views: everything Docker answers is read
with `.get()` into small frozen dataclasses, so any daemon version parses; fields a daemon
does not send come back empty. Observe (status, top, logs, doctor) reads Docker's own dicts
through the same client: one container list filtered by Compose's project label, inspects
and resource usage fetched concurrently, log streams, and a short-lived probe container.
No subprocess per container.

Errors: `engine_errors` turns SDK exceptions into EngineUnavailable (nothing answers) or
OperationFailed (the engine said no), each with a hint; `call` makes the same
EngineUnavailable of a lost engine but lets Docker's refusals (NotFound …) reach the caller.
Import this module only inside commands that need it: the SDK is slow to load.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors
import requests

from ..errors import EngineUnavailable, OperationFailed
from . import model
from .model import Container
from .model import as_dict as _dict
from .model import as_list as _list
from .model import str_map as _str_map
from .params import BRIDGE, LogParams, NetworkParams
from .usage import SAMPLE_INTERVAL_S, Usage, cgroup_usage, usage_from_stats

ENGINE_HINT = (
    "Start the Docker engine (`systemctl start docker`, or run `dockerd` as root), check "
    "DOCKER_HOST, and that your user may use the socket (member of the `docker` group)."
)
# Compose's labels (engine.model defines them), here too for the callers of this module
PROJECT_LABEL = model.PROJECT_LABEL
SERVICE_LABEL = model.SERVICE_LABEL
ONEOFF_LABEL = model.ONEOFF_LABEL
MANAGED_LABEL = model.MANAGED_LABEL
SITE_LABEL = model.SITE_LABEL
PROBE_LABEL = "homestack.probe"
PING_TIMEOUT = 15
POOL_SIZE = 64  # connections: status asks for many containers' stats at once
_INSPECT_WORKERS = 16  # inspects answer in a millisecond; more threads only cost CPU

_lock = threading.Lock()
_client: Any = None


def engine_address() -> str:
    """Where the engine is asked (DOCKER_HOST, else the default socket)."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def client() -> Any:
    """The shared docker SDK client, created and pinged on first use."""
    global _client  # noqa: PLW0603 - one client per process, created lazily
    with _lock:
        if _client is None:
            try:
                made = docker.from_env(timeout=120, max_pool_size=POOL_SIZE)
                made.api.timeout = PING_TIMEOUT  # a hung socket fails fast, not in 2 min
                made.ping()
                made.api.timeout = 120
            except (docker.errors.DockerException, OSError) as exc:
                # OSError: a socket that refuses before the SDK wraps it
                raise _unavailable(f"no Docker engine answers at {engine_address()}", exc) from None
            _client = made
        return _client


def api_client() -> Any:
    """The low-level APIClient of the shared client (EngineUnavailable when none answers)."""
    return client().api


def _api(api: Any) -> Any:
    """The low-level client a caller holds, else the shared one's."""
    return api if api is not None else api_client()


def reset_client() -> None:
    """Forget the client (tests that change DOCKER_HOST; after a fork)."""
    global _client  # noqa: PLW0603
    with _lock:
        if _client is not None:
            with contextlib.suppress(Exception):
                _client.close()
        _client = None


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "explanation", None) or exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _denied(exc: BaseException) -> bool:
    """The socket answered "permission denied": the engine runs, this user may not use it."""
    seen: BaseException | None = exc
    for _ in range(6):  # the SDK wraps requests' error, which wraps the socket's
        if seen is None:
            break
        if isinstance(seen, PermissionError) or "permission denied" in str(seen).lower():
            return True
        seen = (
            seen.__cause__
            or seen.__context__
            or (seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None)
        )
    return False


def _unavailable(what: str, exc: BaseException) -> EngineUnavailable:
    if _denied(exc):
        user = os.environ.get("USER") or str(os.getuid())
        return EngineUnavailable(
            f"{what}: permission denied: user {user} may not use the Docker engine at "
            f"{engine_address()}",
            f"Add the user to the `docker` group (`sudo usermod -aG docker {user}`, then log "
            "out and in again), or run homestack as root (sudo). The engine itself runs.",
        )
    return EngineUnavailable(f"{what}: {_short(exc)}", ENGINE_HINT)


@contextlib.contextmanager
def engine_errors(what: str, hint: str | None = None) -> Iterator[None]:
    """Turn SDK exceptions raised while doing `what` into homestack errors."""
    try:
        yield
    except docker.errors.APIError as exc:
        raise OperationFailed(
            f"Docker refused to {what}: {_short(exc)}", hint or "See `docker info` and the log."
        ) from None
    except (docker.errors.DockerException, OSError) as exc:
        raise _unavailable(f"cannot {what}", exc) from None


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """One API call: a vanished engine becomes EngineUnavailable, Docker's refusals pass."""
    try:
        return fn(*args, **kwargs)
    except docker.errors.APIError:
        raise
    except (requests.exceptions.ConnectionError, docker.errors.DockerException) as exc:
        raise _unavailable(
            f"the Docker engine at {engine_address()} stopped answering", exc
        ) from None


def _inspect(kind: str, name: str, api: Any = None) -> dict[str, Any] | None:
    """`inspect_{kind}` (volume, container, image, network); None when it does not exist."""
    with engine_errors(f"inspect {kind} {name}"):
        try:
            return _dict(getattr(_api(api), f"inspect_{kind}")(name))
        except docker.errors.NotFound:
            return None


# ---- networks ----------------------------------------------------------------------------
@dataclass(frozen=True)
class IpamPool:
    subnet: str | None = None
    gateway: str | None = None
    ip_range: str | None = None


@dataclass(frozen=True)
class NetworkInfo:
    id: str
    name: str
    driver: str
    scope: str = ""
    internal: bool = False
    pools: tuple[IpamPool, ...] = ()
    options: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    containers: tuple[str, ...] = ()  # names (or ids) of attached containers, when known

    @property
    def subnets(self) -> list[str]:
        return [p.subnet for p in self.pools if p.subnet]

    @property
    def parent(self) -> str | None:
        return self.options.get("parent")

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> NetworkInfo:
        ipam = _dict(raw.get("IPAM"))
        pools = tuple(
            IpamPool(
                subnet=_dict(item).get("Subnet") or None,
                gateway=_dict(item).get("Gateway") or None,
                ip_range=_dict(item).get("IPRange") or None,
            )
            for item in _list(ipam.get("Config"))
        )
        attached = _dict(raw.get("Containers"))
        return cls(
            id=str(raw.get("Id") or raw.get("ID") or ""),
            name=str(raw.get("Name") or ""),
            driver=str(raw.get("Driver") or ""),
            scope=str(raw.get("Scope") or ""),
            internal=bool(raw.get("Internal")),
            pools=pools,
            options=_str_map(raw.get("Options")),
            labels=_str_map(raw.get("Labels")),
            containers=tuple(str(_dict(v).get("Name") or k) for k, v in attached.items()),
        )


def list_networks() -> list[NetworkInfo]:
    with engine_errors("list networks"):
        return [NetworkInfo.parse(_dict(raw)) for raw in api_client().networks()]


def get_network(name: str) -> NetworkInfo | None:
    """The network with exactly this name (never an id prefix match): one inspect."""
    with engine_errors(f"inspect network {name}"):
        api = api_client()
        try:
            raw = _dict(api.inspect_network(name))
        except docker.errors.NotFound:
            return None
        except docker.errors.APIError:  # ambiguous: several networks have this name
            same = [n for n in _list(api.networks(names=[name])) if _dict(n).get("Name") == name]
            if not same:
                raise
            raw = _dict(api.inspect_network(_dict(same[0]).get("Id")))
    # the engine also answers to an id prefix; only the exact name counts
    return NetworkInfo.parse(raw) if raw.get("Name") == name else None


def create_network(name: str, params: NetworkParams = BRIDGE) -> NetworkInfo:
    from docker.types import IPAMConfig, IPAMPool

    ipam = None
    if params.subnet:
        pool = IPAMPool(subnet=params.subnet, gateway=params.gateway, iprange=params.ip_range)
        ipam = IPAMConfig(pool_configs=[pool])
    with engine_errors(
        f"create network {name}",
        "Check the network settings in .env; `docker network ls` shows what exists.",
    ):
        made = api_client().create_network(
            name,
            driver=params.driver,
            options=dict(params.options or {}),
            ipam=ipam,
            labels=dict(params.labels or {}),
            internal=params.internal,
            check_duplicate=True,
        )
        return NetworkInfo.parse(_dict(api_client().inspect_network(_dict(made).get("Id"))))


def remove_network(name: str) -> bool:
    """Remove the network with exactly this name (False: there was none)."""
    found = get_network(name)
    if found is None:
        return False
    with engine_errors(
        f"remove network {name}", "Stop or disconnect the containers attached to it first."
    ):
        api_client().remove_network(found.id)
    return True


# ---- volumes -----------------------------------------------------------------------------
@dataclass(frozen=True)
class VolumeInfo:
    name: str
    driver: str
    mountpoint: str = ""
    options: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def bind_device(self) -> str | None:
        """The host folder of a `local` volume bind-mounted with type none, o bind."""
        opts = self.options
        if self.driver == "local" and "bind" in opts.get("o", "").split(","):
            return opts.get("device") or None
        return None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> VolumeInfo:
        return cls(
            name=str(raw.get("Name") or ""),
            driver=str(raw.get("Driver") or ""),
            mountpoint=str(raw.get("Mountpoint") or ""),
            options=_str_map(raw.get("Options")),
            labels=_str_map(raw.get("Labels")),
        )


def get_volume(name: str) -> VolumeInfo | None:
    raw = _inspect("volume", name)
    return VolumeInfo.parse(raw) if raw is not None else None


def list_volumes(prefix: str = "") -> list[VolumeInfo]:
    with engine_errors("list volumes"):
        answer = _dict(api_client().volumes())
    found = [VolumeInfo.parse(_dict(raw)) for raw in _list(answer.get("Volumes"))]
    return [v for v in found if v.name.startswith(prefix)]


def create_volume(
    name: str,
    driver: str = "local",
    *,
    options: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> VolumeInfo:
    with engine_errors(f"create volume {name}"):
        made = api_client().create_volume(
            name, driver=driver, driver_opts=dict(options or {}), labels=dict(labels or {})
        )
    return VolumeInfo.parse(_dict(made))


def remove_volume(name: str) -> bool:
    """Remove a volume (False: there was none); the engine refuses one a container uses."""
    with engine_errors(
        f"remove volume {name}", "Remove the containers that use it first (`homestack down`)."
    ):
        try:
            api_client().remove_volume(name)
        except docker.errors.NotFound:
            return False
    return True


# ---- containers ----------------------------------------------------------------------------
def _container_rows(
    api: Any, *, labels: list[str] | None = None, include_stopped: bool = True
) -> list[dict[str, Any]]:
    """`docker ps` rows (Docker's own dicts) of containers carrying every label filter."""
    with engine_errors("list containers"):
        rows = api.containers(all=include_stopped, filters={"label": labels} if labels else None)
    return [_dict(row) for row in _list(rows)]


def list_containers(
    *, labels: Mapping[str, str | None] | None = None, include_stopped: bool = True
) -> list[Container]:
    """Containers carrying every given label (value None: any value)."""
    wanted = [k if v is None else f"{k}={v}" for k, v in (labels or {}).items()]
    rows = _container_rows(api_client(), labels=wanted, include_stopped=include_stopped)
    return [Container.parse(row) for row in rows]


def project_containers(api: Any, projects: set[str]) -> list[dict[str, Any]]:
    """The rows of every container (any state) of these compose projects, one-offs left out."""
    return [
        row
        for row in _container_rows(api, labels=[PROJECT_LABEL])
        if _dict(row.get("Labels")).get(PROJECT_LABEL) in projects
        and _dict(row.get("Labels")).get(ONEOFF_LABEL) != "True"
    ]


def containers_of(api: Any, projects: set[str]) -> list[Container]:
    """project_containers, each read into the one model."""
    return [Container.parse(row) for row in project_containers(api, projects)]


def inspect_containers(api: Any, ids: list[str]) -> dict[str, Container]:
    """inspect_many, each read into the one model (with its mounts, pid, health log)."""
    return {cid: Container.parse(raw) for cid, raw in inspect_many(api, ids).items()}


def _row_name(row: Mapping[str, Any]) -> str:
    """A `docker ps` row's container name, without Docker's leading slash."""
    names = _list(row.get("Names"))
    return str(names[0] if names else "/?").lstrip("/")


def port_holders(api: Any = None) -> dict[tuple[str, int], list[tuple[str, str, str]]]:
    """(protocol, host port) → [(compose project, service, container)] of running containers."""
    held: dict[tuple[str, int], list[tuple[str, str, str]]] = {}
    for row in _container_rows(_api(api), include_stopped=False):
        labels = _str_map(row.get("Labels"))
        owner = (labels.get(PROJECT_LABEL, ""), labels.get(SERVICE_LABEL, ""), _row_name(row))
        for port in _list(row.get("Ports")):
            public = _dict(port).get("PublicPort")
            if isinstance(public, int) and public:
                held.setdefault((str(_dict(port).get("Type") or "tcp"), public), []).append(owner)
    return held


def inspect_container(name_or_id: str) -> Container | None:
    raw = inspect_container_raw(name_or_id)
    return Container.parse(raw) if raw is not None else None


def inspect_container_raw(name_or_id: str, api: Any = None) -> dict[str, Any] | None:
    return _inspect("container", name_or_id, api)


def inspect_many(api: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Inspect containers concurrently; ones that vanished meanwhile are left out."""
    if not ids:
        return {}
    with ThreadPoolExecutor(max_workers=min(_INSPECT_WORKERS, len(ids))) as pool:
        found = pool.map(lambda cid: (cid, inspect_container_raw(cid, api)), ids)
        return {cid: info for cid, info in found if info is not None}


def start_container(name_or_id: str) -> None:
    with engine_errors(f"start container {name_or_id}"):
        api_client().start(name_or_id)


def signal_container(name_or_id: str, signal: str) -> None:
    """Send `signal` (SIGHUP …) to a running container's main process."""
    with engine_errors(f"send {signal} to container {name_or_id}"):
        api_client().kill(name_or_id, signal=signal)


def container_events(events: list[str]) -> Any:
    """A decoded stream of these container events (close() it to stop reading)."""
    with engine_errors("follow container events"):
        return api_client().events(decode=True, filters={"type": "container", "event": events})


def image_id(image: str) -> str | None:
    """The local id of an image name (None when this machine does not have it)."""
    raw = _inspect("image", image)
    return (str(raw.get("Id") or "") or None) if raw is not None else None


def repo_digests_by_tag() -> dict[str, list[str]]:
    """`repo:tag` → its `repo@sha256:…` names, for every local image (one API call)."""
    with engine_errors("list images"):
        rows = _list(api_client().images())
    found: dict[str, list[str]] = {}
    for row in rows:
        raw = _dict(row)
        digests = [str(d) for d in _list(raw.get("RepoDigests"))]
        for tag in _list(raw.get("RepoTags")):
            found[str(tag)] = digests
    return found


def image_repo_digests(image: str) -> list[str]:
    """`repo@sha256:…` names the local image was pulled or pushed as (empty: not here)."""
    raw = _inspect("image", image)
    return [str(d) for d in _list(raw.get("RepoDigests"))] if raw is not None else []


# ---- logs, probes, version -------------------------------------------------------------
def container_logs(name_or_id: str, tail: int = 20) -> str:
    """The last lines of a container's stdout and stderr together ("" when it is gone)."""
    with engine_errors(f"read the logs of {name_or_id}"):
        try:
            data = api_client().logs(name_or_id, stdout=True, stderr=True, tail=tail)
        except docker.errors.NotFound:
            return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)


def log_stream(api: Any, cid: str, params: LogParams) -> Iterator[str]:
    """Lines of one container's stdout or stderr, each starting with Docker's timestamp."""
    kwargs: dict[str, Any] = {
        "stdout": params.stream == "stdout",
        "stderr": params.stream == "stderr",
        "stream": True,
        "follow": params.follow,
        "timestamps": True,
    }
    if params.since:
        kwargs["since"] = params.since
    if params.tail is not None:
        kwargs["tail"] = params.tail
    chunks = call(api.logs, cid, **kwargs)
    pending = b""
    try:
        for chunk in chunks:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line.decode("utf-8", "replace").rstrip("\r")
    except (requests.exceptions.RequestException, OSError):
        pass  # the connection dropped: the container went away
    if pending:
        yield pending.decode("utf-8", "replace").rstrip("\r")


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
        with contextlib.suppress(Exception):
            api.remove_container(cid, force=True)


def engine_version(api: Any = None) -> dict[str, Any]:
    """`docker version`'s server part: Version, ApiVersion, Os, Arch …"""
    return _dict(call(_api(api).version))


# ---- resource usage ----------------------------------------------------------------------
def _stats_usage(api: Any, cid: str) -> Usage | None:
    try:
        return usage_from_stats(_dict(call(api.stats, cid, stream=False)))
    except docker.errors.APIError:
        return None


def usage_many(
    api: Any, pids: dict[str, int], interval: float = SAMPLE_INTERVAL_S
) -> dict[str, Usage]:
    """CPU and memory of running containers (container id → its main pid), concurrently.

    From their cgroups when the engine is local (engine.usage), else one stats call each.
    """
    if not pids:
        return {}
    if os.environ.get("HOMESTACK_STATS", "").lower() != "api":
        local = cgroup_usage(pids, interval)
        if local is not None:
            return local
    with ThreadPoolExecutor(max_workers=min(POOL_SIZE, len(pids))) as pool:
        results = pool.map(lambda cid: (cid, _stats_usage(api, cid)), list(pids))
        return {cid: usage for cid, usage in results if usage is not None}
