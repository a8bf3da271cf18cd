"""The Engine API through the docker SDK: one lazily created client, tolerant parsing.

Everything Docker answers is read with `.get()` into small frozen dataclasses, so any
daemon version parses; fields a daemon does not send come back empty. Errors from the SDK
become EngineUnavailable (nothing answers) or OperationFailed (the engine said no), each
with a hint. Import this module only inside commands that need it: the SDK is slow to load.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors

from ..errors import EngineUnavailable, OperationFailed

ENGINE_HINT = (
    "Start the Docker engine (`systemctl start docker`, or run `dockerd` as root), check "
    "DOCKER_HOST, and that your user may use the socket (member of the `docker` group)."
)
MANAGED_LABEL = "org.homestack.managed"
SITE_LABEL = "org.homestack.site"
PING_TIMEOUT = 15

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
                made = docker.from_env(timeout=120, max_pool_size=64)  # concurrent status calls
                made.api.timeout = PING_TIMEOUT  # a hung socket fails fast, not in 2 min
                made.ping()
                made.api.timeout = 120
            except docker.errors.DockerException as exc:
                raise EngineUnavailable(
                    f"no Docker engine answers at {engine_address()}: {_short(exc)}", ENGINE_HINT
                ) from None
            except OSError as exc:  # a socket that refuses before the SDK wraps it
                raise EngineUnavailable(
                    f"no Docker engine answers at {engine_address()}: {exc}", ENGINE_HINT
                ) from None
            _client = made
        return _client


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


@contextlib.contextmanager
def engine_errors(what: str, hint: str | None = None) -> Iterator[None]:
    """Turn SDK exceptions raised while doing `what` into homestack errors."""
    try:
        yield
    except docker.errors.APIError as exc:
        raise OperationFailed(
            f"Docker refused to {what}: {_short(exc)}", hint or "See `docker info` and the log."
        ) from None
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(f"cannot {what}: {_short(exc)}", ENGINE_HINT) from None
    except OSError as exc:
        raise EngineUnavailable(f"cannot {what}: {exc}", ENGINE_HINT) from None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in _dict(value).items()}


def _inspect(kind: str, name: str) -> dict[str, Any] | None:
    """`inspect_{kind}` (volume, container, image); None when it does not exist."""
    with engine_errors(f"inspect {kind} {name}"):
        try:
            return _dict(getattr(client().api, f"inspect_{kind}")(name))
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
        return [NetworkInfo.parse(_dict(raw)) for raw in client().api.networks()]


def get_network(name: str) -> NetworkInfo | None:
    """The network with exactly this name (never an id prefix or substring match)."""
    for network in list_networks():
        if network.name == name:
            with engine_errors(f"inspect network {name}"):
                try:
                    return NetworkInfo.parse(_dict(client().api.inspect_network(network.id)))
                except docker.errors.NotFound:
                    return None
    return None


def create_network(
    name: str,
    driver: str = "bridge",
    *,
    subnet: str | None = None,
    gateway: str | None = None,
    ip_range: str | None = None,
    options: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    internal: bool = False,
) -> NetworkInfo:
    from docker.types import IPAMConfig, IPAMPool

    ipam = None
    if subnet:
        ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=subnet, gateway=gateway, iprange=ip_range)])
    with engine_errors(
        f"create network {name}",
        "Check the network settings in .env; `docker network ls` shows what exists.",
    ):
        made = client().api.create_network(
            name,
            driver=driver,
            options=dict(options or {}),
            ipam=ipam,
            labels=dict(labels or {}),
            internal=internal,
            check_duplicate=True,
        )
        return NetworkInfo.parse(_dict(client().api.inspect_network(_dict(made).get("Id"))))


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
        answer = _dict(client().api.volumes())
    found = [VolumeInfo.parse(_dict(raw)) for raw in _list(answer.get("Volumes"))]
    return [v for v in found if v.name.startswith(prefix)]


# ---- containers --------------------------------------------------------------------------
@dataclass(frozen=True)
class ContainerInfo:
    id: str
    name: str
    image: str = ""
    state: str = ""  # created, running, exited, …
    health: str | None = None  # starting, healthy, unhealthy; None without a healthcheck
    exit_code: int | None = None
    labels: dict[str, str] = field(default_factory=dict)
    networks: dict[str, str] = field(default_factory=dict)  # network name → IPv4 address
    env_names: tuple[str, ...] = ()  # variable names only: values may be sensitive

    @property
    def project(self) -> str | None:
        return self.labels.get("com.docker.compose.project")

    @property
    def service(self) -> str | None:
        return self.labels.get("com.docker.compose.service")

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> ContainerInfo:
        """Parse either a `docker inspect` document or a `docker ps` (list) row."""
        state_raw = raw.get("State")
        state = _dict(state_raw)
        if isinstance(state_raw, str):  # a list row
            status = state_raw
            health = None
            text = str(raw.get("Status") or "")
            for word in ("healthy", "unhealthy", "starting"):
                if f"({word})" in text or f"(health: {word})" in text:
                    health = word
        else:
            status = str(state.get("Status") or "")
            health = _dict(state.get("Health")).get("Status") or None
        names = raw.get("Names")
        name = str(raw.get("Name") or (names[0] if isinstance(names, list) and names else ""))
        config = _dict(raw.get("Config"))
        settings = _dict(_dict(raw.get("NetworkSettings")).get("Networks"))
        exit_code = state.get("ExitCode")
        return cls(
            id=str(raw.get("Id") or ""),
            name=name.lstrip("/"),
            image=str(config.get("Image") or raw.get("Image") or ""),
            state=status,
            health=str(health) if health else None,
            exit_code=int(exit_code) if isinstance(exit_code, int) else None,
            labels=_str_map(config.get("Labels") if config else raw.get("Labels")),
            networks={str(k): str(_dict(v).get("IPAddress") or "") for k, v in settings.items()},
            env_names=tuple(str(e).split("=", 1)[0] for e in _list(config.get("Env"))),
        )


def list_containers(
    *, labels: Mapping[str, str | None] | None = None, include_stopped: bool = True
) -> list[ContainerInfo]:
    """Containers carrying every given label (value None: any value)."""
    wanted = [k if v is None else f"{k}={v}" for k, v in (labels or {}).items()]
    with engine_errors("list containers"):
        rows = client().api.containers(
            all=include_stopped, filters={"label": wanted} if wanted else None
        )
    return [ContainerInfo.parse(_dict(row)) for row in _list(rows)]


def inspect_container(name_or_id: str) -> ContainerInfo | None:
    raw = inspect_container_raw(name_or_id)
    return ContainerInfo.parse(raw) if raw is not None else None


def inspect_container_raw(name_or_id: str) -> dict[str, Any] | None:
    return _inspect("container", name_or_id)


def published_ports() -> dict[tuple[str, int], set[tuple[str, str]]]:
    """(protocol, host port) → {(compose project, service)} of running containers' ports."""
    with engine_errors("list containers"):
        rows = client().api.containers()
    held: dict[tuple[str, int], set[tuple[str, str]]] = {}
    for row in _list(rows):
        labels = _str_map(_dict(row).get("Labels"))
        owner = (
            labels.get("com.docker.compose.project", ""),
            labels.get("com.docker.compose.service", ""),
        )
        for port in _list(_dict(row).get("Ports")):
            public = _dict(port).get("PublicPort")
            if isinstance(public, int):
                held.setdefault((str(_dict(port).get("Type") or "tcp"), public), set()).add(owner)
    return held


def start_container(name_or_id: str) -> None:
    with engine_errors(f"start container {name_or_id}"):
        client().api.start(name_or_id)


def container_events(events: list[str]) -> Any:
    """A decoded stream of these container events (close() it to stop reading)."""
    with engine_errors("follow container events"):
        return client().api.events(decode=True, filters={"type": "container", "event": events})


def container_logs(name_or_id: str, tail: int = 20) -> str:
    with engine_errors(f"read the logs of {name_or_id}"):
        try:
            data = client().api.logs(name_or_id, stdout=True, stderr=True, tail=tail)
        except docker.errors.NotFound:
            return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)


def image_id(image: str) -> str | None:
    """The local id of an image name (None when this machine does not have it)."""
    raw = _inspect("image", image)
    return (str(raw.get("Id") or "") or None) if raw is not None else None
