"""`install all` on a copy of the shipped catalog and a constructed (fake_) host: bad input
is refused before any part changes the host."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from homestack.errors import BadInput, OperationFailed
from homestack.events import ProgressLines
from homestack.host.install_all import check_site, foreign_owners, install_all
from homestack.host.probe import CommandResult, HostProbe, no_nvml

REPO = Path(__file__).resolve().parents[3]


def _site(tmp_path: Path, env_lines: str) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(REPO / "base.docker-compose.yaml", site)
    for stack in REPO.glob("*-stack"):
        shutil.copytree(stack, site / stack.name)
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    (site / ".env.example").write_text(example, encoding="utf-8")
    (site / ".env").write_text(example + env_lines, encoding="utf-8")
    return site


@pytest.mark.parametrize(
    ("env_lines", "stack", "message"),
    [
        ("PUID=abc\n", None, "PUID=abc is not a numeric id"),
        ("GPU=banana\n", None, "GPU=banana is not one of"),
        ("this is bad\n", None, "not a KEY=value line"),
    ],
)
def test_fake_host_bad_input_is_refused_before_any_part_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env_lines: str, stack: str | None, message: str
) -> None:
    for key in ("PUID", "PGID", "GPU", "HOMESTACK_PREFIX"):
        monkeypatch.delenv(key, raising=False)
    site = _site(tmp_path, env_lines)
    calls: list[tuple[str, ...]] = []

    def run(argv: Sequence[str], *, timeout: float = 60.0) -> CommandResult:
        calls.append(tuple(argv))
        return CommandResult(tuple(argv), 127, "", "not on a fake host")

    probe = HostProbe(root=tmp_path / "host", run=run, which=lambda _: None, nvml=no_nvml, env={})
    lines = ProgressLines()
    with pytest.raises(BadInput, match=message):
        install_all(site, lines, probe=probe, stack=stack)
    # install all takes the site lock first, which reads HOMESTACK_PREFIX from the .env: a
    # line that is not KEY=value is refused there, before the settings part (as the CLI,
    # which took the lock itself, always did)
    said = [line.split(":")[0] for line in lines if not line.startswith(" ")]
    assert said == ([] if "KEY=value" in message else ["settings"])
    assert calls == [] and not (site / "secrets").exists() and not (site / "DATA").exists()


@pytest.mark.parametrize(
    ("stack", "message", "hint"),
    [
        ("nope", "no stack named 'nope'", "Stacks: ai, essentials, management, media"),
        ("medai", "no stack named 'medai'", "media"),
        ("ollama", "no stack named 'ollama'", "ollama is a service; its stack is ai"),
    ],
)
def test_fake_host_unknown_stack_is_refused_before_env_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack: str, message: str, hint: str
) -> None:
    """`--stack` takes a stack: a typo or a service name is refused before .env is made."""
    for key in ("PUID", "PGID", "GPU", "HOMESTACK_PREFIX"):
        monkeypatch.delenv(key, raising=False)
    site = _site(tmp_path, "")
    (site / ".env").unlink()
    probe = HostProbe(
        root=tmp_path / "host",
        run=lambda argv, timeout=60.0: CommandResult(tuple(argv), 127, "", "fake host"),
        which=lambda _: None,
        nvml=no_nvml,
        env={},
    )
    lines = ProgressLines()
    with pytest.raises(BadInput, match=message) as raised:
        install_all(site, lines, probe=probe, stack=stack, dry_run=False)
    assert hint in (raised.value.hint or "")
    assert lines == [] and not (site / ".env").exists()


def test_install_all_takes_the_stack_folder_name_too(tmp_path: Path) -> None:
    """`--stack media-stack` is `--stack media`, as everywhere else."""
    site = _site(tmp_path, "")
    assert {s.stack for s in check_site(site, "media-stack")} == {"essentials", "media"}


def test_secrets_line_tells_a_new_secret_from_a_fixed_one() -> None:
    from homestack.host.install_all import secrets_line

    assert secrets_line([], [], False) == "nothing to change"
    assert secrets_line(["a_key"], [], True) == "would write secret a_key"
    assert secrets_line([], ["a_key"], False) == "fix the owner or mode of a_key"
    assert secrets_line(["new"], ["old"], True) == (
        "would write secret new; fix the owner or mode of old"
    )


def test_fake_host_without_root_is_refused_before_any_part_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("PUID", "PGID", "GPU", "HOMESTACK_PREFIX"):
        monkeypatch.delenv(key, raising=False)
    site = _site(tmp_path, "PUID=1001\nPGID=1001\n")
    calls: list[tuple[str, ...]] = []

    def run(argv: Sequence[str], *, timeout: float = 60.0) -> CommandResult:
        calls.append(tuple(argv))
        return CommandResult(tuple(argv), 127, "", "not on a fake host")

    probe = HostProbe(
        root=tmp_path / "host", run=run, which=lambda _: None, nvml=no_nvml, env={}, euid=1001
    )
    lines = ProgressLines()
    with pytest.raises(OperationFailed, match="not root: the secrets and DATA folders of") as e:
        install_all(site, lines, probe=probe)
    assert "anythingllm (uid 1000)" in e.value.message and "sudo" in (e.value.hint or "")
    assert calls == [] and not (site / "secrets").exists() and not (site / "DATA").exists()

    foreign = foreign_owners(site, check_site(site, None), 1001)
    assert "anythingllm (uid 1000)" in foreign and "open-webui (uid 0)" in foreign
    assert not any(entry.startswith("homepage ") for entry in foreign)  # runs as PUID


def test_fake_fresh_debian12_dry_run_plans_the_tools_after_docker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh machine gets restic and a static busybox (backups, doctor, --stand-in)."""
    from homestack.host.recording import RecordedHost

    for key in ("PUID", "PGID", "GPU", "HOMESTACK_PREFIX"):
        monkeypatch.delenv(key, raising=False)
    site = _site(tmp_path, "")
    fixtures = REPO / "tests" / "fixtures"
    recorded = RecordedHost.load(
        fixtures / "gpu" / "fake-none",
        fixtures / "hosts" / "fake-os-debian-12.txt",
        fixtures / "hosts" / "fake-docker-none.txt",
        root=tmp_path / "host",
    )
    lines = ProgressLines()
    result = install_all(site, lines, probe=recorded.probe(), dry_run=True)
    assert [part.name for part in result.parts] == [
        "settings",
        "door",
        "drivers",
        "docker",
        "tools",
    ]
    parts = [line.split(":")[0] for line in lines if not line.startswith(" ")]
    assert parts.index("tools") > parts.index("docker")
    assert any(line.startswith("  would install restic busybox-static from") for line in lines)
    assert not recorded.ran("apt-get")


@pytest.mark.parametrize(
    ("env_lines", "expected"),
    [
        (
            "LAN_ADDRESS=10.78.0.1\n",
            "door: Caddy publishes 80/443 on 10.78.0.1 (LAN_ADDRESS in .env)",
        ),
        ("LAN_ADDRESS=\n", "door: LAN_ADDRESS is empty: the proxy stays on loopback"),
        ("LAN_ADDRESS=my-server\n", None),
    ],
)
def test_fake_host_dry_run_shows_the_door(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env_lines: str, expected: str | None
) -> None:
    from homestack.host.recording import RecordedHost

    for key in ("PUID", "PGID", "GPU", "HOMESTACK_PREFIX", "LAN_ADDRESS"):
        monkeypatch.delenv(key, raising=False)
    site = _site(tmp_path, env_lines)
    fixtures = REPO / "tests" / "fixtures"
    recorded = RecordedHost.load(
        fixtures / "gpu" / "fake-none",
        fixtures / "hosts" / "fake-os-debian-12.txt",
        fixtures / "hosts" / "fake-docker-none.txt",
        root=tmp_path / "host",
    )
    lines = ProgressLines()
    if expected is None:
        with pytest.raises(BadInput, match="LAN_ADDRESS='my-server'") as caught:
            install_all(site, lines, probe=recorded.probe(), dry_run=True)
        assert caught.value.file == str(site / ".env")
        assert not any(line.startswith("drivers") for line in lines)  # refused first
        return
    install_all(site, lines, probe=recorded.probe(), dry_run=True)
    assert any(line.startswith(expected) for line in lines), lines
