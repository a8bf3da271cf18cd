"""Pure parts of backups: locks, the restore journal, restic output, settings, timers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from homestack.backup import config, restic
from homestack.backup.journal import Journal, Swap, write_atomic
from homestack.backup.lock import ServiceBusy, ServiceLock
from homestack.backup.manage import _prune_one
from homestack.backup.timer import install_timer
from homestack.catalog import Site
from homestack.errors import BadInput


def _site(tmp_path: Path, env: str = "") -> Site:
    (tmp_path / "base.docker-compose.yaml").write_text("networks: {}\n")
    (tmp_path / ".env").write_text("DATA_ROOT=./DATA\nSECRETS_DIR=./secrets\n" + env)
    return Site.load(tmp_path)


# ---- lock -----------------------------------------------------------------------------
def test_lock_refuses_a_second_holder_and_frees_on_release(tmp_path: Path) -> None:
    with ServiceLock(tmp_path, "db", "backup"):
        with pytest.raises(ServiceBusy, match=f"pid {os.getpid()}, backup"):
            ServiceLock(tmp_path, "db", "backup").acquire()
        with ServiceLock(tmp_path, "files", "backup"):
            pass  # other services are independent
    with ServiceLock(tmp_path, "db", "restore"):
        pass


def test_lock_of_a_killed_process_is_recovered(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from homestack.backup.lock import ServiceLock
        ServiceLock(Path({str(tmp_path)!r}), "db", "backup").acquire()
        print("locked", flush=True)
        time.sleep(600)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "locked"
    with pytest.raises(ServiceBusy, match=f"pid {child.pid}"):
        ServiceLock(tmp_path, "db", "backup").acquire()
    child.send_signal(signal.SIGKILL)
    child.wait()
    ServiceLock(tmp_path, "db", "backup").acquire().release()


# ---- journal: undo at every step of a swap ----------------------------------------------
def _swap(tmp_path: Path, had_live: bool = True) -> Swap:
    live = tmp_path / "svc"
    if had_live:
        live.mkdir()
        (live / "f").write_text("old")
    incoming = tmp_path / ".svc.restore-incoming"
    incoming.mkdir()
    (incoming / "f").write_text("new")
    return Swap(str(live), str(incoming), str(tmp_path / "svc.before-restore-x"), had_live)


@pytest.mark.parametrize("steps", [0, 1, 2])
def test_swap_undo_puts_the_old_data_back_after_any_step(tmp_path: Path, steps: int) -> None:
    swap = _swap(tmp_path)
    if steps >= 1:
        swap.swap_out()
    if steps >= 2:
        swap.swap_in()
    swap.undo()
    swap.undo()  # idempotent: recovery itself may be interrupted
    assert (tmp_path / "svc" / "f").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["svc"]


def test_swap_undo_removes_what_was_restored_where_nothing_was(tmp_path: Path) -> None:
    swap = _swap(tmp_path, had_live=False)
    swap.swap_out()
    swap.swap_in()
    swap.undo()
    assert list(tmp_path.iterdir()) == []


def test_journal_round_trips_and_tolerates_a_torn_file(tmp_path: Path) -> None:
    journal = Journal("db", "restore", phase="swapping", was_running=True)
    journal.swaps = [Swap("/a", "/b", "/c", True)]
    journal.save(tmp_path)
    loaded = Journal.load(tmp_path, "db")
    assert loaded is not None and loaded.swaps[0].previous == "/c" and loaded.was_running
    Journal.path(tmp_path, "db").write_text('{"service": "db", "op": "rest')
    torn = Journal.load(tmp_path, "db")
    assert torn is not None and torn.phase == "unreadable" and not torn.swaps
    Journal.clear(tmp_path, "db")
    assert Journal.load(tmp_path, "db") is None


def test_write_atomic_leaves_no_temp_file(tmp_path: Path) -> None:
    write_atomic(tmp_path / "x.json", b"{}", 0o600)
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
    assert (tmp_path / "x.json").stat().st_mode & 0o777 == 0o600


# ---- restic runner --------------------------------------------------------------------
def test_backup_output_status_lines_then_summary_parse_tolerantly() -> None:
    text = (
        '{"message_type":"status","percent_done":0.5}\n'
        '{"message_type":"summary","files_new":2,"data_added":10,"snapshot_id":"ab12",'
        '"a_field_from_a_newer_restic":1}\n'
    )
    items = restic._parse_json_lines(text)
    summary = restic.BackupSummary.model_validate(items[-1])
    assert summary.files_new == 2 and summary.snapshot_id == "ab12"
    snap = restic.Snapshot.model_validate({"id": "x", "tags": ["service=db"], "extra": {}})
    assert snap.tag("service") == "db" and snap.tag("stack") is None


def test_restic_errors_are_classified_with_a_fix() -> None:
    locked = restic._error_for(
        ["restic", "check"], 1, "repository is already locked by PID 3", "db"
    )
    assert isinstance(locked, restic.RepositoryLocked) and locked.hint
    wrong = restic._error_for(["restic", "snapshots"], 1, "Fatal: wrong password or no key", None)
    assert isinstance(wrong, restic.WrongPassword) and "password" in (wrong.hint or "")
    full = restic._error_for(["restic", "backup"], 1, "write: no space left on device", "db")
    assert "full" in (full.hint or "") and full.returncode == 1 and full.command[0] == "restic"


def test_missing_restic_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    restic.restic_binary.cache_clear()
    try:
        with pytest.raises(restic.ResticUnavailable) as missing:
            restic.restic_binary()
        assert "apt-get install restic" in (missing.value.hint or "")
        assert "homestack install" in (missing.value.hint or "")
    finally:
        restic.restic_binary.cache_clear()


def test_password_reaches_restic_only_as_a_file(tmp_path: Path) -> None:
    runner = restic.Restic("/repo", tmp_path / "pw")
    os.environ["RESTIC_PASSWORD"] = "leak"
    try:
        env = runner.environment()
    finally:
        del os.environ["RESTIC_PASSWORD"]
    assert "RESTIC_PASSWORD" not in env and env["RESTIC_PASSWORD_FILE"] == str(tmp_path / "pw")
    assert not any("pw" in arg for arg in runner.command(["snapshots"]))


def test_retention_args_skip_zero_rules() -> None:
    assert restic.Retention(3, 0, 2, 0).args() == ["--keep-last", "3", "--keep-weekly", "2"]
    assert restic.Retention(0, 0, 0, 0).keeps_nothing_specified


class _FakeRestic:
    """restic cannot be made to plan 'keep nothing'; this fake stands in for that plan."""

    def __init__(self, keep: list[str], remove: list[str]) -> None:
        self.plan = keep, remove
        self.forgotten: list[str] = []

    def snapshots(self, *, tag: str | None = None) -> list[restic.Snapshot]:
        return [restic.Snapshot(id=i) for i in (*self.plan[0], *self.plan[1])]

    def forget_plan(
        self, _policy: object, *, tag: str | None = None
    ) -> tuple[list[restic.Snapshot], list[restic.Snapshot]]:
        return [restic.Snapshot(id=i) for i in self.plan[0]], [
            restic.Snapshot(id=i) for i in self.plan[1]
        ]

    def forget(self, ids: list[str]) -> None:
        self.forgotten += ids


def test_prune_fake_plan_keeping_nothing_deletes_nothing() -> None:
    fake = _FakeRestic([], ["a", "b"])
    result = _prune_one(fake, "db", restic.Retention(), False)  # type: ignore[arg-type]
    assert not result.ok and fake.forgotten == []
    fake = _FakeRestic(["b"], ["a"])
    assert _prune_one(fake, "db", restic.Retention(), False).ok  # type: ignore[arg-type]
    assert fake.forgotten == ["a"]


# ---- settings -------------------------------------------------------------------------
def test_repository_default_and_remote_template(tmp_path: Path) -> None:
    site = _site(tmp_path)
    assert config.repository(site, "db") == str(tmp_path / "DATA" / "backups" / "db")
    remote = _site(tmp_path, "BACKUP_REPOSITORY=sftp:nas:/backups/{service}\n")
    assert config.repository(remote, "db") == "sftp:nas:/backups/db"
    relative = _site(tmp_path, "BACKUP_REPOSITORY=../offsite/{service}\n")
    assert config.repository(relative, "db") == str((tmp_path / "../offsite/db").resolve())


def test_retention_from_settings_and_bad_values(tmp_path: Path) -> None:
    site = _site(tmp_path, "BACKUP_KEEP_LAST=2\nBACKUP_KEEP_MONTHLY=0\n")
    policy = config.retention(site)
    assert policy.keep_last == 2 and policy.keep_monthly == 0 and policy.keep_daily == 7
    from homestack.errors import BadInput

    with pytest.raises(BadInput, match="BACKUP_KEEP_DAILY"):
        config.retention(_site(tmp_path, "BACKUP_KEEP_DAILY=-1\n"))


def test_password_is_generated_once_0600_outside_the_repository(tmp_path: Path) -> None:
    site = _site(tmp_path)
    path, created = config.ensure_password(site)
    assert created and path == tmp_path / "secrets" / "homestack_backup_password"
    assert path.stat().st_mode & 0o777 == 0o600 and len(path.read_text().strip()) >= 40
    first = path.read_text()
    again, created_again = config.ensure_password(site)
    assert again == path and not created_again and path.read_text() == first
    assert "KEEP A COPY" in config.password_notice(path)


# ---- timer ----------------------------------------------------------------------------
def test_install_timer_writes_systemd_units_into_a_target(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    site = _site(tmp_path / "site")
    target = tmp_path / "units"
    dry = install_timer(site, target=target, dry_run=True, scheduler="systemd")
    assert not dry.written and not target.exists()
    done = install_timer(site, target=target, scheduler="systemd")
    service = (target / "homestack-backup.service").read_text()
    timer = (target / "homestack-backup.timer").read_text()
    assert "backup --all" in service and "prune --all" in service
    assert service.index("backup --all") < service.index("prune --all")
    assert "OnCalendar=*-*-* 03:30:00" in timer and "Persistent=true" in timer
    assert done.written and done.activated == []


def test_install_timer_cron_entry_without_systemd(tmp_path: Path) -> None:
    site = _site(tmp_path, "BACKUP_CRON=15 2 * * *\n")
    done = install_timer(site, target=tmp_path / "cron.d", scheduler="cron")
    line = (tmp_path / "cron.d" / "homestack-backup").read_text().splitlines()[-1]
    assert line.startswith("15 2 * * * root ")
    assert "backup --all &&" in line and "prune --all" in line
    assert done.scheduler == "cron"


def test_cli_install_timer_dry_run_prints_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from homestack.cli.app import run

    _site(tmp_path)
    target = tmp_path / "units"
    argv = ["--site", str(tmp_path), "backup", "--install-timer", "--dry-run"]
    code = run([*argv, "--scheduler", "cron", "--target", str(target), "--json"])
    assert code == 0 and not target.exists()
    printed = json.loads(capsys.readouterr().out)
    assert printed["scheduler"] == "cron" and not printed["written"]
    assert run([*argv, "--scheduler", "weekly"]) == 2


def test_cli_backup_needs_a_service_or_all(tmp_path: Path) -> None:
    from homestack.cli.app import run

    _site(tmp_path)
    assert run(["--site", str(tmp_path), "backup"]) == 2
    assert run(["--site", str(tmp_path), "backup", "x", "--all"]) == 2


def test_snapshot_paths_map_to_the_current_site(tmp_path: Path) -> None:
    from homestack.backup.restore import live_path

    site = _site(tmp_path)
    old = "/old/home/site/DATA"
    assert live_path(site, "db", f"{old}/db") == tmp_path / "DATA" / "db"
    assert live_path(site, "db", f"{old}/config/db") == tmp_path / "DATA" / "config" / "db"
    assert live_path(site, "db", "/old/secrets/db_pw") == tmp_path / "secrets" / "db_pw"


def test_staging_on_another_filesystem_is_copied_with_owners_modes_links(tmp_path: Path) -> None:
    import tempfile

    from homestack.backup.restic import Snapshot
    from homestack.backup.restore import _plan_swaps, _stage_incoming

    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the temp folder")
    site = _site(tmp_path)
    with tempfile.TemporaryDirectory(dir=shm) as other:
        staging = Path(other)
        live = tmp_path / "DATA" / "db"
        staged = staging / str(live).lstrip("/")
        (staged / "sub").mkdir(parents=True)
        (staged / "sub" / "f").write_text("x")
        os.chmod(staged / "sub" / "f", 0o604)
        os.chown(staged / "sub" / "f", 1234, 4321)
        os.symlink("sub/f", staged / "link")
        swap = _plan_swaps(site, "db", Snapshot(id="s", paths=[str(live)]), "T")[0]
        assert not swap.had_live
        _stage_incoming(swap, staged, staging)
        incoming = Path(swap.incoming)
        info = (incoming / "sub" / "f").lstat()
        assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (1234, 4321, 0o604)
        assert os.readlink(incoming / "link") == "sub/f"
        swap.swap_out()
        swap.swap_in()
        assert (live / "sub" / "f").read_text() == "x"


def _stack_site(tmp_path: Path, services: dict[str, str]) -> Site:
    """_site plus one stack `tst` whose services carry these x-homestack.backup blocks."""
    folder = tmp_path / "tst-stack" / "services"
    folder.mkdir(parents=True)
    listed = "".join(f"  - {name}\n" for name in services)
    (folder.parent / "stack.yaml").write_text(f"description: t\nservices:\n{listed}")
    for name, backup in services.items():
        (folder / f"{name}.docker-compose.yaml").write_text(
            f"services:\n  {name}:\n    x-homestack:\n      title: {name}\n"
            f"      description: a test service\n      backup: {backup}\n"
            "    image: homestack/standin:local\n"
        )
    return _site(tmp_path)


def test_backup_all_skips_stateless_services_instead_of_failing(tmp_path: Path) -> None:
    """The shipped catalog has services with `consistency: none, paths: []` (socket-proxy,
    cadvisor …): `backup --all` (and the nightly timer's `&& prune`) must not fail on them."""
    from homestack.backup import backup, select

    site = _stack_site(
        tmp_path,
        {
            "proxy": "{consistency: none, paths: []}",
            "off": "null",
            "files": "{consistency: none, paths: [data]}",
        },
    )
    assert [s.id for s in select(site, None, None, True)] == ["files"]
    assert [s.id for s in select(site, None, "tst", False)] == ["files"]
    run = backup(site, [site.service("proxy")])  # named on its own: skipped, not a failure
    assert run.ok and run.results[0].skipped and "stateless" in run.results[0].skipped
    assert not (tmp_path / "DATA" / "backups" / "proxy").exists()


def test_cli_progress_says_skipped_not_ok_for_a_stateless_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from homestack.cli.app import run

    _stack_site(tmp_path, {"proxy": "{consistency: none, paths: []}"})
    assert run(["--site", str(tmp_path), "backup", "proxy"]) == 0
    captured = capsys.readouterr()
    assert "proxy: ok" not in captured.err + captured.out
    assert "backing up proxy" in captured.err  # a line as it starts; the result once
    assert (captured.err + captured.out).count("proxy: skipped") == 1
    assert "proxy: skipped (stateless" in captured.out


def test_backup_takes_several_names_and_all_reports_a_listed_service_without_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`backup a b` got Click's "unexpected extra argument", and a name in stack.yaml
    without its file was skipped in silence by `backup --all` (real restic, no engine:
    these services are copied live)."""
    from homestack.cli.app import run

    _stack_site(
        tmp_path,
        {"one": "{consistency: none, paths: [data]}", "two": "{consistency: none, paths: [data]}"},
    )
    for name in ("one", "two"):
        (tmp_path / "DATA" / name).mkdir(parents=True)
        (tmp_path / "DATA" / name / "f.txt").write_text(name)
    assert run(["--site", str(tmp_path), "backup", "one", "two", "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert [r["service"] for r in done["results"]] == ["one", "two"]
    assert all(r["ok"] and r["snapshot"] for r in done["results"])

    stack = tmp_path / "tst-stack" / "stack.yaml"
    stack.write_text(stack.read_text() + "  - ghost\n")
    assert run(["--site", str(tmp_path), "backup", "--all"]) == 1
    out = capsys.readouterr().out
    assert "ghost: backup FAILED" in out and "ghost.docker-compose.yaml does not exist" in out
    assert "one: snapshot" in out and "two: snapshot" in out


def test_restore_without_a_repository_says_no_backups_yet(tmp_path: Path) -> None:
    """DATA/backups/{service} exists empty after `install data`; restic's own error
    ('unable to open config file … Is there a repository') is not the message."""
    from homestack.backup import restore
    from homestack.errors import OperationFailed

    site = _stack_site(tmp_path, {"files": "{consistency: none, paths: [data]}"})
    (tmp_path / "DATA" / "backups" / "files").mkdir(parents=True)
    with pytest.raises(OperationFailed) as failed:
        restore(site, site.service("files"))
    assert failed.value.message.startswith("files has no backups to restore")
    assert failed.value.hint and "homestack backup files" in failed.value.hint


def test_verify_refuses_a_subset_restic_cannot_read_as_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from homestack.backup.manage import check_subset
    from homestack.cli.app import run
    from homestack.errors import BadInput

    for good in ("10%", "2.5%", "100%", "1/5", "5/5", "500M", "2g"):
        check_subset(good, read_data=False)
    for bad in ("bogus", "0%", "101%", "0/5", "6/5", "500", "1.5G", "-1", "0M"):
        with pytest.raises(BadInput):
            check_subset(bad, read_data=False)
    with pytest.raises(BadInput, match="cannot be used together"):
        check_subset("10%", read_data=True)
    _stack_site(tmp_path, {"files": "{consistency: none, paths: [data]}"})
    assert run(["--site", str(tmp_path), "verify", "--read-data-subset", "bogus"]) == 2
    err = capsys.readouterr().err
    assert "'bogus' is not a part restic can read" in err and "10%" in err


def test_a_service_file_homestack_cannot_read_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its backup settings are unknown: no default `stop` backup, no compose error half-way."""
    from homestack.backup import backup, restore
    from homestack.cli.app import run
    from homestack.errors import BadInput

    site = _stack_site(tmp_path, {"files": "{consistency: none, paths: [data]}", "db": "{}"})
    broken = tmp_path / "tst-stack" / "services" / "db.docker-compose.yaml"
    broken.write_text(broken.read_text() + "  bad: [unclosed\n")
    (tmp_path / "DATA" / "db").mkdir(parents=True)
    site = Site.load(tmp_path)

    assert run(["--site", str(tmp_path), "backup", "db"]) == 2
    err = capsys.readouterr().err
    assert "not valid YAML" in err and "db.docker-compose.yaml:" in err
    done = backup(site, [site.service("db")])
    assert not done.ok and "not valid YAML" in (done.results[0].error or "")
    assert not (tmp_path / "DATA" / "backups" / "db").exists()  # no repository made
    with pytest.raises(BadInput, match="not valid YAML"):
        restore(site, site.service("db"))


def test_a_broken_env_layer_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from homestack.backup import backup, restore
    from homestack.cli.app import run
    from homestack.errors import BadInput

    site = _stack_site(tmp_path, {"files": "{consistency: stop, paths: [data]}"})
    (tmp_path / "tst-stack" / "services" / "files").mkdir()
    (tmp_path / "tst-stack" / "services" / "files" / ".env").write_text("not a setting\n")
    (tmp_path / "DATA" / "files").mkdir(parents=True)
    assert run(["--site", str(tmp_path), "backup", "files"]) == 2
    assert "files/.env:1: not a KEY=value line" in capsys.readouterr().err
    done = backup(site, [site.service("files")])
    assert not done.ok and "not a KEY=value line" in (done.results[0].error or "")
    assert not (tmp_path / "DATA" / "backups" / "files").exists()
    with pytest.raises(BadInput, match="not a KEY=value line"):
        restore(site, site.service("files"))


def test_verify_of_a_service_never_backed_up_does_not_say_ok(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from homestack.cli.app import run

    _stack_site(tmp_path, {"files": "{consistency: none, paths: [data]}"})
    assert run(["--site", str(tmp_path), "verify", "files"]) == 0
    out = capsys.readouterr().out
    assert "files: no backups yet (nothing to check)" in out and "ok" not in out
    assert run(["--site", str(tmp_path), "verify", "files", "--json"]) == 0
    assert '"checked": false' in capsys.readouterr().out


def test_cli_timer_flags_without_install_timer_back_up_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`backup SERVICE --dry-run` used to stop the service and take a real snapshot."""
    from homestack.cli.app import run

    _stack_site(tmp_path, {"files": "{consistency: none, paths: [data]}"})
    (tmp_path / "DATA" / "files").mkdir(parents=True)
    site = ["--site", str(tmp_path)]
    assert run([*site, "backup", "files", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "--dry-run only works with --install-timer; nothing was backed up" in err
    assert run([*site, "backup", "--all", "--target", str(tmp_path / "t")]) == 2
    assert run([*site, "backup", "--install-timer", "--dry-run", "files"]) == 2
    assert not (tmp_path / "DATA" / "backups" / "files").exists()
    assert not (tmp_path / "secrets" / "homestack_backup_password").exists()


def test_cli_help_of_backups_and_verify_offers_no_all_they_do_not_have(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from homestack.cli.app import run

    for command in ("backups", "verify"):
        assert run([command, "--help"]) == 0
        text = capsys.readouterr().out
        assert "--all" not in text and "every enabled service" in text


def test_nothing_to_back_up_fails_before_a_repository_is_made(tmp_path: Path) -> None:
    from homestack.backup import backup

    site = _stack_site(tmp_path, {"files": "{consistency: none, paths: [data]}"})
    done = backup(site, [site.service("files")])  # DATA/files does not exist
    assert not done.ok and "nothing to back up" in (done.results[0].error or "")
    assert not (tmp_path / "DATA" / "backups" / "files").exists()


def test_install_timer_refuses_a_target_whose_parent_is_missing(tmp_path: Path) -> None:
    site = _site(tmp_path)
    target = tmp_path / "no-such-folder" / "cron.d"  # a typo: never made as a chain
    for dry_run in (True, False):
        with pytest.raises(BadInput) as refused:
            install_timer(site, target=target, scheduler="cron", dry_run=dry_run)
        assert "parent folder" in refused.value.message and refused.value.hint
    assert not (tmp_path / "no-such-folder").exists()


def test_install_timer_refuses_a_target_that_is_a_file(tmp_path: Path) -> None:
    site = _site(tmp_path)
    (tmp_path / "units").write_text("keep me\n")
    with pytest.raises(BadInput, match="is not a folder"):
        install_timer(site, target=tmp_path / "units", scheduler="systemd")
    assert (tmp_path / "units").read_text() == "keep me\n"


def test_restore_json_prints_json_when_the_engine_is_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`restore --json` printed the text error when no engine answered (issue 15). Real
    restic and Compose CLI; DOCKER_HOST points at a socket nothing listens on."""
    from homestack.cli.app import run

    _stack_site(tmp_path, {"files": "{consistency: none, paths: [data]}"})
    (tmp_path / "DATA" / "files").mkdir(parents=True)
    (tmp_path / "DATA" / "files" / "f.txt").write_text("x")
    assert run(["--site", str(tmp_path), "backup", "files"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    code = run(["--site", str(tmp_path), "restore", "files", "--json"])
    captured = capsys.readouterr()
    assert code == 1, captured
    data = json.loads(captured.out)
    assert data["ok"] is False and data["service"] == "files" and data["error"]
    assert "error:" in captured.err


def test_restore_of_two_services_is_refused_in_the_homestack_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`restore one two` took `two` for a snapshot id ("no snapshots matching 'two'"): it
    now says restore takes one service, with the fix (exit 2, nothing done)."""
    from homestack.cli.app import run

    _stack_site(
        tmp_path,
        {"one": "{consistency: none, paths: [data]}", "two": "{consistency: none, paths: [data]}"},
    )
    assert run(["--site", str(tmp_path), "restore", "one", "two"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "restore takes one service and a snapshot id; 'two' is a service" in err
    assert "`homestack restore one`, then `homestack restore two`" in err
