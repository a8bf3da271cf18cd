"""The doctor's building blocks: one Check per line, and the result they add up to."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    area: str  # engine, tools, disk, ports, networks, segregation, dns, secrets, data, backup, gpu
    name: str
    status: Status
    detail: str
    fix: str | None = None
    data: dict[str, Any] | None = None  # the finding's fields, for --json readers

    def to_data(self) -> dict[str, Any]:
        return asdict(self)


def ok(area: str, name: str, detail: str, data: dict[str, Any] | None = None) -> Check:
    return Check(area, name, "ok", detail, None, data)


def warn(area: str, name: str, detail: str, fix: str | None) -> Check:
    return Check(area, name, "warn", detail, fix)


def fail(area: str, name: str, detail: str, fix: str | None) -> Check:
    return Check(area, name, "fail", detail, fix)


@dataclass
class DoctorResult:
    checks: list[Check] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(c.status == "fail" for c in self.checks)

    def to_data(self) -> dict[str, Any]:
        counts = {s: sum(1 for c in self.checks if c.status == s) for s in ("ok", "warn", "fail")}
        return {
            "ok": not self.failed,
            "counts": counts,
            "checks": [c.to_data() for c in self.checks],
        }
