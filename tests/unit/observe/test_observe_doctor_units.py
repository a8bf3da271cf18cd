"""Doctor checks that need no engine: secrets, DATA owners, backups, disk, GPU (faked)."""

from __future__ import annotations

import os
import shutil
from collections import namedtuple
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from homestack.catalog import Site
from homestack.findings import Finding, Severity
from homestack.gpu import GpuDevice, GpuReport
from homestack.observe import doctor, doctor_files, doctor_net, hooks

SERVICE = """services:
  {name}:
    x-homestack:
      title: {name}
      description: d
{extra}
    image: x:1
"""


def _site(tmp_path: Path, extras: dict[str, str]) -> Site:
    (tmp_path / "base.docker-compose.yaml").write_text("networks: {}\n")
    uid, gid = os.geteuid(), os.getegid()
    (tmp_path / ".env").write_text(f"PUID={uid}\nPGID={gid}\n")
    folder = tmp_path / "ai-stack" / "services"
    folder.mkdir(parents=True)
    (tmp_path / "ai-stack" / "stack.yaml").write_text(
        "services:\n" + "".join(f"  - {n}\n" for n in extras)
    )
    for name, extra in extras.items():
        text = SERVICE.format(name=name, extra="\n".join("      " + x for x in extra.splitlines()))
        (folder / f"{name}.docker-compose.yaml").write_text(text)
    site = Site.load(tmp_path)
    site.require_valid()
    return site


def test_secrets_missing_open_and_fine(tmp_path: Path) -> None:
    site = _site(tmp_path, {"app": "secrets: [{name: key}, {name: token}, {name: gone}]"})
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    (secrets / "app_key").write_text("x" * 32)
    (secrets / "app_key").chmod(0o600)
    (secrets / "app_token").write_text("y" * 32)
    (secrets / "app_token").chmod(0o644)
    checks = {c.name: c for c in doctor_files.check_secrets(site, site.services(enabled_only=True))}
    assert checks["secret app_key"].status == "ok"
    assert checks["secret app_token"].status == "fail"
    assert "world-accessible" in checks["secret app_token"].detail
    assert checks["secret app_token"].fix == (
        f"Run `chmod 600 {secrets / 'app_token'}`, and change that secret if others could read it."
    )
    assert checks["secret app_gone"].status == "fail"
    assert "homestack install secrets" in (checks["secret app_gone"].fix or "")


def test_secrets_folder_open_to_others(tmp_path: Path) -> None:
    site = _site(tmp_path, {"app": "secrets: [{name: key}]"})
    (tmp_path / "secrets").mkdir(mode=0o755)
    (tmp_path / "secrets").chmod(0o755)
    checks = {c.name: c for c in doctor_files.check_secrets(site, site.services(enabled_only=True))}
    assert checks["secrets folder"].status == "fail"
    assert "chmod 700" in (checks["secrets folder"].fix or "")


def test_data_owners(tmp_path: Path) -> None:
    site = _site(tmp_path, {"mine": "", "theirs": "uid: 4242\ngid: 4242", "new": ""})
    for name in ("mine", "theirs"):
        for folder in (name, f"config/{name}", f"backups/{name}"):
            (tmp_path / "DATA" / folder).mkdir(parents=True)
    checks = {c.name: c for c in doctor_files.check_data(site, site.services(enabled_only=True))}
    assert checks["data mine"].status == "ok"
    assert checks["data theirs"].status == "warn"
    assert "chown -R 4242:4242" in (checks["data theirs"].fix or "")
    assert checks["data new"].status == "warn" and "not created" in checks["data new"].detail


def test_data_owner_of_a_root_service_matches_install_data(tmp_path: Path) -> None:
    """A root container's data and config belong to root, its backups folder to PUID:PGID."""
    if os.geteuid() != 0:
        pytest.skip("chown needs root")
    site = _site(tmp_path, {"rooted": "uid: 0"})
    from homestack.deploy import ensure_data

    ensure_data(site, site.services(enabled_only=True))
    for folder in ("backups/rooted",):
        os.chown(tmp_path / "DATA" / folder, 4321, 4322)
    (tmp_path / ".env").write_text("PUID=4321\nPGID=4322\n")
    site = Site.load(tmp_path)
    checks = {c.name: c for c in doctor_files.check_data(site, site.services(enabled_only=True))}
    assert checks["data rooted"].status == "ok", checks["data rooted"].detail


def test_stateless_services_need_no_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _site(
        tmp_path,
        {"proxy": "backup: {consistency: none, paths: []}", "skipped": "backup: null", "db": ""},
    )
    monkeypatch.setattr(hooks, "last_backup", lambda _site, _name: hooks.BackupState(True, None))
    checks = {c.name for c in doctor_files.check_backups(site, site.services(enabled_only=True))}
    assert checks == {"backup db"}


def test_backup_ages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _site(tmp_path, {"fresh": "", "stale": "", "old": "", "never": "", "broken": ""})
    now = datetime.now(UTC)
    states = {
        "fresh": hooks.BackupState(True, now - timedelta(hours=3)),
        "stale": hooks.BackupState(True, now - timedelta(days=3)),
        "old": hooks.BackupState(True, now - timedelta(days=30)),
        "never": hooks.BackupState(True, None),
        "broken": hooks.BackupState(True, now, failed=True, error="repository locked"),
    }
    monkeypatch.setattr(hooks, "last_backup", lambda _site, name: states[name])
    checks = {c.name: c for c in doctor_files.check_backups(site, site.services(enabled_only=True))}
    assert [checks[f"backup {n}"].status for n in states] == ["ok", "warn", "fail", "warn", "fail"]
    assert "repository locked" in checks["backup broken"].detail
    assert "homestack backup old" in (checks["backup old"].fix or "")


def test_last_backup_reads_the_backup_modules_record(monkeypatch: pytest.MonkeyPatch) -> None:
    record = SimpleNamespace(
        ok=False,
        time="2024-05-02T00:00:00+00:00",
        last_success="2024-05-01T00:00:00+00:00",
        error="disk full",
    )
    fake = SimpleNamespace(last_backup=lambda site, service: record)
    monkeypatch.setattr(hooks, "optional_module", lambda name: fake)
    state = hooks.last_backup(None, "x")  # type: ignore[arg-type]
    assert state.known and state.failed and state.error == "disk full"
    assert state.last_success == datetime(2024, 5, 1, tzinfo=UTC)
    monkeypatch.setattr(hooks, "optional_module", lambda name: None)
    assert hooks.last_backup(None, "x") == hooks.BackupState(False)  # type: ignore[arg-type]


Usage = namedtuple("Usage", "total used free")


@pytest.mark.parametrize(("free_gib", "status"), [(500, "ok"), (40, "warn"), (0.5, "fail")])
def test_disk_thresholds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, free_gib: float, status: str
) -> None:
    site = _site(tmp_path, {"a": ""})
    total = 1000 * doctor.GIB
    free = int(free_gib * doctor.GIB)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: Usage(total, total - free, free))
    check = doctor.check_disk(site)
    assert check.status == status
    assert str(site.data_root) in check.detail


def _fake_report(usable: bool, memory: int = 16384) -> GpuReport:
    device = GpuDevice("nvidia", "NVIDIA RTX 4080", memory, "550.54", source="nvidia-smi-csv")
    return GpuReport(
        devices=(device,),
        present_vendors=("nvidia",),
        usable_vendors=("nvidia",) if usable else (),
        reasons={
            "nvidia": "NVIDIA RTX 4080: containers can use it (nvidia runtime)"
            if usable
            else "NVIDIA RTX 4080 is present but the toolkit is missing"
        },
        fixes={} if usable else {"nvidia": "Run `homestack install drivers --yes`."},
    )


def test_gpu_lines_fake_nvidia_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from homestack import gpu

    site = _site(
        tmp_path,
        {"llm": "gpu: optional\ngpu_memory_mb: 12000", "tts": "gpu: required\ngpu_memory_mb: 8000"},
    )
    monkeypatch.setattr(gpu, "cached_report", lambda setting: _fake_report(True))
    checks = {c.name: c for c in doctor_files.check_gpu(site, site.services(enabled_only=True))}
    assert checks["gpu nvidia"].detail == "NVIDIA RTX 4080, 16384 MiB, driver 550.54"
    assert checks["gpu nvidia in Docker"].status == "ok"
    memory = checks["gpu memory"]
    assert memory.status == "warn" and "20000 MiB" in memory.detail and "16384 MiB" in memory.detail
    monkeypatch.setattr(gpu, "cached_report", lambda setting: _fake_report(False))
    checks = {c.name: c for c in doctor_files.check_gpu(site, site.services(enabled_only=True))}
    assert checks["gpu nvidia in Docker"].status == "fail"  # tts requires it
    assert "install drivers" in (checks["gpu nvidia in Docker"].fix or "")
    assert checks["gpu"].status == "fail" and "tts" in checks["gpu"].detail


def test_gpu_none_needed_fake_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from homestack import gpu

    site = _site(tmp_path, {"llm": "gpu: optional\ngpu_memory_mb: 4000"})
    monkeypatch.setattr(gpu, "cached_report", lambda setting: GpuReport())
    checks = {c.name: c for c in doctor_files.check_gpu(site, site.services(enabled_only=True))}
    assert checks["gpu"].status == "ok" and "llm run on the CPU" in checks["gpu"].detail


def test_gpu_forced_without_that_gpu_fake_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from homestack import gpu

    site = _site(tmp_path, {"llm": "gpu: optional\ngpu_memory_mb: 4000"})
    # GPU=nvidia on a host where nothing was detected: up gives llm the nvidia overlay
    forced = gpu.apply_setting(GpuReport(), "nvidia")
    monkeypatch.setattr(gpu, "cached_report", lambda setting: forced)
    checks = doctor_files.check_gpu(site, site.services(enabled_only=True))
    by_name = {c.name: c for c in checks}
    assert by_name["gpu"].status == "warn"
    assert "GPU=nvidia" in by_name["gpu"].detail and "no nvidia GPU" in by_name["gpu"].detail
    assert "GPU=auto" in (by_name["gpu"].fix or "")
    assert not any("run on the CPU" in c.detail for c in checks)


def _members() -> list[doctor_net.Member]:
    return [
        doctor_net.Member("p_ai-web-1", "web", {"p_ai-services": "10.1.0.2"}),
        doctor_net.Member("p_media-tv-1", "tv", {"p_media-services": "10.2.0.2"}),
    ]


@pytest.mark.parametrize(
    ("answers", "segregation", "names"),
    [
        ("REACH control\nBLOCK p_media-tv-1@p_media-services\nNAME-OK web\n", "ok", "ok"),
        ("REACH control\nREACH p_media-tv-1@p_media-services\nNAME-FAIL web\n", "fail", "fail"),
        ("BLOCK control\nBLOCK p_media-tv-1@p_media-services\nNAME-OK web\n", "warn", "ok"),
    ],
)
def test_probe_verdicts_fake_probe_output(
    monkeypatch: pytest.MonkeyPatch, answers: str, segregation: str, names: str
) -> None:
    seen: dict[str, str] = {}

    def fake_probe(
        api: object, image: str, network: str, script: str, *, name: str
    ) -> tuple[int, str]:
        seen.update(network=network, script=script, name=name)
        return 0, answers

    monkeypatch.setattr(doctor_net.engine, "run_probe", fake_probe)
    checks = {
        c.name: c for c in doctor_net._probe_network(None, "img", "p_ai-services", _members(), "p_")
    }
    assert checks["segregation p_ai-services"].status == segregation
    assert checks["names on p_ai-services"].status == names
    assert seen["name"].startswith("p_homestack-probe-")
    assert "10.2.0.2" in seen["script"] and "nslookup web" in seen["script"]
    if segregation == "fail":
        assert "p_media-tv-1" in checks["segregation p_ai-services"].detail
        assert "iptables" in (checks["segregation p_ai-services"].fix or "")


def test_broken_files_are_fail_lines_and_the_rest_is_still_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _site(tmp_path, {"good": "", "bad": ""})
    (tmp_path / "ai-stack" / "services" / "bad.docker-compose.yaml").write_text("services: [\n")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setattr("homestack.engine.docker._client", None)
    result = doctor.run_doctor(Site.load(site.root))
    checks = {c.name: c for c in result.checks}
    assert result.failed
    assert checks["yaml.syntax"].status == "fail" and "bad" in checks["yaml.syntax"].detail
    assert checks["engine"].status == "fail" and "no-engine.sock" in checks["engine"].detail
    assert "data good" in checks and "data bad" not in checks


def test_a_broken_file_is_named_once(tmp_path: Path) -> None:
    broken = tmp_path / "ai-stack" / "services" / "llm.docker-compose.yaml"
    problem = Finding(
        "yaml.syntax",
        Severity.ERROR,
        f"{broken}: not valid YAML: did not find ','",
        broken,
        4,
        hint="Fix it.",
    )
    check = doctor.site_problem(problem)
    assert check.status == "fail" and check.detail.count(str(broken)) == 1
    assert check.detail == f"{broken}:4: not valid YAML: did not find ','"


def test_a_bind_address_that_is_no_ip_address_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from testkit.sites import make_site

    site = Site.load(make_site(tmp_path))
    monkeypatch.setenv("BIND_ADDRESS", "999.1.1.1")  # a typo: no such address anywhere
    checks = doctor_net.check_ports(site, site.services(enabled_only=True), None)
    proxy = next(c for c in checks if c.name == "ports proxy")
    assert proxy.status == "fail" and "999.1.1.1 is not an address of this host" in proxy.detail
    assert "BIND_ADDRESS" in (proxy.fix or "")


def test_fix_commands_quote_a_path_with_a_space(tmp_path: Path) -> None:
    """A site under `/srv/home server` gets fix commands that paste into a shell as they are."""
    root = tmp_path / "home server"
    root.mkdir()
    site = _site(root, {"app": "secrets: [{name: key}]\nuid: 4242\ngid: 4242"})
    secrets = root / "secrets"
    secrets.mkdir(mode=0o755)
    secrets.chmod(0o755)
    (secrets / "app_key").write_text("x" * 32)
    (secrets / "app_key").chmod(0o644)
    for folder in ("app", "config/app", "backups/app"):
        (root / "DATA" / folder).mkdir(parents=True)
    checks = {c.name: c for c in doctor_files.check_secrets(site, site.services(enabled_only=True))}
    checks.update({c.name: c for c in doctor_files.check_data(site, site.services())})
    assert checks["secrets folder"].fix == f"Run `chmod 700 '{secrets}'`."
    assert f"Run `chmod 440 '{secrets / 'app_key'}'`" in (checks["secret app_key"].fix or "")
    assert f"chown -R 4242:4242 '{root / 'DATA' / 'app'}'" in (checks["data app"].fix or "")


def test_os_error_fix_quotes_the_path() -> None:
    from homestack.cli.app import os_error

    error = os_error(PermissionError(13, "Permission denied", "/srv/home server/.env"))
    assert error.hint is not None
    assert "`ls -ld '/srv/home server/.env'`" in error.hint


def test_up_and_doctor_give_the_same_fix_for_a_secrets_mode(tmp_path: Path) -> None:
    """A secret with an owner (mode 0440) open to others: `up` said `chmod 600`, doctor
    `chmod 440` (issue 15). Both now say the secret's own mode, in the same words."""
    import pytest

    from homestack.deploy.secrets import ensure_secrets
    from homestack.errors import BadInput

    site = _site(tmp_path, {"app": "secrets: [{name: token, uid: 1000, gid: 1000}]"})
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    (secrets / "app_token").write_text("y" * 32)
    (secrets / "app_token").chmod(0o644)
    services = site.services(enabled_only=True)
    doctor = {c.name: c for c in doctor_files.check_secrets(site, services)}["secret app_token"]
    with pytest.raises(BadInput) as refused:
        ensure_secrets(site, services, dry_run=True)
    assert doctor.status == "fail" and doctor.fix == refused.value.hint
    assert f"chmod 440 {secrets / 'app_token'}" in (doctor.fix or "")
