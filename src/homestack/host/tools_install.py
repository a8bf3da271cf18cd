"""The `tools` part of `install all`: the host programs homestack itself runs, with apt.

- restic: every backup command (docs/backup.md);
- a static busybox (Debian's `busybox-static`): the offline stand-in image that `doctor`'s
  network probes and `--stand-in` rehearsals run (standin_image.py).

Debian 12/13 and Ubuntu 22.04/24.04 package both, so a fresh install gets them. Elsewhere, or
without root, a missing one is not an error (the services run without them): a note says how
to get it.
"""

from __future__ import annotations

from ..events import EventSink
from ..standin_image import static_busybox
from .osinfo import read_os
from .probe import HostProbe
from .steps import (
    HostPlan,
    HostResult,
    Step,
    apt_install,
    apt_update,
    describe,
    execute,
    reporter,
)

#: package → what needs it
NEEDED_BY = {
    "restic": "every backup command",
    "busybox-static": "doctor's network checks and --stand-in",
}


def restic_version(probe: HostProbe) -> str | None:
    """`restic version`'s number (0.14.0), or None when restic is missing or fails."""
    if not probe.which("restic"):
        return None
    from ..backup.restic import version_argv

    done = probe.run(version_argv(), timeout=30)
    words = done.stdout.split()
    if not done.ok or len(words) < 2 or words[0] != "restic":
        return None
    return words[1]


def plan_tools(probe: HostProbe) -> HostPlan:
    """Nothing when both are there; else apt steps on a supported system, or a note."""
    version = restic_version(probe)
    busybox = static_busybox(probe.path)
    facts: dict[str, object] = {"restic": version, "busybox": busybox}
    missing = [
        package
        for package, found in (("restic", version), ("busybox-static", busybox))
        if not found
    ]
    if not missing:
        summary = f"restic {version} and a static busybox ({busybox}) are installed"
        return HostPlan("tools", summary, facts=facts)
    summary = "missing: " + ", ".join(f"{p} ({NEEDED_BY[p]} needs it)" for p in missing)
    release = read_os(probe)
    facts["os"] = release.to_data()
    facts["missing"] = missing
    if not release.supported or not probe.which("apt-get"):
        note = f"install {' and '.join(missing)} with {release.pretty}'s packages"
        return HostPlan("tools", summary, notes=(note,), facts=facts)
    steps = (
        Step("refresh the package lists", apt_update()),
        Step(f"install {' '.join(missing)} from {release.pretty}", apt_install(*missing)),
    )
    return HostPlan("tools", summary, steps, facts=facts)


def install_tools(probe: HostProbe, sink: EventSink, *, dry_run: bool = False) -> HostResult:
    """Plan, report (Progress events to `sink`), run unless dry_run. Without root the steps
    are left as a note: the stacks do not need these tools to run, only backups, doctor's
    probes and rehearsals do."""
    echo = reporter(sink, "tools")
    plan = plan_tools(probe)
    if not dry_run and plan.pending and probe.euid != 0:
        packages = " ".join(str(p) for p in plan.facts.get("missing") or [])
        echo(f"tools: {plan.summary}")
        echo(f"  note: not root, so not installed: run `sudo apt-get install {packages}`")
        return HostResult(plan, verified=plan.summary, ok=False)
    describe(plan, echo, dry_run=dry_run)
    if dry_run or not plan.pending:
        if not plan.pending and not plan.notes:
            echo("tools: nothing to change")
        return HostResult(plan, dry_run=dry_run, verified=plan.summary, ok=not plan.notes)
    ran = execute(plan, probe, echo)
    after = plan_tools(probe)
    echo(f"tools: {after.summary}")
    return HostResult(plan, executed=True, ran=ran, verified=after.summary, ok=not after.steps)
