"""Host commands: `install docker|drivers|all` (on the `install` group) and `gpu`."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .app import JsonOption, StandInImage, app, emit, state
from .install_cmds import install_app

if TYPE_CHECKING:
    from rich.console import Console

    from ..gpu import GpuReport
    from ..gpu_choice import Placement

DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Print the whole plan; change nothing on the host.")
]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Carry out the driver plan (no prompts).")]


def _standin_image() -> str | None:
    """The offline stand-in image, for the check container (None when Docker is missing)."""
    from ..errors import HomestackError
    from ..standin_image import ensure_image

    try:
        return ensure_image()
    except (HomestackError, OSError):
        return None


@install_app.command("docker")
def docker_command(
    repo: Annotated[
        str,
        typer.Option(
            "--repo",
            help="Where packages come from: auto (the distribution when it packages Compose "
            "v2, else Docker's repository), distro (the distribution's engine, and its Compose "
            "v2 where packaged), docker (Docker's repository).",
        ),
    ] = "auto",
    dry_run: DryRun = False,
    as_json: JsonOption = False,
) -> None:
    """Docker Engine and Compose v2, started at boot, you in the docker group. Idempotent."""
    from ..host.docker_install import install_docker
    from ..host.probe import HostProbe
    from .events import CliSink

    result = install_docker(HostProbe(), CliSink(as_json=as_json), repo=repo, dry_run=dry_run)
    emit(result, as_json, _render_nothing)


@install_app.command("drivers")
def drivers_command(
    yes: Yes = False,
    dry_run: DryRun = False,
    as_json: JsonOption = False,
) -> None:
    """What the GPU needs so containers can use it; installs it only with --yes, then checks
    that a container sees the GPU."""
    from ..host.drivers import install_drivers
    from ..host.probe import HostProbe

    image = _standin_image() if yes and not dry_run else None
    from .events import CliSink

    sink = CliSink(as_json=as_json)
    result = install_drivers(HostProbe(), sink, yes=yes, dry_run=dry_run, image=image)
    emit(result, as_json, _render_nothing)


@install_app.command("all")
def all_command(
    stack: Annotated[
        str | None,
        typer.Option(
            "--stack", metavar="ID", help="Only this stack (and what it needs from others)."
        ),
    ] = None,
    stand_in: Annotated[
        bool,
        typer.Option(
            "--stand-in",
            help="Rehearse with a stand-in image (default: the busybox one built offline) in "
            "place of every service image; networks, secrets, volumes, order and health stay "
            "real.",
        ),
    ] = False,
    stand_in_image: StandInImage = None,
    dry_run: DryRun = False,
    yes: Yes = False,
    as_json: JsonOption = False,
) -> None:
    """The whole install: .env, drivers (check; --yes installs), Docker, networks, secrets,
    DATA, then every enabled stack up. Non-interactive; a second run changes nothing."""
    import contextlib

    from ..catalog import find_root, site_root
    from ..deploy.up import raise_for
    from ..host.install_all import install_all
    from .events import CliSink

    root = site_root(state.site_path) if state.site_path else find_root()
    image = stand_in_image if stand_in_image is not None else ("" if stand_in else None)
    sink = CliSink(as_json=as_json)  # no Site yet: install all may write its .env first
    with contextlib.nullcontext() if dry_run else sink.up_view():
        result = install_all(
            root, sink, stack=stack, stand_in=image, dry_run=dry_run, yes=yes, command=state.words
        )
    if as_json:
        emit(result, True, _render_nothing)
    else:
        from .lan_cmds import first_run_summary

        first_run_summary(result.up, state.site())
    if result.up is not None:
        raise_for(result.up)


@app.command("gpu")
def gpu_command(as_json: JsonOption = False) -> None:
    """GPUs found, what containers can use, and the fix for the rest (GPU= in .env forces)."""
    import os

    from ..errors import HomestackError
    from ..gpu import detect
    from ..gpu_choice import placements

    try:
        site = state.site()
    except HomestackError:
        site = None  # outside a site: the host's GPUs alone
    setting = os.environ.get("GPU")
    if setting is None and site is not None:
        setting = site.root_env.get("GPU")
    report = detect(setting=setting or "auto")
    emit(
        GpuView(report, placements(site, report) if site is not None else None),
        as_json,
        _render_gpu,
    )


@dataclass(frozen=True)
class GpuView:
    """The host's GPU verdict and, inside a site, where each GPU service would run."""

    report: GpuReport
    services: list[Placement] | None

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.report.to_data()
        if self.services is not None:
            data["services"] = [p.to_data() for p in self.services]
        return data


def _render_nothing(result: object, out: Console) -> None:
    return None


def _render_gpu(view: GpuView, out: Console) -> None:
    from rich.markup import escape

    report = view.report

    if not report.devices and not report.present_vendors:
        if report.usable_vendors:  # GPU=vendor in .env forces it
            out.print(f"no GPU found; GPU={report.setting} gives GPU services its overlays anyway")
        else:
            out.print("no GPU found: GPU services run on the CPU")
    for device in report.devices:
        memory = f", {device.memory_mb} MiB" if device.memory_mb else ""
        driver = f", driver {device.driver}" if device.driver else ""
        out.print(f"{device.vendor}: {escape(device.model)}{memory}{driver} ({device.pci or '-'})")
    for vendor in report.present_vendors:
        mark = "[green]usable[/]" if vendor in report.usable_vendors else "[red]not usable[/]"
        out.print(f"{vendor}: {mark}: {escape(report.reasons.get(vendor, ''))}")
        if vendor in report.fixes and vendor not in report.usable_vendors:
            out.print(f"  [bold]fix:[/] {escape(report.fixes[vendor])}")
    docker = report.docker
    runtimes = ", ".join(docker.runtimes) or "-"
    engine = docker.version or ("not asked (no GPU)" if not docker.asked else "not answering")
    out.print(
        f"[dim]docker: {engine}; runtimes: {runtimes}; "
        f"CDI: {', '.join(docker.cdi_kinds) or '-'}; GPU={report.setting}[/]"
    )
    if view.services:
        out.print("services that can use a GPU, and where they run:")
    for place in view.services or []:
        where = {
            "cpu": "[yellow]CPU[/]",
            "refused": "[red]refused[/] (gpu: required)",
        }.get(place.runs_on, f"[green]{place.runs_on}[/] ({escape(place.overlay or '')})")
        why = f" [dim]— {escape(place.reason)}[/]" if place.reason else ""
        out.print(f"  {place.stack}/{place.service}: {where}{why}")
    sys.stdout.flush()
