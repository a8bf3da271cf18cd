"""`./install-stack.sh --help` and bad flags: answered before anything is made or run.

The script runs on a copy, with a PATH that holds only a recording `python3` (and the few
tools bash needs), so a run that reached the virtual-environment step would leave a mark.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def shim(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(REPO / "install-stack.sh", site)
    (site / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dirname", "cat", "id", "rm"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    recorder = bin_dir / "python3"
    recorder.write_text(f'#!/bin/sh\necho "$@" >>{tmp_path / "python-ran"}\nexit 1\n')
    recorder.chmod(0o755)
    return site


def _run(site: Path, *args: str, chosen_venv: bool = True) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash")
    assert bash
    env = {"PATH": str(site.parent / "bin"), "HOME": str(site.parent)}
    if chosen_venv:
        env["HOMESTACK_VENV"] = str(site.parent / "venv")
    return subprocess.run(
        [bash, str(site / "install-stack.sh"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=env,
    )


def _untouched(site: Path) -> None:
    assert sorted(p.name for p in site.iterdir()) == ["install-stack.sh", "pyproject.toml"]
    assert not (site.parent / "venv").exists()
    assert not (site.parent / "python-ran").exists(), "python ran"


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_usage_and_exits_0_before_python_or_venv(shim: Path, flag: str) -> None:
    done = _run(shim, "--dry-run", flag)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: ./install-stack.sh ")
    for option in ("--stack ID", "--stand-in [IMAGE]", "--dry-run", "--yes", "--json"):
        assert option in done.stdout
    assert done.stderr == ""
    _untouched(shim)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus"], "unknown option --bogus"),
        (["ai"], "unexpected argument ai"),
        (["--stack"], "--stack needs a value"),
    ],
)
def test_bad_flags_exit_2_before_anything_is_made(
    shim: Path, args: list[str], message: str
) -> None:
    done = _run(shim, *args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "./install-stack.sh --help" in done.stderr
    _untouched(shim)


def test_good_flags_get_past_the_check(shim: Path) -> None:
    """Known flags go on to the Python step (the recording python3 then says it ran)."""
    done = _run(shim, "--stack", "ai", "--stand-in", "img:1", "--dry-run", "-y", "--json")
    assert "unknown option" not in done.stderr and "unexpected" not in done.stderr
    assert (shim.parent / "python-ran").exists()


def test_the_flags_the_script_accepts_are_those_of_install_all() -> None:
    """The script's early check and its help stay in step with `homestack install all`."""
    from homestack.cli import host_cmds  # noqa: F401  (registers `install all`)
    from homestack.cli.app import app

    group: Any = typer.main.get_command(app)
    command = group.commands["install"].commands["all"]
    flags = {opt for p in command.params for opt in p.opts if p.name != "help"}
    text = (REPO / "install-stack.sh").read_text()
    check = text[text.index('case "$arg" in') : text.index("esac")]
    accepted = set(check.replace("=*", " ").replace("|", " ").replace(")", " ").split())
    assert flags <= accepted, flags - accepted
    usage = text[text.index("usage() {") : text.index("EOF_USAGE\n}")]
    assert all(flag in usage for flag in flags - {"--stand-in-image"})
    assert os.access(REPO / "install-stack.sh", os.X_OK)


def test_a_python3_older_than_3_11_is_refused_not_used_for_the_venv(shim: Path) -> None:
    """Only an old python3 on PATH (the recorder fails the version check), no apt-get."""
    done = _run(shim, "--dry-run")
    assert done.returncode == 1, done.stderr
    assert "Python 3.11 or newer is needed" in done.stderr
    assert "creating the virtual environment" not in done.stderr
    assert not (shim.parent / "venv").exists()


def _python_without_venv(site: Path) -> None:
    """A python3 that passes the version check but whose venv module fails."""
    recorder = site.parent / "bin" / "python3"
    ran = site.parent / "python-ran"
    recorder.write_text(f'#!/bin/sh\n[ "$1" = -c ] && exit 0\necho "$@" >>{ran}\nexit 1\n')


def test_a_chosen_venv_whose_python_does_not_run_is_never_removed(shim: Path) -> None:
    """HOMESTACK_VENV names a venv whose interpreter is gone (a Python upgrade, or one this
    user may not run): the script says so and leaves it; it used to `rm -rf` it."""
    _python_without_venv(shim)
    venv = shim.parent / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "bin" / "python").symlink_to("/nonexistent/python3.11")
    (venv / "keep-me").write_text("the user's packages\n")
    done = _run(shim, "--dry-run")
    assert done.returncode == 1, done.stderr
    assert f"HOMESTACK_VENV={venv}: its python does not run" in done.stderr
    assert "python3 -m venv --clear" in done.stderr
    assert (venv / "keep-me").is_file() and (venv / "pyvenv.cfg").is_file()
    assert not (shim.parent / "python-ran").exists(), "python -m venv ran over it"


def test_a_venv_this_run_could_not_make_is_removed_again(shim: Path) -> None:
    """What a failed `python -m venv` left half-made is removed; nothing else is."""
    _python_without_venv(shim)
    venv = shim.parent / "venv"
    done = _run(shim, "--dry-run")
    assert done.returncode == 1, done.stderr
    assert "the venv module is missing" in done.stderr
    assert not venv.exists()


def test_the_sites_own_venv_whose_python_does_not_run_is_made_again(shim: Path) -> None:
    """.venv is the script's own: a broken one is removed and made again, saying so."""
    _python_without_venv(shim)
    venv = shim / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to("/nonexistent/python3.11")
    done = _run(shim, "--dry-run", chosen_venv=False)
    assert f"the virtual environment {venv} does not work" in done.stderr
    assert (shim.parent / "python-ran").read_text().startswith("-m venv")
