"""What a generate killed with -9 between the steps of its staged rename leaves beside the
files (`.NAME.PID.HEX.tmp` staged copies, `.NAME.PID.HEX.old` second names of the files it
was replacing) is cleaned up by the next generate; an `.old` whose file is gone is put back
(the user's file is never lost), and a run that is still alive is left alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.generate import generate_all

DEAD_PID = 2**22 + 1  # above pid_max's default (4194304): no process has it


def _leftovers(data: Path) -> list[str]:
    return sorted(
        str(p.relative_to(data))
        for p in data.rglob(".*")
        if p.is_file() and p.suffix in (".tmp", ".old")
    )


@pytest.fixture
def done(site: Site) -> Site:
    generate_all(site)
    return Site.load(site.root)


def test_a_kill_while_staging_leaves_temp_files_the_next_run_removes(done: Site) -> None:
    folder = done.data_root / "config/caddy"
    text = (folder / "Caddyfile").read_text(encoding="utf-8")
    (folder / f".Caddyfile.{DEAD_PID}.0123abcd.tmp").write_text("half", encoding="utf-8")
    (folder / ".Caddyfile.89abcdef.tmp").write_text("older format", encoding="utf-8")
    report = generate_all(Site.load(done.root))
    assert not report.changed
    assert _leftovers(done.data_root) == []
    assert (folder / "Caddyfile").read_text(encoding="utf-8") == text


def test_a_kill_mid_rename_leaves_second_names_the_next_run_removes(done: Site) -> None:
    folder = done.data_root / "config/caddy"
    caddyfile = folder / "Caddyfile"
    text = caddyfile.read_text(encoding="utf-8")
    os.link(caddyfile, folder / f".Caddyfile.{DEAD_PID}.00000001.old")  # linked, not renamed
    (folder / f".Caddyfile.{DEAD_PID}.00000002.tmp").write_text("new", encoding="utf-8")
    targets = done.data_root / "config/prometheus/targets"
    (targets / f".health-http.yml.{DEAD_PID}.00000003.old").write_text("previous: 1\n")
    generate_all(Site.load(done.root))
    assert _leftovers(done.data_root) == []
    assert caddyfile.read_text(encoding="utf-8") == text


def test_an_old_copy_whose_file_is_gone_is_put_back_not_lost(done: Site) -> None:
    users = done.data_root / "config/authelia/users_database.yml"
    edited = users.read_text(encoding="utf-8") + "# the user's own edit\n"
    users.unlink()
    old = users.with_name(f".users_database.yml.{DEAD_PID}.0000000a.old")
    old.write_text(edited, encoding="utf-8")
    secrets_before = sorted(p.name for p in done.secrets_dir.iterdir())
    report = generate_all(Site.load(done.root))
    assert users.read_text(encoding="utf-8") == edited
    assert [f.action for f in report.files if f.path == str(users)] == ["kept"]
    assert sorted(p.name for p in done.secrets_dir.iterdir()) == secrets_before
    assert _leftovers(done.data_root) == []


def test_a_dry_run_touches_no_leftover(done: Site) -> None:
    planted = done.data_root / "config/caddy" / f".Caddyfile.{DEAD_PID}.0123abcd.tmp"
    planted.write_text("half", encoding="utf-8")
    generate_all(Site.load(done.root), dry_run=True)
    assert planted.exists()


def test_the_files_of_a_run_still_alive_are_left_alone(done: Site) -> None:
    alive = subprocess.Popen(["sleep", "60"])
    try:
        planted = done.data_root / "config/caddy" / f".Caddyfile.{alive.pid}.0123abcd.tmp"
        planted.write_text("being written", encoding="utf-8")
        generate_all(Site.load(done.root))
        assert planted.read_text(encoding="utf-8") == "being written"
    finally:
        alive.kill()
        alive.wait()


KILLED_RUN = """
import os, signal, sys
from pathlib import Path
from homestack.catalog import Site
from homestack.generate import generate_all
real, calls = os.replace, []
def replace(src, dst):
    calls.append(dst)
    if len(calls) == 2:  # one file replaced, its .old kept, the rest staged
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst)
os.replace = replace
generate_all(Site.load(Path(sys.argv[1])))
"""


def test_a_real_kill_9_mid_run_is_recovered_by_the_next_run(site: Site) -> None:
    from homestack.stackfile import toggle

    generate_all(site)
    toggle(site, ["blocky"], enable=True)  # several files to replace
    done = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(site.root)], capture_output=True, check=False
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert _leftovers(site.data_root)  # what the kill left
    generate_all(Site.load(site.root))
    assert _leftovers(site.data_root) == []
    assert not generate_all(Site.load(site.root)).changed  # the whole new set is in place
    assert "dns." in (site.data_root / "config/caddy/Caddyfile").read_text(encoding="utf-8")
