"""The one atomic file writer every module uses."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from homestack.fsutil import write_atomic


def test_replaces_the_file_with_mode_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "settings.yml"
    target.write_text("old\n")
    write_atomic(target, "new\n" * 50_000, mode=0o640)
    assert target.read_text() == "new\n" * 50_000
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["settings.yml"]


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_owner_is_set_before_the_rename(tmp_path: Path) -> None:
    target = tmp_path / "conf"
    write_atomic(target, b"x", owner=(4321, 4322), durable=False)
    assert (target.stat().st_uid, target.stat().st_gid) == (4321, 4322)


def test_a_failed_write_keeps_the_old_content_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "keep"
    target.write_text("old")

    def refuse(fd: int, mode: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fchmod", refuse)  # fails after the data, before the rename
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep"]
