"""doctor groups the same finding of many services into one line with one fix (issue 15):
18 "never backed up" warnings were 18 lines with 18 fixes."""

from __future__ import annotations

from rich.console import Console

from homestack.cli.observe_cmds import _render_doctor
from homestack.observe.checks import DoctorResult, fail, ok, warn


def test_the_same_warning_of_many_services_is_one_line_with_one_fix() -> None:
    names = [f"svc{i:02d}" for i in range(18)]
    result = DoctorResult(
        [ok("engine", "engine", "Docker 20.10 answers")]
        + [
            warn("backup", f"backup {n}", "never backed up", f"Run `homestack backup {n}`.")
            for n in names
        ]
        + [fail("ports", f"ports {n}", "127.0.0.1:80/tcp is taken", "Stop it.") for n in ("a", "b")]
    )
    console = Console(width=300, record=True, color_system=None)
    _render_doctor(result, console)
    lines = console.export_text().splitlines()
    grouped = [line for line in lines if "never backed up" in line]
    assert len(grouped) == 1, lines
    assert grouped[0].startswith("warn backup: 18 services: never backed up: svc00, svc01")
    fixes = [line for line in lines if "fix:" in line]
    assert "`homestack backup --all`, and `homestack backup --install-timer`" in fixes[0]
    assert sum("taken" in line for line in lines) == 2  # two alike stay two lines
    assert lines[-1] == "1 ok, 18 warning(s), 2 failure(s)"
