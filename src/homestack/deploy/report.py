"""What each `install networks|secrets|data` step (and `up`, which runs them) reports: what
it made, what it found as wanted, notes, and whether it only looked (--dry-run)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class StepReport:
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.created)
