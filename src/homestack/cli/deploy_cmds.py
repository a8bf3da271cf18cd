"""Deploy commands: up, down, restart, pull."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import BadInput, ExitStatus
from .app import JsonOption, Names, StandInImage, app, emit, fail, state

if TYPE_CHECKING:
    from rich.console import Console

    from ..deploy.down import DownResult, PullResult, RestartResult
    from ..deploy.up import UpResult
    from ..swarm.ops import SwarmRestart

IMAGE_MARKS = ("/", ":", "@")


def _split_image(
    names: list[str] | None, flag: bool, option: str | None
) -> tuple[list[str] | None, str | None]:
    """`--stand-in` takes an optional IMAGE: a stack or service name never has / : or @,
    so a name with one of them right after --stand-in is the image."""
    if option is not None:
        return names, option
    if not flag:
        return names, None
    images = [n for n in names or [] if any(mark in n for mark in IMAGE_MARKS)]
    if len(images) > 1:
        raise BadInput(f"--stand-in takes one image, got {', '.join(images)}", "Name one image.")
    rest = [n for n in names or [] if n not in images]
    return rest or None, images[0] if images else ""


def _delays(values: list[str] | None) -> dict[str, float]:
    """`--stand-in-delay 3` (every service) or `--stand-in-delay SERVICE=SECONDS`."""
    delays: dict[str, float] = {}
    for value in values or []:
        name, _, seconds = value.rpartition("=")
        try:
            delay = float(seconds)
        except ValueError:
            delay = -1.0
        if not 0 <= delay < float("inf"):
            raise BadInput(
                f"--stand-in-delay {value!r} is not SECONDS or SERVICE=SECONDS",
                "For example: --stand-in-delay 2 or --stand-in-delay ollama=5.",
            )
        delays[name or "*"] = delay
    return delays


@app.command("up")
def up_command(
    names: Names = None,
    stand_in: Annotated[
        bool,
        typer.Option(
            "--stand-in",
            help="Rehearse: run a stand-in image (default: the busybox one built offline) in "
            "place of every service image; networks, secrets, volumes, order and health stay "
            "real. `--stand-in IMAGE` works when IMAGE has a tag or a slash (e.g. busybox:1.36).",
        ),
    ] = False,
    stand_in_image: StandInImage = None,
    stand_in_delay: Annotated[
        list[str] | None,
        typer.Option(
            "--stand-in-delay",
            metavar="[SERVICE=]SECONDS",
            help="Start-up delay of stand-ins (all, or one service); repeatable.",
        ),
    ] = None,
    rollback: Annotated[
        bool,
        typer.Option("--rollback", help="On failure, remove the containers this run started."),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option("--timeout", help="Seconds each service has to become healthy.", min=1.0),
    ] = 300.0,
    as_json: JsonOption = False,
) -> None:
    """Start services in dependency order, each once what it needs is healthy.

    Creates missing networks, secrets and DATA folders first. A second run with nothing
    changed touches nothing and says so. On failure (exit 1) the failed service is named with
    its health-check output and last log lines; nothing that depends on it is started;
    everything that came up, and the failed container, is left running for inspection;
    --rollback removes instead what this run created, recreated or started.
    """
    from ..api import up
    from ..deploy.up import raise_for
    from . import swarm_cmds

    names, image = _split_image(names, stand_in, stand_in_image)
    if stand_in_delay and image is None:
        raise BadInput("--stand-in-delay needs --stand-in", "Add --stand-in.")
    delays = _delays(stand_in_delay)
    for name in delays.keys() - {"*"}:
        state.site().service(name)  # a typo is refused with the names, not ignored
    ctx = state.context(as_json=as_json)
    with state.sink().up_view():  # on a swarm site, api.up deploys to the swarm
        result = up(ctx, names, stand_in=image, delays=delays, rollback=rollback, timeout=timeout)
    emit(result, as_json, _render_up)
    if not as_json and not swarm_cmds.active():  # the LAN door is the Compose proxy's
        from .lan_cmds import first_run_summary

        first_run_summary(result, state.site())
    raise_for(result)


def _render_up(result: UpResult, out: Console) -> None:
    from rich.markup import escape

    for run in result.services:
        if run.state in ("unhealthy", "exited", "timeout", "failed"):
            out.print(f"[bold red]{escape(run.service)}[/] ({run.stack}): {escape(run.detail)}")
            if run.health_log:
                out.print("  [bold]health check:[/]")
                for line in run.health_log:
                    out.print("    " + escape(line))
            if run.log_tail:
                out.print("  [bold]last log lines:[/]")
                for line in run.log_tail:
                    out.print("    " + escape(line))
        elif run.state == "blocked":
            out.print(f"[red]{escape(run.service)}[/]: {escape(run.detail)}")
    for kind, report in (
        ("network", result.networks),
        ("secret", result.secrets),
        ("folder", result.data),
    ):
        for name in report.get("created") or []:
            out.print(f"[dim]created {kind} {escape(str(name))}[/]")
    for note in result.secrets.get("notes") or []:
        out.print(f"[yellow]note:[/] {escape(str(note))}")
    if result.rolled_back:
        out.print("rolled back: " + ", ".join(result.rolled_back))
    for line in result.recovered:
        out.print(f"[yellow]recovered: {escape(line)}[/]")
    for name, paths in result.remade.items():
        out.print(
            f"[yellow]{escape(name)} still uses the deleted {escape(', '.join(paths))}[/] "
            f"(made again just now): `homestack restart {escape(name)}` mounts the new one"
        )
    for name in result.reloaded:
        out.print(f"[dim]reloaded {escape(name)}: its generated config changed[/]")
    if result.stale_config:
        names = result.stale_config
        out.print(
            f"[yellow]{escape(', '.join(names))} still run{'s' if len(names) == 1 else ''} the "
            f"old generated config[/]: `homestack restart {escape(' '.join(names))}` applies it"
        )
    if result.disabled_running:
        still = result.disabled_running
        ids = " ".join(still)
        out.print(
            f"[yellow]{len(still)} disabled service{'s' if len(still) != 1 else ''} still "
            f"run{'s' if len(still) == 1 else ''}: {escape(', '.join(still))}[/] (`homestack "
            f"down {escape(ids)}` removes {'it' if len(still) == 1 else 'them'}, or enable and "
            "up)"
        )
    colour = "green" if result.ok else "red"
    out.print(f"[{colour}]{escape(result.summary())}[/] [dim]in {result.elapsed:.1f}s[/]")


@app.command("down")
def down_command(
    names: Names = None,
    volumes: Annotated[
        bool,
        typer.Option(
            "--volumes",
            help="Also remove the named volumes (asks first; DATA/ folders stay on disk).",
        ),
    ] = False,
    no_dependents: Annotated[
        bool,
        typer.Option(
            "--no-dependents",
            help="Refuse (exit 2, nothing changed) when running services elsewhere need what "
            "goes down, instead of taking them down first.",
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (for scripts).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Stop and remove containers, dependents first. Volumes and DATA are kept.

    `down STACK|SERVICE…` also stops and removes the running services in other stacks (or
    the same one) that need what goes down, directly or through others (depends_on in
    compose, x-homestack or stack.yaml), as `docker compose stop` does; it names each one
    and why. Their volumes are always kept; `homestack up` brings them back.
    """
    from ..deploy.down import down, plan_down, refusal
    from . import swarm_cmds

    site = state.site()
    if swarm_cmds.active():  # stacks and dependents; secrets and networks too
        swarm_cmds.down(names, volumes=volumes, dependents=not no_dependents, as_json=as_json)
        return
    plan = plan_down(site, names)
    if no_dependents and plan.dependents:
        raise refusal(plan)
    if volumes and not yes:
        if not sys.stdin.isatty():
            raise BadInput(
                "--volumes removes volumes and needs a confirmation, but there is no terminal",
                "Add --yes to confirm non-interactively.",
            )
        what = " ".join(names or ["every stack"])
        also = (
            f"; {len(plan.dependents)} services that need it go down too, volumes kept"
            if plan.dependents
            else ""
        )
        if not typer.confirm(f"Remove the named volumes of {what}? (DATA/ folders stay{also})"):
            raise fail(ExitStatus.USAGE)
    result = down(
        site,
        names,
        volumes=volumes,
        dependents=not no_dependents,
        plan=plan,
        ctx=state.context(as_json=as_json),
    )
    emit(result, as_json, _render_down)
    if result.left:
        raise fail(ExitStatus.FAILED)


def _render_down(result: DownResult, out: Console) -> None:
    from rich.markup import escape

    if result.dependents:
        out.print(
            f"first stopped and removed {len(result.dependents)} running services that need "
            "what goes down (volumes kept):"
        )
        for dependent in result.dependents:
            out.print("  " + escape(dependent.reason()))
        ids = " ".join(d.service for d in result.dependents)
        out.print(f"[dim]bring them back with: homestack up {escape(ids)}[/]")
    count = len(result.removed)
    out.print(
        (
            f"removed {count} service{'s' if count != 1 else ''}"
            if count or result.orphans
            else "no container to remove"
        )
        + (f" (stacks: {', '.join(result.stacks)})" if result.stacks else "")
        + (
            f", and {len(result.orphans)} container{'s' if len(result.orphans) != 1 else ''} "
            f"no service file describes ({', '.join(result.orphans)})"
            if result.orphans
            else ""
        )
        + ("; volumes removed" if result.volumes_removed else "; volumes and DATA kept")
        + f" in {result.elapsed:.1f}s",
        markup=False,
    )
    for name in result.left:
        out.print(f"[red]still there:[/] {escape(name)}")


@app.command("restart")
def restart_command(names: Names = None, as_json: JsonOption = False) -> None:
    """Restart containers in dependency order, each wave once the one before is healthy.

    A chosen service without a container is refused (exit 1, nothing restarted): start it
    with `homestack up`.
    """
    from ..api import restart

    # on a swarm site: forced updates, in the same order, with the same health gate
    result = restart(state.context(as_json=as_json), names)
    emit(result, as_json, _render_restart)


def _render_restart(result: RestartResult | SwarmRestart, out: Console) -> None:
    """restart's line, for the Compose and the swarm restart alike."""
    out.print(
        f"restarted {', '.join(result.restarted)}; all healthy in {result.elapsed:.1f}s",
        markup=False,
    )


@app.command("pull")
def pull_command(names: Names = None, as_json: JsonOption = False) -> None:
    """Pull the images of the selected services (several at a time).

    An image that cannot be pulled does not stop the others: every one is named with its
    services and the reason (exit 1); those that pulled are listed.
    """
    from ..deploy.down import pull

    result = pull(state.site(), names)
    emit(result, as_json, _render_pull)
    error = result.error()
    if error is not None:
        raise error


def _render_pull(result: PullResult, out: Console) -> None:
    pulled = "; ".join(f"{stack}: {', '.join(names)}" for stack, names in result.pulled.items())
    out.print(f"pulled {pulled}" if pulled else "nothing pulled", markup=False)
