"""An OSError that no caller turned into a message (an unreadable file, a full disk, a path
that vanished) is reported as a failed operation naming the path and a fix, exit 1: not as
"internal error … report the traceback", which sends a user to file a bug for a mode bit.

The errors are planted where the site is loaded: as root on this machine no real file is
unreadable, and a full disk cannot be made safely.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run

REPO = Path(__file__).resolve().parents[2]


def _fail_with(monkeypatch: pytest.MonkeyPatch, error: OSError) -> None:
    def load(root: Path) -> Site:
        raise error

    monkeypatch.setattr(Site, "load", staticmethod(load))


@pytest.mark.parametrize(
    ("code", "reason", "advice"),
    [
        (errno.EACCES, "Permission denied", "ls -ld /srv/site/ai-stack/stack.yaml"),
        (errno.ENOSPC, "No space left on device", "df -h /srv/site/ai-stack/stack.yaml"),
        (errno.ELOOP, "Too many levels of symbolic links", "symbolic-link loop"),
    ],
)
def test_an_unguarded_os_error_names_the_path_and_the_fix(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    code: int,
    reason: str,
    advice: str,
) -> None:
    _fail_with(monkeypatch, OSError(code, reason, "/srv/site/ai-stack/stack.yaml"))
    assert run(["--site", str(REPO), "ls"]) == 1
    err = capsys.readouterr().err
    assert f"error: /srv/site/ai-stack/stack.yaml: {reason}" in err
    assert "fix:" in err and advice in err
    assert "internal error" not in err and "Traceback" not in err


def test_a_rename_names_both_paths(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fail_with(monkeypatch, OSError(errno.EXDEV, "Invalid cross-device link", "/a/x", None, "/b/x"))
    assert run(["--site", str(REPO), "ls"]) == 1
    err = capsys.readouterr().err
    assert "/a/x -> /b/x: Invalid cross-device link" in err and "fix: check /a/x" in err


def test_an_os_error_without_a_path_still_gets_a_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fail_with(monkeypatch, OSError(errno.EIO, "Input/output error"))
    assert run(["--site", str(REPO), "ls"]) == 1
    err = capsys.readouterr().err
    assert "Input/output error" in err and "--debug" in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback_of_an_os_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fail_with(monkeypatch, PermissionError(errno.EACCES, "Permission denied", "/x"))
    assert run(["--debug", "--site", str(REPO), "ls"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "/x: Permission denied" in err


def test_a_bug_is_still_an_internal_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def load(root: Path) -> Site:
        raise KeyError("oops")

    monkeypatch.setattr(Site, "load", staticmethod(load))
    assert run(["--site", str(REPO), "ls"]) == 1
    assert "internal error: KeyError" in capsys.readouterr().err


def test_python_311_symlink_loop_runtime_error_is_named_as_a_loop(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def load(root: Path) -> Site:
        raise RuntimeError("Symlink loop from '/srv/site/secrets/x'")  # what 3.11's resolve says

    monkeypatch.setattr(Site, "load", staticmethod(load))
    assert run(["--site", str(REPO), "ls"]) == 1
    err = capsys.readouterr().err
    assert "/srv/site/secrets/x: Too many levels of symbolic links" in err
    assert "replace the symbolic-link loop at /srv/site/secrets/x" in err
    assert "internal error" not in err
