"""The `restic` part of `install all`: the backup tool, from the distribution's packages.

Every backup command needs restic (docs/backup.md). Debian 12/13 and Ubuntu 22.04/24.04
package it, so a fresh install gets it with apt. Elsewhere, or without root, it is not an
error (the services run without it): a note says how to get it before the first backup.
"""

from __future__ import annotations

from .osinfo import read_os
from .probe import HostProbe
from .steps import Echo, HostPlan, HostResult, Step, apt_install, apt_update, describe, execute

FIX = "sudo apt-get install restic"


def restic_version(probe: HostProbe) -> str | None:
    """`restic version`'s number (0.14.0), or None when restic is missing or fails."""
    if not probe.which("restic"):
        return None
    done = probe.run(["restic", "version"], timeout=30)
    words = done.stdout.split()
    if not done.ok or len(words) < 2 or words[0] != "restic":
        return None
    return words[1]


def plan_restic(probe: HostProbe) -> HostPlan:
    """Nothing when restic answers; else apt steps on a supported system, or a note."""
    version = restic_version(probe)
    if version:
        return HostPlan("restic", f"restic {version} is installed", facts={"version": version})
    release = read_os(probe)
    facts = {"version": None, "os": release.to_data()}
    summary = "restic is missing (every backup command needs it)"
    if not release.supported or not probe.which("apt-get"):
        note = f"install restic with {release.pretty}'s packages before the first backup"
        return HostPlan("restic", summary, notes=(note,), facts=facts)
    steps = (
        Step("refresh the package lists", apt_update()),
        Step(f"install restic from {release.pretty}", apt_install("restic")),
    )
    return HostPlan("restic", summary, steps, facts=facts)


def install_restic(probe: HostProbe, echo: Echo, *, dry_run: bool = False) -> HostResult:
    """Plan, print, run unless dry_run. Without root the steps are left as a note: the stack
    does not need restic to run, only backups do."""
    plan = plan_restic(probe)
    if not dry_run and plan.pending and probe.euid != 0:
        echo(f"restic: {plan.summary}")
        echo(f"  note: not root, so not installed: run `{FIX}` before the first backup")
        return HostResult(plan, verified=plan.summary, ok=False)
    describe(plan, echo, dry_run=dry_run)
    if dry_run or not plan.pending:
        if not plan.pending and not plan.notes:
            echo("restic: nothing to change")
        return HostResult(plan, dry_run=dry_run, verified=plan.summary, ok=not plan.notes)
    ran = execute(plan, probe, echo)
    version = restic_version(probe)
    verified = f"restic {version} is installed" if version else "restic still does not answer"
    echo(f"restic: {verified}")
    return HostResult(plan, executed=True, ran=ran, verified=verified, ok=bool(version))
