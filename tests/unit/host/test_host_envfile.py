"""`.env` from `.env.example` on the first run, on a constructed (fake_) host root."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from homestack.errors import BadInput
from homestack.host.envfile import ensure_env
from homestack.host.osinfo import parse_os_release
from homestack.host.probe import CommandResult, HostProbe, no_nvml

EXAMPLE = """# settings
TZ=Etc/UTC
PUID=1000
PGID=1000
GPU=auto
# IOT_PARENT=eth0
# IOT_SUBNET=192.168.1.0/24
"""


def no_timedatectl(argv: Sequence[str], *, timeout: float = 60.0) -> CommandResult:
    return CommandResult(tuple(argv), 127, "", "timedatectl: command not found")


def fake_probe(root: Path, env: dict[str, str]) -> HostProbe:
    return HostProbe(root=root, env=env, nvml=no_nvml, run=no_timedatectl)


def test_fake_first_run_fills_tz_ids_and_leaves_iot_commented(tmp_path: Path) -> None:
    host = tmp_path / "host"
    (host / "etc").mkdir(parents=True)
    (host / "etc/timezone").write_text("Europe/Berlin\n")
    (host / "proc/net").mkdir(parents=True)
    (host / "proc/net/route").write_text(
        "Iface\tDestination\tGateway\nenp3s0\t00000000\t0101A8C0\nenp3s0\t0001A8C0\t00000000\n"
    )
    site = tmp_path / "site"
    site.mkdir()
    (site / ".env.example").write_text(EXAMPLE)
    probe = fake_probe(host, {"SUDO_UID": "1001", "SUDO_GID": "1002"})

    dry = ensure_env(site, probe, dry_run=True)
    assert dry.created and not dry.changed and not (site / ".env").exists()

    result = ensure_env(site, probe)
    text = (site / ".env").read_text()
    assert result.changed and result.filled == {
        "TZ": "Europe/Berlin",
        "PUID": "1001",
        "PGID": "1002",
    }
    assert "TZ=Europe/Berlin\nPUID=1001\nPGID=1002\nGPU=auto\n" in text
    assert "# IOT_PARENT=enp3s0\n# IOT_SUBNET=192.168.1.0/24" in text

    again = ensure_env(site, probe)
    assert not again.created and not again.changed
    assert (site / ".env").read_text() == text


def test_fake_without_sudo_the_repository_owner_is_used(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / ".env.example").write_text(EXAMPLE)
    (tmp_path / "host").mkdir()
    ensure_env(site, fake_probe(tmp_path / "host", {}))
    info = site.stat()
    text = (site / ".env").read_text()
    assert f"PUID={info.st_uid}\n" in text and f"PGID={info.st_gid}\n" in text


def test_os_release_parsing() -> None:
    release = parse_os_release(
        'ID=ubuntu\nVERSION_ID="24.04"\nUBUNTU_CODENAME=noble\nPRETTY_NAME="Ubuntu 24.04.3 LTS"\n'
    )
    assert (release.id, release.version_id, release.codename) == ("ubuntu", "24.04", "noble")
    assert release.supported
    assert not parse_os_release("ID=fedora\nVERSION_ID=41\n").supported


def test_fake_env_that_is_a_dangling_link_or_a_folder_is_refused_not_replaced(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / ".env.example").write_text(EXAMPLE)
    probe = fake_probe(tmp_path / "host", {})
    (site / ".env").symlink_to(tmp_path / "unmounted" / "homestack.env")
    with pytest.raises(BadInput, match="does not exist") as caught:
        ensure_env(site, probe)
    assert caught.value.hint and "remove the link" in caught.value.hint
    assert (site / ".env").is_symlink()
    (site / ".env").unlink()
    (site / ".env").mkdir()
    with pytest.raises(BadInput, match="is not a file"):
        ensure_env(site, probe, dry_run=True)
