"""`homestack.lock` (issue 19) in step with the service files."""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import BadInput
from ..findings import Finding, Severity
from .core import LintContext, rule

FIX = (
    "Run `homestack lock` to lock what the files pin now (or put the service file back, "
    "if the lock is right)."
)


@rule(
    "lock.stale",
    "every entry of homestack.lock names a service whose file pins the locked image",
)
def lock_stale(context: LintContext) -> Iterator[Finding]:
    from ..update.lockfile import lock_path, stale

    path = lock_path(context.site)
    if not path.exists():
        return
    try:
        found = stale(context.site)
    except BadInput as error:  # not JSON, or not a lockfile
        yield Finding("lock.stale", Severity.ERROR, error.message, path, 1, hint=error.hint)
        return
    lines = path.read_text(encoding="utf-8").splitlines()
    for name, why in found:
        line = next((n for n, text in enumerate(lines, 1) if f'"{name}"' in text), None)
        yield Finding(
            "lock.stale", Severity.ERROR, f"homestack.lock: {name} {why}", path, line, name, FIX
        )
