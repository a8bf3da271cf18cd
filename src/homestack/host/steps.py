"""A plan of host changes: steps that say what they will do, run through the HostProbe."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import fsutil
from ..errors import CommandFailed, OperationFailed
from ..events import EventSink, Progress
from ..serial import Serialised, entry
from .probe import HostProbe

APT = ("env", "DEBIAN_FRONTEND=noninteractive", "apt-get")
Echo = Callable[[str], None]


def reporter(sink: EventSink, topic: str) -> Echo:
    """A host part's lines, each one a Progress event (with the part as topic) to `sink`."""
    return lambda line: sink(Progress(line, topic))


def apt_install(*packages: str) -> tuple[str, ...]:
    return (*APT, "install", "-y", "--no-install-recommends", *packages)


def apt_update() -> tuple[str, ...]:
    return (*APT, "update")


@dataclass(frozen=True)
class Step(Serialised):
    """One change: a command to run, or a file to write. `done`: already so, skipped."""

    DATA_EXTRA = ("command",)
    DATA_ORDER = ("title", "command", "done")

    title: str
    argv: tuple[str, ...] = field(default=(), metadata=entry(omit=True))
    #: (host path, content)
    write: tuple[str, str] | None = field(default=None, metadata=entry(omit=True))
    done: bool = False
    hint: str | None = field(default=None, metadata=entry(omit=True))  # what to do when it fails

    def command(self) -> str:
        if self.write:
            return f"write {self.write[0]}"
        return " ".join(self.argv)


@dataclass(frozen=True)
class HostPlan(Serialised):
    """What one install part found and what it would change."""

    DATA_EXTRA = (("pending", lambda plan: len(plan.pending)),)
    DATA_ORDER = ("name", "summary", "steps", "pending")

    name: str  # docker, drivers
    summary: str
    steps: tuple[Step, ...] = ()
    notes: tuple[str, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def pending(self) -> list[Step]:
        return [step for step in self.steps if not step.done]


@dataclass(frozen=True)
class HostResult:
    """A plan, whether it ran, and how the check afterwards went."""

    plan: HostPlan
    executed: bool = False
    dry_run: bool = False
    ran: tuple[str, ...] = ()
    verified: str | None = None  # what the check afterwards saw
    ok: bool = True

    @property
    def changed(self) -> bool:
        return bool(self.ran)

    def to_data(self) -> dict[str, Any]:
        return {
            **self.plan.to_data(),
            "executed": self.executed,
            "dry_run": self.dry_run,
            "ran": list(self.ran),
            "changed": self.changed,
            "verified": self.verified,
            "ok": self.ok,
        }


def describe(plan: HostPlan, echo: Echo, *, dry_run: bool) -> None:
    """Print the plan: each pending step with its command."""
    echo(f"{plan.name}: {plan.summary}")
    for step in plan.pending:
        verb = "would" if dry_run else "will"
        echo(f"  {verb} {step.title}: {step.command()}")
    for note in plan.notes:
        echo(f"  note: {note}")


def _write(probe: HostProbe, target: str, content: str) -> None:
    path = probe.path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    fsutil.write_atomic(path, content, mode=0o644)


def execute(plan: HostPlan, probe: HostProbe, echo: Echo) -> tuple[str, ...]:
    """Run the pending steps in order; stop at the first failure (raising CommandFailed)."""
    pending = plan.pending
    if pending and probe.euid != 0:
        raise OperationFailed(
            f"{plan.name}: {len(pending)} step(s) change the host and need root",
            "Run it with sudo (e.g. `sudo ./install-stack.sh`), or see the plan with --dry-run.",
        )
    ran: list[str] = []
    for step in pending:
        echo(f"→ {step.title}: {step.command()}")
        if step.write:
            _write(probe, *step.write)
        else:
            done = probe.run(step.argv, timeout=1800)
            if not done.ok:
                raise CommandFailed(
                    list(step.argv),
                    done.returncode,
                    done.stderr or done.stdout,
                    step.hint or f"Fix the cause, then run the same command again ({plan.name}).",
                )
        ran.append(step.title)
    return tuple(ran)


def group_members(probe: HostProbe, group: str) -> set[str] | None:
    """Members of a group from /etc/group (None when the group does not exist)."""
    for line in (probe.read("/etc/group") or "").splitlines():
        parts = line.split(":")
        if len(parts) >= 4 and parts[0] == group:
            return {name for name in parts[3].split(",") if name}
    return None


def invoking_user(probe: HostProbe) -> str | None:
    """The user who ran sudo (not root), if any."""
    user = probe.env.get("SUDO_USER", "").strip()
    return user if user and user != "root" else None


def apt_repository(
    probe: HostProbe,
    owner: str,
    *,
    key_url: str,
    keyring: str,
    sources: str,
    line: str,
    key_hint: str | None = None,
) -> list[Step]:
    """Steps that add `owner`'s signed apt repository and refresh the package lists."""
    return [
        # a fresh machine may have no package lists yet (cloud images), or stale ones
        Step("refresh the package lists", apt_update()),
        Step("install apt's HTTPS prerequisites", apt_install("ca-certificates", "curl")),
        Step(
            f"add {owner} signing key",
            ("curl", "-fsSL", key_url, "-o", keyring),
            done=probe.exists(keyring),
            hint=key_hint,
        ),
        Step(
            f"add {owner} apt repository", write=(sources, line), done=probe.read(sources) == line
        ),
        Step("refresh the package lists", apt_update()),
    ]


def join_groups(
    probe: HostProbe, user: str, groups: tuple[str, ...], *, made_by_plan: bool = False
) -> list[Step]:
    """Steps that add `user` to each of these groups (each done when /etc/group already
    lists them). A group the machine lacks is passed over, unless the plan's packages make
    it (`made_by_plan`: docker.io makes `docker`)."""
    steps: list[Step] = []
    for group in groups:
        members = group_members(probe, group)
        if members is None and not made_by_plan:
            continue
        steps.append(
            Step(
                f"add {user} to the {group} group",
                ("usermod", "-aG", group, user),
                done=user in (members or set()),
            )
        )
    return steps
