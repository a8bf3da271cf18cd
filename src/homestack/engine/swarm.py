"""The swarm side of the engine: nodes, services, tasks, secrets, overlay networks, and the
`docker stack deploy` / `stack rm` CLI calls (the SDK has no stacks).

Reads go through the same docker SDK client as the rest of `engine` (DOCKER_HOST names the
manager); everything comes back as small frozen dataclasses read with `.get()`.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BadInput, CommandFailed, OperationFailed
from .compose import docker_cli
from .docker import api_client, call, engine_errors
from .model import str_map, text

STACK_LABEL = "com.docker.stack.namespace"
NOT_MANAGER = (
    "Run `docker swarm init` on this machine (it becomes the manager), join the others with "
    "`docker swarm join`, or set DEPLOY_MODE=compose in .env; see docs/swarm.md."
)


@dataclass(frozen=True)
class NodeInfo:
    id: str
    hostname: str
    role: str  # manager, worker
    availability: str  # active, pause, drain
    state: str  # ready, down, unknown
    address: str
    labels: dict[str, str] = field(default_factory=dict)
    engine_labels: dict[str, str] = field(default_factory=dict)
    generic: dict[str, int] = field(default_factory=dict)  # kind → count it advertises
    engine: str = ""

    @property
    def usable(self) -> bool:
        return self.availability == "active" and self.state == "ready"


def _node(raw: Mapping[str, Any]) -> NodeInfo:
    spec = raw.get("Spec") or {}
    desc = raw.get("Description") or {}
    status = raw.get("Status") or {}
    generic: dict[str, int] = {}
    for item in (desc.get("Resources") or {}).get("GenericResources") or []:
        discrete = item.get("DiscreteResourceSpec") or {}
        named = item.get("NamedResourceSpec") or {}
        kind = str(discrete.get("Kind") or named.get("Kind") or "")
        if kind:
            generic[kind] = generic.get(kind, 0) + int(discrete.get("Value") or 1)
    engine = desc.get("Engine") or {}
    return NodeInfo(
        id=text(raw, "ID"),
        hostname=text(desc, "Hostname"),
        role=text(spec, "Role"),
        availability=text(spec, "Availability"),
        state=text(status, "State"),
        address=text(status, "Addr"),
        labels=str_map(spec.get("Labels")),
        engine_labels=str_map(engine.get("Labels")),
        generic=generic,
        engine=text(engine, "EngineVersion"),
    )


def require_manager() -> None:
    """The engine homestack talks to is a swarm manager, else a clear refusal."""
    with engine_errors("read the swarm state"):
        info = api_client().info()
    swarm = info.get("Swarm") or {}
    if swarm.get("LocalNodeState") != "active":
        raise BadInput("DEPLOY_MODE=swarm, but this engine is not part of a swarm", NOT_MANAGER)
    if not swarm.get("ControlAvailable"):
        raise BadInput(
            "DEPLOY_MODE=swarm, but this engine is a swarm worker, not a manager",
            "Run homestack on a manager node (`docker node ls` works there), or point "
            "DOCKER_HOST at one.",
        )


def nodes() -> list[NodeInfo]:
    with engine_errors("list the swarm's nodes", NOT_MANAGER):
        return sorted((_node(n) for n in api_client().nodes()), key=lambda n: n.hostname)


def find_node(name: str) -> NodeInfo:
    found = [n for n in nodes() if name in (n.hostname, n.id) or n.id.startswith(name)]
    if len(found) != 1:
        names = ", ".join(n.hostname for n in nodes())
        raise BadInput(f"no single swarm node is called {name!r}", f"Nodes: {names}.")
    return found[0]


def set_node_labels(node: NodeInfo, add: Mapping[str, str], remove: list[str]) -> NodeInfo:
    api = api_client()
    with engine_errors(f"label node {node.hostname}"):
        raw = api.inspect_node(node.id)
        spec = dict(raw.get("Spec") or {})
        labels = dict(spec.get("Labels") or {})
        labels.update(add)
        for key in remove:
            labels.pop(key, None)
        spec["Labels"] = labels
        api.update_node(node.id, raw["Version"]["Index"], spec)
        return _node(api.inspect_node(node.id))


@dataclass(frozen=True)
class TaskInfo:
    id: str
    service_id: str
    node_id: str
    slot: int
    state: str  # new … starting, running, complete, failed, rejected, shutdown
    desired: str
    error: str
    message: str
    container: str
    exit_code: int | None
    version: int
    timestamp: str
    created: str


def _task(raw: Mapping[str, Any]) -> TaskInfo:
    status = raw.get("Status") or {}
    container = (status.get("ContainerStatus") or {}).get("ContainerID") or ""
    code = (status.get("ContainerStatus") or {}).get("ExitCode")
    return TaskInfo(
        id=text(raw, "ID"),
        service_id=text(raw, "ServiceID"),
        node_id=text(raw, "NodeID"),
        slot=int(raw.get("Slot") or 0),
        state=text(status, "State"),
        desired=text(raw, "DesiredState"),
        error=text(status, "Err"),
        message=text(status, "Message"),
        container=str(container),
        exit_code=int(code) if code is not None else None,
        version=int((raw.get("Version") or {}).get("Index") or 0),
        timestamp=text(status, "Timestamp"),
        created=text(raw, "CreatedAt"),
    )


@dataclass(frozen=True)
class ServiceInfo:
    id: str
    name: str
    stack: str
    labels: dict[str, str]
    image: str
    replicas: int | None
    constraints: tuple[str, ...]
    mounts: tuple[str, ...]  # volume sources and bind paths


def _service(raw: Mapping[str, Any]) -> ServiceInfo:
    spec = raw.get("Spec") or {}
    template = spec.get("TaskTemplate") or {}
    container = template.get("ContainerSpec") or {}
    mode = spec.get("Mode") or {}
    replicas = (mode.get("Replicated") or {}).get("Replicas")
    labels = str_map(spec.get("Labels"))
    return ServiceInfo(
        id=text(raw, "ID"),
        name=text(spec, "Name"),
        stack=labels.get(STACK_LABEL, ""),
        labels=labels,
        image=text(container, "Image").split("@")[0],
        replicas=int(replicas) if replicas is not None else None,
        constraints=tuple((template.get("Placement") or {}).get("Constraints") or ()),
        mounts=tuple(text(m, "Source") for m in container.get("Mounts") or []),
    )


def services(stacks: set[str] | None = None) -> list[ServiceInfo]:
    """The swarm's services (those of these stacks only, when given)."""
    with engine_errors("list swarm services", NOT_MANAGER):
        found = [_service(s) for s in api_client().services()]
    return [s for s in found if stacks is None or s.stack in stacks]


def tasks(service_ids: set[str] | None = None) -> list[TaskInfo]:
    with engine_errors("list swarm tasks", NOT_MANAGER):
        found = [_task(t) for t in api_client().tasks()]
    return [t for t in found if service_ids is None or t.service_id in service_ids]


def service_logs(service_id: str, tail: int = 20) -> list[str]:
    try:
        raw = call(api_client().service_logs, service_id, stdout=True, stderr=True, tail=tail)
        data = b"".join(raw) if not isinstance(raw, bytes) else raw
    except Exception:
        return []
    return data.decode("utf-8", "replace").splitlines()[-tail:]


def service_log_lines(
    service_id: str, *, since: float | None = None, tail: int | None = None
) -> list[str]:
    """`TIMESTAMP text` lines of every task of a service, on whichever node it ran."""
    kwargs: dict[str, Any] = {"stdout": True, "stderr": True, "timestamps": True}
    if since is not None:
        kwargs["since"] = int(since)
    kwargs["tail"] = tail if tail is not None else "all"
    with engine_errors("read a service's logs"):
        raw = api_client().service_logs(service_id, **kwargs)
        data = b"".join(raw) if not isinstance(raw, bytes) else raw
    return data.decode("utf-8", "replace").splitlines()


def secrets(prefix: str = "") -> list[dict[str, Any]]:
    with engine_errors("list swarm secrets", NOT_MANAGER):
        found = api_client().secrets()
    return [s for s in found if str((s.get("Spec") or {}).get("Name", "")).startswith(prefix)]


def _removed(remove: Callable[[str], Any], name: str) -> bool:
    """One removal call; False when the engine refused it (in use, not there) or failed."""
    try:
        call(remove, name)
    except Exception:
        return False
    return True


def remove_secret(secret_id: str) -> bool:
    return _removed(api_client().remove_secret, secret_id)


def networks(prefix: str = "") -> list[dict[str, Any]]:
    with engine_errors("list networks"):
        found = api_client().networks(filters={"driver": "overlay"})
    return [n for n in found if str(n.get("Name", "")).startswith(prefix)]


def ensure_overlay(name: str, subnet: str | None, labels: Mapping[str, str]) -> bool:
    """An attachable overlay network called `name`; True when made now."""
    api = api_client()
    with engine_errors(f"create the overlay network {name}"):
        for found in api.networks(names=[name]):
            if found.get("Name") != name:
                continue
            if found.get("Driver") != "overlay" or found.get("Scope") != "swarm":
                raise BadInput(
                    f"network {name} exists as a {found.get('Driver')} network; swarm mode "
                    "needs an attachable overlay network of that name",
                    f"Remove it once nothing uses it (`docker network rm {name}`, after "
                    "`homestack down` in compose mode), then run `homestack up` again.",
                )
            return False
        ipam = None
        if subnet:
            import docker.types

            ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet)])
        api.create_network(name, driver="overlay", attachable=True, ipam=ipam, labels=dict(labels))
        return True


def remove_network(name: str) -> bool:
    return _removed(api_client().remove_network, name)


def _stack_cli(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [docker_cli(), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise CommandFailed(
            [docker_cli(), *args],
            done.returncode,
            done.stderr,
            "See the message above; `docker service ls` shows the swarm's state.",
        )
    return done


def stack_deploy(file: Path, stack: str, timeout: float = 300) -> None:
    """`docker stack deploy` of one file: services in it are created or updated, others of
    the stack are left as they are (no --prune); images are never resolved in a registry
    (each node uses what it has, or pulls the tag itself)."""
    _stack_cli(
        ["stack", "deploy", "--resolve-image", "never", "--detach=true", "-c", str(file), stack],
        timeout,
    )


def stack_rm(stack: str, timeout: float = 120) -> None:
    _stack_cli(["stack", "rm", stack], timeout)


def force_update(service_id: str, timeout: float = 120) -> None:
    """New tasks for the service with the same spec (`docker service update --force`)."""
    _stack_cli(["service", "update", "--force", "--detach=true", "--quiet", service_id], timeout)


def remove_service(service_id: str) -> None:
    with engine_errors("remove a swarm service"):
        api_client().remove_service(service_id)


def stacks() -> set[str]:
    return {s.stack for s in services() if s.stack}


def leftovers(stack: str) -> list[str]:
    """What `stack rm` has not finished removing: services, networks, secrets of the stack."""
    api = api_client()
    label = {"label": f"{STACK_LABEL}={stack}"}
    with engine_errors("list a stack's objects"):
        found = [f"service {s['Spec']['Name']}" for s in api.services(filters=label)]
        found += [f"network {n['Name']}" for n in api.networks(filters=label)]
        found += [f"secret {s['Spec']['Name']}" for s in api.secrets(filters=label)]
        found += [f"config {c['Spec']['Name']}" for c in api.configs(filters=label)]
    return found


def scale(service_id: str, replicas: int, timeout: float = 120) -> None:
    """`docker service scale ID=N`, without waiting (the caller watches the tasks)."""
    _stack_cli(["service", "scale", "--detach=true", f"{service_id}={replicas}"], timeout)


_node_apis: dict[str, Any] = {}  # url → its client, kept while the process runs (top)


def node_api(url: str, timeout: float = 10) -> Any:
    """A low-level client for one node's own engine (`url` as DOCKER_HOST takes it; ssh://
    through the ssh command, as the docker CLI does)."""
    import docker

    if url not in _node_apis:
        with engine_errors(f"reach the engine at {url}"):
            _node_apis[url] = docker.APIClient(
                base_url=url, timeout=int(timeout), use_ssh_client=url.startswith("ssh://")
            )
    return _node_apis[url]


def container_stats(api: Any, container: str) -> dict[str, Any] | None:
    """One `docker stats --no-stream` sample of a container; None when it cannot be read."""
    try:
        return dict(api.stats(container, stream=False))
    except Exception:
        return None


def kernel_has_ipvs(root: Path = Path("/")) -> bool:
    """Whether this machine's kernel has IPVS (swarm's virtual IPs): loaded, built in, or a
    module it can load on first use."""
    import os

    if (root / "proc/net/ip_vs").exists() or (root / "sys/module/ip_vs").exists():
        return True
    modules = root / "lib/modules" / os.uname().release
    builtin = modules / "modules.builtin"
    with contextlib.suppress(OSError):
        if "/ip_vs.ko" in builtin.read_text():
            return True
    return any((modules / "kernel/net/netfilter/ipvs").glob("ip_vs.ko*"))


#: this machine's own engine, where DOCKER_HOST names another machine's (the manager's)
LOCAL_ENGINE_VAR = "HOMESTACK_LOCAL_DOCKER_HOST"
DEFAULT_SOCKET = "unix:///var/run/docker.sock"


def this_machine() -> tuple[str, str]:
    """(the swarm node id of the machine homestack runs on, how it was found). The engine
    DOCKER_HOST names when that is a local socket; else this machine's own engine (its
    default socket, or HOMESTACK_LOCAL_DOCKER_HOST): "" when none answers as a swarm node."""
    import os

    target = os.environ.get("DOCKER_HOST", "")
    local = os.environ.get(LOCAL_ENGINE_VAR, "")
    if not local and target.split("://")[0] in ("unix", ""):
        return local_node_id(), target or DEFAULT_SOCKET
    url = local or DEFAULT_SOCKET
    try:
        api = node_api(url)
        swarm = (call(api.info) or {}).get("Swarm") or {}
    except Exception:
        return "", url
    return str(swarm.get("NodeID") or ""), url


def local_node_id() -> str:
    """The swarm node id of the engine homestack talks to."""
    with engine_errors("read the swarm state"):
        return str((api_client().info().get("Swarm") or {}).get("NodeID") or "")


def follow_service_logs(
    service_id: str, *, since: float | None = None, tail: int | None = None
) -> Iterator[str]:
    """`docker service logs -f` through the manager: `TIMESTAMP text` lines of every task
    of the service, on whichever node, as they come (new tasks included), until closed."""
    kwargs: dict[str, Any] = {"stdout": True, "stderr": True, "timestamps": True, "follow": True}
    if since is not None:
        kwargs["since"] = int(since)
    kwargs["tail"] = tail if tail is not None else "all"
    with engine_errors("follow a service's logs"):
        stream = api_client().service_logs(service_id, **kwargs)
    pending = b""
    for chunk in stream:
        pending += chunk
        *whole, pending = pending.split(b"\n")
        for raw in whole:
            yield raw.decode("utf-8", "replace")


DONE = ("complete", "failed", "rejected", "shutdown", "orphaned", "remove")


def remove_labelled(prefix: str, label: str, value: str) -> list[str]:
    """Remove the services and secrets named `prefix…` with `label=value` (what a killed
    one-off task left behind); their names."""
    api = api_client()
    wanted = {"label": f"{label}={value}"}
    gone: list[str] = []
    with engine_errors("list one-off tasks"):
        for found in api.services(filters=wanted):
            name = str(found["Spec"]["Name"])
            if name.startswith(prefix):
                with contextlib.suppress(Exception):
                    api.remove_service(found["ID"])
                    gone.append(name)
        for found in api.secrets(filters=wanted):
            name = str(found["Spec"]["Name"])
            if name.startswith(prefix) and remove_secret(found["ID"]):
                gone.append(name)
    return gone


def run_task(
    name: str,
    image: str,
    command: list[str],
    *,
    env: Mapping[str, str],
    binds: list[tuple[str, bool]],
    scratch: str,
    secret: tuple[bytes, str],
    node_id: str,
    labels: Mapping[str, str],
    timeout: float,
    poll_s: float = 0.5,
) -> tuple[TaskInfo, str, str]:
    """A one-off task: a service `name` (restart condition none) placed on `node_id`, as
    root, with `binds` (path, writable) at the same paths, a tmpfs at `scratch`, and
    `secret` (value, path in the task) as a swarm secret made for it; waits until the
    task ends, returns it with its stdout and stderr, and removes service and secret."""
    import hashlib
    import time

    from docker import types

    api = api_client()
    value, target = secret
    secret_name = f"{name}_s{hashlib.sha256(value).hexdigest()[:12]}"
    with engine_errors(f"start the one-off task {name}"):
        secret_id = api.create_secret(secret_name, value, labels=dict(labels))["ID"]
    sid = ""
    try:
        mounts = [types.Mount(p, p, type="bind", read_only=not rw) for p, rw in binds]
        mounts.append(types.Mount(scratch, None, type="tmpfs"))
        reference = types.SecretReference(
            secret_id, secret_name, filename=target, uid="0", gid="0", mode=0o400
        )
        spec = types.ContainerSpec(
            image, command=command, env=dict(env), user="0:0", mounts=mounts, secrets=[reference]
        )
        template = types.TaskTemplate(
            spec,
            restart_policy=types.RestartPolicy(condition="none"),
            placement=types.Placement(constraints=[f"node.id=={node_id}"]),
        )
        with engine_errors(f"start the one-off task {name}"):
            sid = api.create_service(template, name=name, labels=dict(labels))["ID"]
        deadline = time.monotonic() + timeout
        while True:
            found = tasks({sid})
            if found and found[0].state in DONE:
                break
            if time.monotonic() > deadline:
                raise OperationFailed(
                    f"the one-off task {name} did not end in {timeout:.0f}s",
                    f"`docker service ps {name}` on a manager shows where it is stuck.",
                )
            time.sleep(poll_s)
        return found[0], _task_logs(api, sid, stdout=True), _task_logs(api, sid, stdout=False)
    finally:
        if sid:
            with contextlib.suppress(Exception):
                api.remove_service(sid)
        for _ in range(40):  # in use until the task's container is gone
            try:
                api.remove_secret(secret_id)
            except Exception:
                time.sleep(0.25)
            else:
                break


def _task_logs(api: Any, sid: str, *, stdout: bool) -> str:
    import time

    for _ in range(20):  # the manager may not have the node's lines at once
        raw = api.service_logs(sid, stdout=stdout, stderr=not stdout, tail="all")
        data = b"".join(raw) if not isinstance(raw, bytes) else raw
        if data or not stdout:
            return data.decode("utf-8", "replace")
        time.sleep(0.25)
    return ""
