"""Which overlays a stack gets on this host: the GPU verdict, and `iot` when configured.

A service declares `gpu: none|optional|required` and ships `{service}.{vendor}` overlays.
It gets the overlay of the first vendor containers can use here (nvidia, amd, intel) that it
has; `optional` without one runs on the CPU (the reason is kept), `required` without one is
refused with the reason and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .catalog import Service, Site, Stack
from .errors import BadInput
from .gpu import GpuReport, cached_report


@dataclass(frozen=True)
class OverlayChoice:
    """Overlay kinds per enabled service, and why GPU services got none."""

    stack: str
    overlays: dict[str, list[str]] = field(default_factory=dict)
    gpu: dict[str, str] = field(default_factory=dict)  # service → vendor it runs on, or "cpu"
    reasons: dict[str, str] = field(default_factory=dict)  # service → why it runs on the CPU

    def to_data(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "overlays": {k: list(v) for k, v in self.overlays.items()},
            "gpu": dict(self.gpu),
            "reasons": dict(self.reasons),
        }


def _gpu_for(service: Service, report: GpuReport) -> tuple[str | None, str | None]:
    """(vendor, None) when served; (None, reason) when not."""
    for vendor in report.usable_vendors:
        if vendor in service.overlays:
            return vendor, None
    if report.usable_vendors:
        have = ", ".join(sorted(k for k in service.overlays if k != "iot")) or "none"
        return None, (
            f"containers here can use {', '.join(report.usable_vendors)} but {service.id} "
            f"has no overlay for it (its overlays: {have})"
        )
    return None, report.why_not()


def choose_overlays(site: Site, stack: Stack, report: GpuReport | None = None) -> OverlayChoice:
    """The overlays for each enabled service of stack; raises BadInput for an unmet
    `gpu: required`. The GPU is detected once per process, only when a service wants one."""
    env = site.stack_env(stack)
    iot = bool(env.get("IOT_PARENT") and env.get("IOT_SUBNET"))
    choice = OverlayChoice(stack.id)
    for service in stack.enabled:
        kinds: list[str] = []
        need = service.meta.gpu if service.meta else "none"
        if need != "none":
            if report is None:
                report = cached_report(site.root_env.get("GPU", "auto"))
            vendor, reason = _gpu_for(service, report)
            if vendor:
                kinds.append(vendor)
                choice.gpu[service.id] = vendor
            elif need == "required":
                raise BadInput(
                    f"{service.id} needs a GPU (gpu: required) but gets none here: {reason}",
                    f"{report.fix()} Or disable it: `homestack disable {service.id}`.",
                    file=service.file,
                    service=service.id,
                )
            else:
                choice.gpu[service.id] = "cpu"
                choice.reasons[service.id] = str(reason)
        if iot and "iot" in service.overlays:
            kinds.append("iot")
        choice.overlays[service.id] = kinds
    return choice


def overlays_for(site: Site, stack: Stack) -> dict[str, list[str]]:
    """Overlay kinds per enabled service: a GPU vendor the host can serve, `iot` when set."""
    return choose_overlays(site, stack).overlays


@dataclass(frozen=True)
class Placement:
    """Where one enabled GPU-capable service runs on this host, and why."""

    service: str
    stack: str
    need: str  # optional or required
    runs_on: str  # a vendor, "cpu", or "refused" (required, and no usable GPU)
    overlay: str | None  # the overlay file applied, relative to the site
    reason: str | None  # why not on a GPU

    def to_data(self) -> dict[str, Any]:
        return dict(self.__dict__)


def placements(site: Site, report: GpuReport) -> list[Placement]:
    """Each enabled service that wants a GPU: the vendor overlay it gets, or the CPU, or a
    refusal for `gpu: required` — the same choice `up` makes."""
    found = []
    for stack in site.stacks.values():
        for service in stack.enabled:
            need = service.meta.gpu if service.meta else "none"
            if need == "none":
                continue
            vendor, reason = _gpu_for(service, report)
            overlay = None
            if vendor:
                overlay = str(service.overlays[vendor].relative_to(site.root))
            runs_on = vendor or ("refused" if need == "required" else "cpu")
            found.append(Placement(service.id, stack.id, need, runs_on, overlay, reason))
    return found
