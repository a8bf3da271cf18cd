"""DATA_ROOT and SECRETS_DIR that cannot be folders: a file in their place, a path whose
parent does not exist (a typo), a folder this user cannot enter. Every command that writes
or reads there says which setting and the fix (exit 2), writes nothing, and shows no
traceback; doctor reports it as one failed check."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from homestack.cli.app import run
from testkit.sites import make_site


@pytest.fixture
def site_root(tmp_path: Path, test_prefix: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOMESTACK_PREFIX", test_prefix)
    monkeypatch.setenv("HOMESTACK_NO_CACHE", "1")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")  # none of this needs one
    return make_site(tmp_path / "site")


def _env(root: Path, line: str) -> None:
    text = (root / ".env.example").read_text(encoding="utf-8")
    (root / ".env").write_text(text + line + "\n", encoding="utf-8")


def _tree(root: Path) -> list[str]:
    """The site's files, but .homestack/ (the site lock, made by any command)."""
    paths = (p.relative_to(root) for p in root.rglob("*"))
    return sorted(str(p) for p in paths if p.parts[0] != ".homestack")


@pytest.mark.parametrize(
    "command",
    [
        ["install", "data"],
        ["up", "ollama"],
        ["up", "ollama", "--stand-in-image", "busybox:1.36"],
    ],
)
def test_a_file_as_data_root_is_named_with_the_fix(
    site_root: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    (site_root / "notes.txt").write_text("x", encoding="utf-8")
    _env(site_root, "DATA_ROOT=./notes.txt")
    before = _tree(site_root)
    assert run(["--site", str(site_root), *command]) == 2
    err = capsys.readouterr().err
    assert f"DATA_ROOT {site_root / 'notes.txt'} is a file, not a folder" in err
    assert "Point DATA_ROOT in" in err and ".env" in err
    assert "internal error" not in err
    assert _tree(site_root) == before


@pytest.mark.parametrize("command", [["install", "secrets"], ["up", "ollama"]])
def test_secrets_dir_whose_parent_is_missing_is_a_typo_not_a_tree_to_create(
    site_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """It made the whole missing chain (/nonexistent/deep/secrets) and put secrets there."""
    wanted = tmp_path / "no-such-disk" / "deep" / "secrets"
    _env(site_root, f"SECRETS_DIR={wanted}")
    assert run(["--site", str(site_root), *command]) == 2
    err = capsys.readouterr().err
    assert f"SECRETS_DIR {wanted} does not exist, and neither does {wanted.parent}" in err
    assert f"mkdir -p {wanted}" in err
    assert not (tmp_path / "no-such-disk").exists()


def test_secrets_dir_that_is_missing_with_its_parent_there_is_still_created(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--site", str(site_root), "install", "secrets"]) == 0
    assert (site_root / "secrets" / "ollama_api_key").is_file()


def test_doctor_reports_a_file_as_data_root_as_one_failed_check(
    site_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site_root / "notes.txt").write_text("x", encoding="utf-8")
    _env(site_root, "DATA_ROOT=./notes.txt")
    assert run(["--site", str(site_root), "doctor", "--json"]) == 1
    captured = capsys.readouterr()
    assert "internal error" not in captured.err
    checks = json.loads(captured.out)["checks"]
    data = [c for c in checks if c["area"] == "data"]
    assert [c["status"] for c in data] == ["fail"]
    assert "is a file, not a folder" in data[0]["detail"]


def _as_user_without_dac(root: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI as this user unable to bypass file modes: as root, drop the capabilities
    that let root read any file (setpriv); as anyone else, modes apply anyway."""
    command = [sys.executable, "-m", "homestack", "--site", str(root), *argv]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("root without setpriv: a mode cannot keep root out")
        caps = "-dac_override,-dac_read_search"
        command = [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)


@pytest.mark.parametrize(
    ("folder", "command"),
    [
        ("secrets", ["install", "secrets"]),
        ("secrets", ["secrets", "ls"]),
        ("secrets", ["doctor"]),
        ("DATA", ["install", "data"]),
        ("DATA", ["doctor"]),
    ],
)
def test_a_folder_this_user_cannot_enter_is_named_not_a_traceback(
    site_root: Path, folder: str, command: list[str]
) -> None:
    assert run(["--site", str(site_root), "install", "secrets"]) == 0
    assert run(["--site", str(site_root), "install", "data"]) == 0
    locked = site_root / folder
    locked.chmod(0)
    try:
        done = _as_user_without_dac(site_root, *command)
    finally:
        locked.chmod(0o700)
    out = done.stdout + done.stderr
    assert "internal error" not in out and "Traceback" not in out, out
    assert str(locked) in out, out
    assert "Permission denied" in out, out
    assert done.returncode in (1, 2), out  # 2 for a command; doctor: 1, a failed check


def test_commands_in_a_fix_quote_a_path_with_spaces(
    tmp_path: Path, test_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A site under '/srv/my server': the suggested mkdir and docker run must paste as is."""
    from homestack.catalog import Site
    from homestack.deploy.data import _check_volume, _Volumes
    from homestack.deploy.folders import check_folder
    from homestack.engine.docker import VolumeInfo
    from homestack.errors import BadInput, OperationFailed
    from homestack.resolved import resolve

    monkeypatch.setenv("HOMESTACK_PREFIX", test_prefix)
    root = make_site(tmp_path / "my server")
    site = Site.load(root)
    with pytest.raises(BadInput) as missing:
        check_folder(site, root / "no disk" / "secrets", "SECRETS_DIR")
    assert f"mkdir -p '{root}/no disk/secrets'" in str(missing.value.hint)
    service = site.service("ollama")
    name = f"{test_prefix}ai_ollama_data"
    volumes = _Volumes()
    elsewhere = {"o": "bind", "type": "none", "device": "/elsewhere"}
    volumes._by_name = {name: VolumeInfo(name, "local", options=elsewhere)}
    with pytest.raises(OperationFailed) as drift:
        _check_volume(site, service, volumes, resolve(site, [service]))
    assert f"-v '{root}/DATA/ollama:/to'" in str(drift.value.hint)


PUID_SAID = "PUID=100000000000 is not a numeric id (0 to 4294967294)"
# refused where it is read (catalog: meta.schema), before deploy gets to chown
UID_SAID = "services.ollama.x-homestack.uid: Input should be less than or equal to 4294967294"


@pytest.mark.parametrize(
    ("where", "said", "command"),
    [
        ("PUID", PUID_SAID, ["install", "data"]),
        ("PUID", PUID_SAID, ["up", "ollama"]),  # secrets follow the container's user only
        ("uid", UID_SAID, ["install", "data"]),
        ("uid", UID_SAID, ["install", "secrets"]),
        ("uid", UID_SAID, ["up", "ollama"]),
    ],
)
def test_an_id_chown_cannot_use_is_bad_input_before_anything_is_made(
    site_root: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    where: str,
    said: str,
) -> None:
    """chown raised OverflowError (an internal error) after some folders or secrets were made."""
    if where == "PUID":
        _env(site_root, "PUID=100000000000")
    else:
        path = site_root / "ai-stack/services/ollama.docker-compose.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(
            text.replace("      gpu: optional", "      gpu: optional\n      uid: 100000000000")
        )
    before = _tree(site_root)
    assert run(["--site", str(site_root), *command]) == 2
    err = capsys.readouterr().err
    assert said in err
    assert "internal error" not in err
    assert _tree(site_root) == before
