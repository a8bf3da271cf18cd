"""doctor's fix for a stopped container of a disabled service: `up` would start it again as
disabled-but-running; the fix is `down` (or enable, then up)."""

from __future__ import annotations

from homestack.observe.doctor import _service_fix
from homestack.observe.status import StatusRow


def _row(enabled: bool) -> StatusRow:
    return StatusRow(
        service="ollama",
        stack="ai",
        container="hs_ai-ollama-1",
        enabled=enabled,
        state="exited",
        health=None,
        health_output=None,
        exit_code=137,
        started_at=None,
        uptime_s=None,
        restarts=0,
        cpu_percent=None,
        mem_used=None,
        mem_limit=None,
        url=None,
        ports=[],
        last_backup=None,
        backup_failed=False,
        flag=None,
    )


def test_stopped_disabled_service_fix_is_down_not_up() -> None:
    fix = _service_fix(_row(enabled=False))
    assert fix.startswith("It is commented out in stack.yaml: `homestack down ollama`")
    assert "`homestack enable ollama`, then `homestack up ollama`" in fix


def test_stopped_enabled_service_fix_is_still_up() -> None:
    assert "start it again: `homestack up ollama`" in _service_fix(_row(enabled=True))
