"""What each `install networks|secrets|data` step (and `up`, which runs them) reports: what
it made, what it found as wanted, notes, and whether it only looked (--dry-run). Its
to_data (the `--json` output) is its fields and `changed`, in the order each report names."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..serial import Serialised


@dataclass(frozen=True, kw_only=True)
class StepReport(Serialised):
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False

    DATA_EXTRA = ("changed",)

    @property
    def changed(self) -> bool:
        return bool(self.created)
