"""What the engine tells about a container, in one tolerant model, and Compose's label names.

`Container.parse` reads any of the three shapes a container comes in: an Engine API inspect
document, an Engine API list row (`docker ps`), and a `docker compose ps --format json` row.
Every field is read with `.get()` and has an empty default, so any daemon or Compose version
parses; what one does not send comes back empty. No SDK import here: `ls`/`plan` may use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Compose's labels on every container it makes: defined here only (a test greps for them)
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
ONEOFF_LABEL = "com.docker.compose.oneoff"
HASH_LABEL = "com.docker.compose.config-hash"
IMAGE_LABEL = "com.docker.compose.image"
# homestack's own labels on what it creates (networks)
MANAGED_LABEL = "org.homestack.managed"
SITE_LABEL = "org.homestack.site"


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def str_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in as_dict(value).items()}


def text(mapping: Any, key: str) -> str:
    """`mapping[key]` as text: "" when the key is absent or null (not "None")."""
    value = as_dict(mapping).get(key)
    return "" if value is None else str(value)


def _label_text(text: str) -> dict[str, str]:
    """Compose ps's `Labels`: one string, `k=v,k=v` (values with commas are cut; the labels
    read here have none)."""
    out: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if sep and key:
            out[key] = value
    return out


def _list_row_health(status: str) -> str | None:
    for word in ("healthy", "unhealthy", "starting"):
        if f"({word})" in status or f"(health: {word})" in status:
            return word
    return None


@dataclass(frozen=True)
class Port:
    """A published port, as a list row reports it."""

    ip: str
    public: int
    private: int
    protocol: str = "tcp"

    @property
    def text(self) -> str:
        return f"{self.ip}:{self.public}->{self.private}/{self.protocol}"

    @classmethod
    def parse_all(cls, raw: Any) -> tuple[Port, ...]:
        out = []
        for item in as_list(raw):
            port = as_dict(item)
            public, private = port.get("PublicPort"), port.get("PrivatePort")
            if isinstance(public, int) and public:
                out.append(
                    cls(
                        str(port.get("IP") or ""),
                        public,
                        private if isinstance(private, int) else 0,
                        str(port.get("Type") or "tcp"),
                    )
                )
        return tuple(out)


@dataclass(frozen=True)
class Mount:
    """A bind or volume mount, as an inspect document reports it."""

    type: str  # bind, volume, tmpfs …
    source: str
    destination: str
    name: str = ""  # a volume's name

    @classmethod
    def parse_all(cls, raw: Any) -> tuple[Mount, ...]:
        return tuple(
            cls(
                str(m.get("Type") or ""),
                str(m.get("Source") or ""),
                str(m.get("Destination") or ""),
                str(m.get("Name") or ""),
            )
            for m in (as_dict(item) for item in as_list(raw))
        )


@dataclass(frozen=True)
class Container:
    """One container (or, from a SwarmBackend, one service's task) as the engine reports it.

    `health` is None without a health check; `exit_code` None when not known (list rows do
    not carry it); `exists` is False for the empty model a lookup returns when there is none.
    """

    id: str = ""
    name: str = ""
    image: str = ""
    state: str = ""  # created, running, paused, restarting, exited, dead
    health: str | None = None  # starting, healthy, unhealthy; None without a healthcheck
    exit_code: int | None = None
    started_at: str = ""
    restart_count: int | None = None  # None: not known (list rows do not carry it)
    pid: int = 0  # the main process on the host (0: not running, or not known)
    labels: dict[str, str] = field(default_factory=dict)
    networks: dict[str, str] = field(default_factory=dict)  # network name → IPv4 address
    env_names: tuple[str, ...] = ()  # variable names only: values may be sensitive
    health_log: tuple[str, ...] = ()  # the outputs of the last health probes, oldest first
    ports: tuple[Port, ...] = ()  # published ports (list rows carry them)
    mounts: tuple[Mount, ...] = ()  # (inspect documents carry them)

    @property
    def exists(self) -> bool:
        return bool(self.id or self.state)

    @property
    def running(self) -> bool:
        return self.state in ("running", "restarting")

    @property
    def paused(self) -> bool:
        return self.state == "paused"

    @property
    def project(self) -> str | None:
        return self.labels.get(PROJECT_LABEL)

    @property
    def service(self) -> str | None:
        return self.labels.get(SERVICE_LABEL)

    @property
    def oneoff(self) -> bool:
        """A `docker compose run` container: not the service itself."""
        return self.labels.get(ONEOFF_LABEL) == "True"

    def change_since(self, earlier: Container) -> str | None:
        """What happened to the container since `earlier`, in words; None: nothing.

        A backup compares it before and after the time it holds the service stopped, paused
        or dumping: a new id (recreated), a new start time or restart count (started again)
        or another state (killed, unpaused, started) means someone acted on it meanwhile."""
        if self.id != earlier.id:
            return f"was replaced by a new container ({self.id[:12]}, {self.state})"
        if self.started_at != earlier.started_at or self.restart_count != earlier.restart_count:
            return f"was started again ({self.state} now)"
        if self.state != earlier.state:
            return f"went from {earlier.state} to {self.state}"
        return None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Container:
        """An inspect document, an Engine API list row or a `compose ps` json row."""
        state_raw = raw.get("State")
        state = as_dict(state_raw)
        health_doc = as_dict(state.get("Health"))
        if isinstance(state_raw, str):  # a list row (engine or compose)
            status = state_raw.lower()
            health: str | None = str(raw.get("Health") or "").lower() or _list_row_health(
                str(raw.get("Status") or "")
            )
        else:
            status = str(state.get("Status") or "")
            health = str(health_doc.get("Status") or "") or None
        names = raw.get("Names")
        name = str(raw.get("Name") or (names[0] if isinstance(names, list) and names else ""))
        config = as_dict(raw.get("Config"))
        labels_raw = config.get("Labels") if config else raw.get("Labels")
        labels = _label_text(labels_raw) if isinstance(labels_raw, str) else str_map(labels_raw)
        settings = as_dict(as_dict(raw.get("NetworkSettings")).get("Networks"))
        exit_code = state.get("ExitCode", raw.get("ExitCode"))
        count = raw.get("RestartCount")
        pid = state.get("Pid")
        probes = [
            str(as_dict(e).get("Output") or "").strip() for e in as_list(health_doc.get("Log"))
        ]
        return cls(
            id=str(raw.get("Id") or raw.get("ID") or ""),
            name=name.lstrip("/"),
            image=str(config.get("Image") or raw.get("Image") or ""),
            state=status,
            health=health,
            exit_code=int(exit_code) if isinstance(exit_code, int) else None,
            started_at=str(state.get("StartedAt") or ""),
            restart_count=count if isinstance(count, int) else None,
            pid=pid if isinstance(pid, int) else 0,
            labels=labels,
            networks={str(k): str(as_dict(v).get("IPAddress") or "") for k, v in settings.items()},
            env_names=tuple(str(e).split("=", 1)[0] for e in as_list(config.get("Env"))),
            health_log=tuple(probes),
            ports=Port.parse_all(raw.get("Ports")),
            mounts=Mount.parse_all(raw.get("Mounts")),
        )
