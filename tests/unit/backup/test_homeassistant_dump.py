"""Home Assistant's dump command, as the catalog ships it, run by a real Python on a real
SQLite database in WAL mode (the recorder's), with the recorder writing mid-dump."""

from __future__ import annotations

import builtins
import sqlite3
from pathlib import Path

import pytest

from homestack.catalog import Site
from testkit.sites import copy_catalog

LIVE = "file:/config/home-assistant_v2.db?mode=ro"


def _script(tmp_path: Path) -> str:
    site = Site.load(copy_catalog(tmp_path / "site"))
    service = site.service("homeassistant")
    spec = service.meta.backup if service.meta else None
    assert spec is not None and spec.dump_command
    program, flag, script = spec.dump_command
    assert (program, flag) == ("python3", "-c") and LIVE in script
    return script


def test_the_dump_is_one_moment_of_the_database_while_the_recorder_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorder adds a state and its attributes between the dump of one table and the
    next: the dump holds both or neither (before: the second table had rows the first
    lacked, so a restore held states pointing at attributes that were never dumped)."""
    database = tmp_path / "home-assistant_v2.db"
    recorder = sqlite3.connect(database, isolation_level=None)
    recorder.execute("PRAGMA journal_mode=WAL")
    recorder.execute("CREATE TABLE state_attributes (id INTEGER PRIMARY KEY, shared TEXT)")
    recorder.execute("CREATE TABLE states (id INTEGER PRIMARY KEY, attributes_id INTEGER)")
    recorder.execute("INSERT INTO state_attributes VALUES (1, '{}')")
    recorder.execute("INSERT INTO states VALUES (1, 1)")
    lines: list[str] = []

    def capture(line: str) -> None:
        lines.append(line)
        if line.startswith('INSERT INTO "state_attributes"') and len(lines) < 10:
            recorder.execute("BEGIN")
            recorder.execute("INSERT INTO state_attributes VALUES (2, '{}')")
            recorder.execute("INSERT INTO states VALUES (2, 2)")
            recorder.execute("COMMIT")

    script = _script(tmp_path).replace(LIVE, f"file:{database}?mode=ro")
    monkeypatch.setattr(builtins, "print", capture)
    exec(compile(script, "dump_command", "exec"), {})  # noqa: S102 - the catalog's own program
    monkeypatch.undo()

    restored = sqlite3.connect(":memory:")
    restored.executescript("\n".join(lines))
    assert restored.execute("SELECT id FROM state_attributes").fetchall() == [(1,)]
    assert restored.execute("SELECT id, attributes_id FROM states").fetchall() == [(1, 1)]
    assert len(recorder.execute("SELECT id FROM states").fetchall()) == 2  # it did write
