"""backup and restore in swarm mode: the service's data is on its data node, so restic runs
there, in a one-off swarm task (restart condition none, placed on that node), and the
service is stopped by scaling it to 0 and started by scaling it back to 1.

`SwarmRestic` is the backup code's `Restic` with only the process launch replaced: every
argument, tag, JSON parse and error stays the one of compose mode. The task runs the
service's own image (the data node has it: the service ran there) with the restic binary
(and the libraries it links) bind-mounted from the same path on the node, the repository
folder and the paths of the call bind-mounted, a tmpfs for restic's temporary files,
and the password as a swarm secret made for the call and removed after it.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalog import Service, Site
from ..engine import swarm as engine
from ..engine.model import Container
from ..errors import OperationFailed
from . import POLL_S, stack_name

ONEOFF_LABEL = "io.homestack.oneoff"
SECRET_PATH = "/run/secrets/homestack_restic_password"
SCRATCH = "/homestack-scratch"  # a tmpfs in the task: restic's temporary files and cache


def swarm_name(site: Site, service: Service) -> str:
    return f"{stack_name(site, service.stack)}_{service.id}"


def _info(site: Site, service: Service) -> engine.ServiceInfo | None:
    name = swarm_name(site, service)
    return next((s for s in engine.services() if s.name == name), None)


def _tasks(info: engine.ServiceInfo) -> list[engine.TaskInfo]:
    return [t for t in engine.tasks({info.id}) if t.desired == "running"]


# ---- the service: state, stop (scale 0), start (scale 1) ---------------------------------
def state(site: Site, service: Service) -> Container:
    """The swarm service as the backup code reads a container: running when a task runs."""
    info = _info(site, service)
    if info is None:
        return Container()
    current = _tasks(info)
    if info.replicas == 0 or not current:
        return Container(id=info.id, image=info.image, state="exited")
    running = [t for t in current if t.state == "running"]
    if running:
        return Container(id=info.id, image=info.image, state="running", health="healthy")
    if any(t.state == "starting" for t in current):
        return Container(id=info.id, image=info.image, state="running", health="starting")
    return Container(id=info.id, image=info.image, state="created")


def container(site: Site, service: Service) -> Container | None:
    """The swarm service as a backup watches a container while it holds it stopped: the
    service's id (a `docker service rm` + deploy is a new one), its tasks meant to run
    (a `docker service scale`, `update` or `rollback` by hand starts new ones) and its
    replica count. None: the service is gone."""
    info = _info(site, service)
    if info is None:
        return None
    current = _tasks(info)
    return Container(
        id=info.id,
        name=swarm_name(site, service),
        image=info.image,
        state="running" if any(t.state == "running" for t in current) else "exited",
        started_at=",".join(sorted(t.id for t in current)),
        restart_count=info.replicas or 0,
        labels=info.labels,
    )


def scale(site: Site, service: Service, replicas: int, timeout: float = 120) -> None:
    """Scale the service and wait: to 0, until no task of it runs; up, until one runs
    (a task with a healthcheck reaches `running` only once healthy)."""
    info = _info(site, service)
    if info is None:
        raise OperationFailed(
            f"{service.id} is not deployed on the swarm ({swarm_name(site, service)})",
            f"Run `homestack up {service.id}` first.",
            service=service.id,
        )
    engine.scale(info.id, replicas)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks = engine.tasks({info.id})
        live = [t for t in tasks if t.state in ("running", "starting", "preparing", "assigned")]
        if replicas == 0 and not live and not [t for t in tasks if t.desired == "running"]:
            return
        if replicas > 0 and sum(t.state == "running" and t.desired == "running" for t in tasks):
            return
        time.sleep(POLL_S)
    raise OperationFailed(
        f"{service.id} did not reach {replicas} running task(s) in {timeout:.0f}s",
        f"`homestack status {service.id}` shows its tasks; `docker service ps "
        f"{swarm_name(site, service)}` on a manager says why.",
        service=service.id,
    )


# ---- where it runs ------------------------------------------------------------------------
def data_node(site: Site, service: Service) -> engine.NodeInfo:
    """The node holding the service's data: where its running task is, else its placement."""
    from .nodes import data_nodes

    info = _info(site, service)
    if info is not None:
        for task in _tasks(info):
            if task.node_id and task.state == "running":
                return next(n for n in engine.nodes() if n.id == task.node_id)
    name = data_nodes(site, [service])[service.id]
    if "," in name or name.startswith("no node"):
        raise OperationFailed(
            f"{service.id}: its data node is not known ({name})",
            "Label the node holding DATA: `homestack nodes label NODE data=true`.",
            service=service.id,
        )
    return engine.find_node(name)


def require_local(site: Site, service: Service, command: str) -> engine.NodeInfo:
    """backup and restore read and write the service's folders where homestack runs (which
    exist, the staging copy, its check, the swap by renames): that machine must be the
    node holding them. It may be a worker: DOCKER_HOST then names a manager, and this
    machine's own engine says which node it is."""
    node = data_node(site, service)
    here, _engine = engine.this_machine()
    if node.id == here:
        return node
    names = [n.hostname for n in engine.nodes() if n.id == here]
    this = f"{names[0]}, where homestack runs" if names else "the machine homestack runs on"
    raise OperationFailed(
        f"`homestack {command} {service.id}` must run on {node.hostname}, the node holding "
        f"its data, not on {this}: homestack reads and writes {service.id}'s folders "
        "(DATA/{service}, DATA/config/{service}, secrets/{service}_*) where it runs, and the "
        "swarm moves no files".replace("{service}", service.id),
        f"On {node.hostname}, in a copy of the site's folder (same DATA_ROOT), point homestack "
        f"at a manager: `DOCKER_HOST=ssh://USER@MANAGER homestack {command} {service.id}` "
        f"(or make {node.hostname} a manager: `docker node promote {node.hostname}`); or "
        f"move {service.id}'s data to this node (docs/swarm.md, 'Move a stack').",
        service=service.id,
    )


# ---- restic in a one-off task -------------------------------------------------------------
def _libraries(binary: str) -> list[str]:
    """The shared objects a dynamically linked restic needs (Debian's links libc)."""
    try:
        done = subprocess.run(
            ["ldd", binary], capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    found = re.findall(r"(/\S+)", done.stdout) if done.returncode == 0 else []
    return sorted({path for path in found if Path(path).exists()})


@dataclass(frozen=True)
class Bind:
    path: str
    writable: bool


def _binds(args: Sequence[str], repository: str) -> list[Bind]:
    """The repository folder (writable; made before the first init), and each absolute
    path of the call at the same path: `--target` (restore) writable, the rest read-only."""
    binds = [Bind(repository, True)]
    previous = ""
    for arg in args:
        if arg.startswith("/") and previous not in ("--exclude", "--tag"):
            binds.append(Bind(arg, previous == "--target"))
        previous = arg
    out: list[Bind] = []
    for bind in binds:  # a folder already bound above covers what is inside it
        if not any(bind.path.startswith(o.path.rstrip("/") + "/") for o in out):
            out.append(bind)
    return out


def run_oneoff(
    site: Site,
    service: Service,
    command: list[str],
    env: dict[str, str],
    binds: list[Bind],
    secret: bytes,
    timeout: float,
) -> tuple[int, str, str]:
    """Run `command` once on the service's data node; (exit code, stdout, stderr)."""
    node = data_node(site, service)
    info = _info(site, service)
    image = info.image if info else str(service.compose.get("image") or "")
    # one of this service's at a time (the service lock): any other is a killed run's
    engine.remove_labelled(f"{site.prefix}oneoff_{service.id}_", ONEOFF_LABEL, service.id)
    task, out, err = engine.run_task(
        f"{site.prefix}oneoff_{service.id}_{os.urandom(4).hex()}",
        image,
        command,
        env=env,
        binds=[(b.path, b.writable) for b in binds],
        scratch=SCRATCH,
        secret=(secret, SECRET_PATH),
        node_id=node.id,
        labels={ONEOFF_LABEL: service.id},
        timeout=timeout,
    )
    if task.state != "complete" and task.exit_code is None:
        raise OperationFailed(
            f"{service.id}: the one-off task on {node.hostname} did not run: "
            f"{task.error or task.message or task.state}",
            f"The task runs the service's image ({image}) with restic bind-mounted from "
            f"{command[0]}: the node needs both (`homestack install all` installs restic) "
            "and the same DATA path as here.",
            service=service.id,
        )
    return (task.exit_code or 0), out, err


def restic_for(site: Site, service: Service, base: Any) -> Any:
    """The service's `Restic`, its commands run on the data node."""
    from ..backup.restic import OnStarted, Restic

    @dataclass(frozen=True)
    class SwarmRestic(Restic):
        def _execute(
            self, command: list[str], timeout: float | None, on_started: OnStarted | None
        ) -> tuple[int, str, str]:
            binary = command[0]
            binds = [Bind(binary, False), *(Bind(lib, False) for lib in _libraries(binary))]
            binds += _binds(command[1:], self.repository)
            env = {
                "RESTIC_REPOSITORY": self.repository,
                "RESTIC_PASSWORD_FILE": SECRET_PATH,
                "RESTIC_CACHE_DIR": f"{SCRATCH}/cache",
                "TMPDIR": SCRATCH,
                "HOME": SCRATCH,
                "RESTIC_PROGRESS_FPS": "0.2",
            }
            secret = self.password_file.read_bytes()
            return run_oneoff(site, service, command, env, binds, secret, timeout or 6 * 3600)

    if not base.repository.startswith("/"):
        raise OperationFailed(
            f"BACKUP_REPOSITORY is {base.repository}: in swarm mode a backup runs on "
            f"{service.id}'s data node into a repository folder there",
            "Use a folder (the default DATA/backups/{service}), and copy it off the node "
            "with `restic copy` or your usual sync.",
            service=service.id,
        )
    return SwarmRestic(base.repository, base.password_file, base.service)
