"""Alert rules a household needs beyond "a probe failed", and where Prometheus sends alerts.

Each rule carries `severity` and, where it can, `service` and `stack` labels, so
Alertmanager (alertmanager.py) groups by them and a stack or host that is down silences the
alerts of its services (inhibition).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .view import CatalogView

ALERTMANAGER = "alertmanager:9093"
#: a container that started this often in RESTART_WINDOW is restarting in a loop
RESTART_COUNT = 3
RESTART_WINDOW = "15m"
#: warn when DATA's disk fills within this many hours at the rate of the last 6 hours
DISK_HOURS = 24
DISK_FULL = 0.9
GPU_TEMP_C = 85
GPU_MEMORY = 0.95


def alerting() -> dict[str, Any]:
    return {"alertmanagers": [{"static_configs": [{"targets": [ALERTMANAGER]}]}]}


def mount_source(path: Path, mountinfo: Path = Path("/proc/self/mountinfo")) -> str | None:
    """The device (e.g. /dev/sda1) of the filesystem holding `path`, as cAdvisor names it;
    None when it cannot be told (no such file, a non-device filesystem)."""
    try:
        lines = mountinfo.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    target = os.path.realpath(path)
    best: tuple[int, str] | None = None
    for line in lines:
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        point = fields[4].replace("\\040", " ")
        source = line.split(" - ", 1)[1].split()[1:2]
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and source and (best is None or len(point) > best[0]):
            best = (len(point), source[0])
    if best is None or not best[1].startswith("/dev/"):
        return None
    return best[1]


def _rule(
    alert: str, expr: str, for_: str, severity: str, summary: str, **extra: str
) -> dict[str, Any]:
    annotations = {"summary": summary, **extra}
    return {
        "alert": alert,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity},
        "annotations": annotations,
    }


def _service_rules() -> list[dict[str, Any]]:
    return [
        _rule(
            "StackDown",
            "max by (stack) (probe_success) == 0",
            "5m",
            "critical",
            "every service of the {{ $labels.stack }} stack is down",
            description="No health probe of the stack succeeds; its services' own alerts "
            "are held back while this one fires.",
        ),
    ]


def container_names(stacks: list[str]) -> str:
    """A Compose container name, {prefix}{stack}-{service}-{n}, as a regular expression that
    captures the stack and the service (the site's stacks: stack.yaml, not code)."""
    alternatives = "|".join(s.replace(".", "[.]") for s in stacks)  # no backslash: PromQL
    return f"^.*?({alternatives})-(.+)-[0-9]+$"


def _container_rules(names: str) -> list[dict[str, Any]]:
    restarts = (
        f'changes(container_start_time_seconds{{name!=""}}[{RESTART_WINDOW}]) >= {RESTART_COUNT}'
    )
    return [
        _rule(
            "HostDown",
            'up{job="cadvisor"} == 0',
            "5m",
            "critical",
            "the host's container metrics stopped",
            description="cAdvisor, which runs on every host, does not answer: the host (or "
            "its Docker engine) is down or overloaded; its services' alerts are held back.",
        ),
        _rule(
            "ContainerRestarting",
            # Compose names containers {prefix}{stack}-{service}-{n}; service ids hold '-'
            f'label_replace(label_replace({restarts}, "service", "$2", "name", "{names}"), '
            f'"stack", "$1", "name", "{names}")',
            "0m",
            "warning",
            "{{ $labels.name }} keeps restarting",
            description=f"It started {{{{ $value }}}} times in {RESTART_WINDOW}: "
            "`homestack logs {{ $labels.service }}` shows why.",
        ),
    ]


def _disk_rules(device: str | None) -> list[dict[str, Any]]:
    select = f'id="/",device="{device}"' if device else 'id="/"'
    used = f"container_fs_usage_bytes{{{select}}}"
    size = f"container_fs_limit_bytes{{{select}}}"
    rate = f"deriv({used}[6h])"
    return [
        _rule(
            "DiskFilling",
            f"(({size} - {used}) / {rate} / 3600 < {DISK_HOURS}) and {rate} > 0",
            "30m",
            "warning",
            "the disk holding DATA ({{ $labels.device }}) fills in "
            "{{ $value | humanize }} hours at the current rate",
            description="Free space now, divided by how fast it shrank over the last 6 "
            "hours. `homestack top` and `du -sh DATA/*` show who writes.",
        ),
        _rule(
            "DiskAlmostFull",
            f"{used} / {size} > {DISK_FULL}",
            "10m",
            "critical",
            "the disk holding DATA ({{ $labels.device }}) is "
            "{{ $value | humanizePercentage }} full",
        ),
    ]


def _gpu_rules() -> list[dict[str, Any]]:
    memory = "DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)"
    return [
        _rule(
            "GpuHot",
            f"DCGM_FI_DEV_GPU_TEMP > {GPU_TEMP_C}",
            "5m",
            "warning",
            "GPU {{ $labels.gpu }} is at {{ $value }} °C",
            description="Check the case's airflow and what runs on it (`homestack top`).",
        ),
        _rule(
            "GpuMemoryFull",
            f"{memory} > {GPU_MEMORY}",
            "10m",
            "warning",
            "GPU {{ $labels.gpu }} memory is {{ $value | humanizePercentage }} used",
            description="Models that do not fit fall back to the CPU (slow); unload one.",
        ),
    ]


def groups(view: CatalogView) -> list[dict[str, Any]]:
    """The rule groups beyond the base ones, for what is enabled."""
    rules = _service_rules()
    if view.is_on("cadvisor"):
        names = container_names(list(view.stack_titles))
        rules += _container_rules(names) + _disk_rules(mount_source(view.data_root))
    out = [{"name": "household", "rules": rules}]
    if view.is_on("dcgm-exporter"):
        out.append({"name": "gpu", "rules": _gpu_rules()})
    return out
