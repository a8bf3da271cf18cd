"""`homestack urls`, `homestack ca`'s certificate reading, `secrets show`, the first-run
summary, and doctor's LAN checks."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from homestack import lan
from homestack.catalog import Site
from homestack.cli import lan_cmds
from homestack.cli.app import run
from homestack.domain import DEFAULT_DOMAIN as D
from homestack.generate import generate_all
from homestack.observe.doctor_lan import check_lan
from testkit.sites import copy_catalog


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI=true: .ci/run installs it and runs as root)")
    pytest.skip(what)


SYSTEM_CAS = sorted(Path("/etc/ssl/certs").glob("*.pem"))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    for key in ("DATA_ROOT", "SECRETS_DIR", "DOMAIN", "LAN_ADDRESS", "HOMESTACK_SITE", "LAN_DNS"):
        monkeypatch.delenv(key, raising=False)
    root = copy_catalog(tmp_path / "site")
    (root / ".env").write_text("LAN_ADDRESS=10.78.0.1\n", encoding="utf-8")
    site = Site.load(root)
    generate_all(site)
    return site


def test_urls_json_names_every_ui_and_how_to_read_the_password_never_the_password(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--site", str(site.root), "urls", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    password = (site.secrets_dir / "authelia_admin_password").read_text().strip()
    assert password not in json.dumps(data)
    assert data["admin_password"] == "sudo homestack secrets show authelia_admin_password"
    assert data["start_url"] == f"https://start.{D}"
    assert data["door_url"] == "https://10.78.0.1/"
    assert data["ca_url"] == "http://10.78.0.1/ca.crt"
    access = {ui["service"]: ui["access"] for ui in data["uis"]}
    assert access["dozzle"] == "admin" and access["homepage"] == "user"
    assert access["jellyfin"] == "public"
    assert f"10.78.0.1 start.{D}" in data["hosts_lines"]
    assert any("LAN_DNS" in item for item in data["todo"])  # no DNS choice made yet


def test_urls_qr_prints_a_terminal_qr_code_of_the_door(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--site", str(site.root), "urls", "--qr"]) == 0
    out = capsys.readouterr().out
    assert "█" in out or "▀" in out  # segno's compact terminal rendering
    assert "  https://10.78.0.1/\n" in out


def test_a_bad_dns_choice_is_bad_input(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    (site.root / ".env").write_text("LAN_ADDRESS=10.78.0.1\nLAN_DNS=router\n", encoding="utf-8")
    assert run(["--site", str(site.root), "urls"]) == 2
    assert "LAN_DNS='router'" in capsys.readouterr().err


def test_secrets_show_only_to_root_on_a_terminal(
    site: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["--site", str(site.root), "secrets", "show", "authelia_admin_password"]
    password = (site.secrets_dir / "authelia_admin_password").read_text().strip()
    assert run(argv) == 2  # captured stdout is no terminal
    err = capsys.readouterr().err
    assert "terminal" in err and password not in err
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(lan_cmds.os, "geteuid", lambda: 1000)
    assert run(argv) == 2
    assert "root only" in capsys.readouterr().err
    monkeypatch.setattr(lan_cmds.os, "geteuid", lambda: 0)
    assert run(argv) == 0
    assert capsys.readouterr().out == password + "\n"
    assert run([*argv[:-1], "authelia_session_secret"]) == 2


@pytest.mark.skipif(not SYSTEM_CAS, reason="no system CA certificates to read")
def test_certificate_expiry_and_fingerprint_match_pythons_own_reading() -> None:
    for path in SYSTEM_CAS[:40]:
        pem = path.read_text(encoding="ascii")
        der = lan.pem_to_der(pem)
        assert der == ssl.PEM_cert_to_DER_cert(pem)
        decoded = ssl._ssl._test_decode_cert(str(path))  # type: ignore[attr-defined]
        not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(decoded["notAfter"]), UTC)
        assert lan.validity(der)[1] == not_after, path
        names = [v for rdn in decoded["subject"] for k, v in rdn if k == "commonName"]
        if names:
            assert lan.subject_cn(der) == names[0], path


def test_the_first_run_summary_after_an_up_that_created_something(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    created = SimpleNamespace(ok=True, stand_in=None, services=[SimpleNamespace(action="create")])
    lan_cmds.first_run_summary(created, site)
    out = capsys.readouterr().out
    password = (site.secrets_dir / "authelia_admin_password").read_text().strip()
    assert "Open it from any device" in out
    assert f"https://start.{D}" in out and "https://10.78.0.1/" in out
    assert "sudo homestack secrets show authelia_admin_password" in out
    assert "homestack ca" in out and "LAN_DNS" in out
    assert password not in out
    for quiet in (
        SimpleNamespace(ok=True, stand_in=None, services=[SimpleNamespace(action="none")]),
        SimpleNamespace(ok=False, stand_in=None, services=[SimpleNamespace(action="create")]),
    ):
        lan_cmds.first_run_summary(quiet, site)
        assert capsys.readouterr().out == ""


def _cert(tmp_path: Path, name: str, days: int) -> str:
    openssl = shutil.which("openssl")
    if openssl is None:
        _missing("openssl is not installed")
    key, crt = tmp_path / f"{name}.key", tmp_path / f"{name}.crt"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(crt), "-days", str(days),
         "-subj", f"/CN={name}"],
        check=True, capture_output=True,
    )  # fmt: skip
    return crt.read_text(encoding="ascii")


def test_doctor_shows_each_certificates_expiry(site: Site, tmp_path: Path) -> None:
    root = lan.ca_root(site.data_root)
    root.parent.mkdir(parents=True)
    root.write_text(_cert(tmp_path, "homestack Local CA", 3650), encoding="ascii")
    leaf = site.data_root / lan.CERTS / f"local/start.{D}/start.{D}.crt"
    leaf.parent.mkdir(parents=True)
    leaf.write_text(_cert(tmp_path, f"start.{D}", 1), encoding="ascii")
    checks = {c.name: c for c in check_lan(site)}
    assert checks["certificate local CA (root)"].status == "ok"
    assert "expires" in checks["certificate local CA (root)"].detail
    assert checks[f"certificate start.{D}"].status == "ok"
    later = datetime.now(UTC) + timedelta(days=2)
    assert {c.name: c for c in check_lan(site, now=later)}[
        f"certificate start.{D}"
    ].status == "fail"
    assert checks["door"].status == "ok"


RESOLVE = """
import json, sys
from pathlib import Path
from homestack.catalog import Site
from homestack.observe.doctor_lan import check_lan
checks = check_lan(Site.load(Path(sys.argv[1])))
print(json.dumps([c.to_data() for c in checks if c.name == "names"]))
"""


def _names_check(site: Site, tmp_path: Path, hosts: str) -> dict[str, str]:
    """Doctor's name check through the real resolver (glibc), in a mount and network
    namespace of its own: /etc/hosts and /etc/resolv.conf are the test's, and no query can
    leave (the new namespace has no interface up)."""
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        _missing("doctor's resolver test needs root and unshare")
    (tmp_path / "hosts").write_text(f"127.0.0.1 localhost\n{hosts}", encoding="ascii")
    (tmp_path / "resolv.conf").write_text("nameserver 127.0.0.1\n", encoding="ascii")
    script = (
        f"mount --bind {tmp_path / 'hosts'} /etc/hosts && "
        f"mount --bind {tmp_path / 'resolv.conf'} /etc/resolv.conf && "
        f'exec env -u HOMESTACK_DOCTOR_DNS {sys.executable} -c "$0" "$1"'
    )
    done = subprocess.run(
        [unshare, "--mount", "--net", "sh", "-c", script, RESOLVE, str(site.root)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found: list[dict[str, str]] = json.loads(done.stdout)
    return found[0]


def test_doctor_says_which_dns_choice_is_missing(site: Site, tmp_path: Path) -> None:
    missing = _names_check(site, tmp_path, "")
    assert missing["status"] == "warn"
    assert "does not resolve" in missing["detail"]
    assert "LAN_DNS" in missing["fix"]
    (site.root / ".env").write_text("LAN_ADDRESS=10.78.0.1\nLAN_DNS=blocky\n", encoding="utf-8")
    blocky_off = _names_check(site, tmp_path, "")
    assert "Blocky is off" in blocky_off["fix"]
    elsewhere = _names_check(site, tmp_path, f"10.78.0.9 start.{D}\n")
    assert "resolves to 10.78.0.9, not the door (10.78.0.1)" in elsewhere["detail"]
    good = _names_check(site, tmp_path, f"10.78.0.1 start.{D}\n")
    assert good["status"] == "ok", good


def test_readme_says_how_to_open_it_from_a_phone_right_after_the_two_commands() -> None:
    repo = Path(__file__).resolve().parents[2]
    lines = (repo / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[2] == "```bash"
    assert lines[3].startswith("./install-stack.sh ")
    assert lines[4].startswith("./run-tests.sh ")
    assert lines[5] == "```"
    first_screen = "\n".join(lines[6:16])
    assert "Open it from a phone" in first_screen
    assert "/ca.crt" in first_screen and "homestack urls --qr" in first_screen
    guide = (repo / "docs/lan.md").read_text(encoding="utf-8")
    for words in ("LAN_DNS=blocky", "LAN_DNS=hosts", "LAN_DNS=domain", "Android", "iOS",
                  "macOS", "Windows", "Linux", "Firefox", "homestack users add",
                  "homestack users passwd", "homestack users rm", "homestack users groups",
                  "access: admin"):  # fmt: skip
        assert words in guide, words
