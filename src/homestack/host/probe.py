"""The host as homestack sees it: files under a root, commands through a runner.

Every probe of the host (GPU detection, OS release, group membership, Docker's state) and
every command that changes it goes through one HostProbe, so the same code runs on the real
machine and, in tests, on a recorded host (see `homestack.host.recording`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class CommandResult:
    """What one command did: its exit code and output (127 when the tool is missing)."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class Runner(Protocol):
    """Runs one command; never raises for a non-zero exit or a missing tool."""

    def __call__(self, argv: Sequence[str], *, timeout: float = 60.0) -> CommandResult: ...


def subprocess_runner(argv: Sequence[str], *, timeout: float = 60.0) -> CommandResult:
    """The real runner: no shell, no stdin, output captured."""
    args = tuple(argv)
    try:
        done = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        return CommandResult(args, 127, "", f"{args[0]}: command not found")
    except subprocess.TimeoutExpired:
        return CommandResult(args, 124, "", f"{args[0]}: timed out after {timeout}s")
    except OSError as exc:
        return CommandResult(args, 126, "", f"{args[0]}: {exc}")
    return CommandResult(args, done.returncode, done.stdout, done.stderr)


def read_nvml() -> dict[str, Any] | None:
    """NVML through pynvml when it is importable (optional), in the shape of nvml.json."""
    try:
        import pynvml  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:  # any NVML failure means "no NVML", not a crash
        return None
    try:
        driver = pynvml.nvmlSystemGetDriverVersion()
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            pci = pynvml.nvmlDeviceGetPciInfo(handle)
            bus_id = pci.busId
            gpus.append(
                {
                    "index": index,
                    "name": _text(pynvml.nvmlDeviceGetName(handle)),
                    "uuid": _text(pynvml.nvmlDeviceGetUUID(handle)),
                    "memory_total": int(memory.total),
                    "memory_used": int(memory.used),
                    "pci_bus_id": _text(bus_id),
                }
            )
        return {"driver": _text(driver), "gpus": gpus}
    except Exception:
        return None
    finally:
        with contextlib.suppress(Exception):  # shutting down a library we only read
            pynvml.nvmlShutdown()


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class HostProbe:
    """The machine: `root` stands for `/` (for /dev, /etc, /proc, /sys), `run` runs commands.

    `which` finds a tool on PATH, `env` is the process environment, `nvml` reads NVML,
    `euid` is who runs homestack. Tests pass a recorded host's versions of each.
    """

    root: Path = Path("/")
    run: Runner = subprocess_runner
    which: Callable[[str], str | None] = shutil.which
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    nvml: Callable[[], dict[str, Any] | None] = read_nvml
    euid: int = field(default_factory=os.geteuid)
    #: the PID 1 program name (`systemd` or something else); None: read /proc/1/comm
    init: str | None = None

    def path(self, absolute: str) -> Path:
        """A host path (`/dev/kfd`) under this probe's root."""
        return self.root / absolute.lstrip("/")

    def read(self, absolute: str) -> str | None:
        try:
            return self.path(absolute).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    def exists(self, absolute: str) -> bool:
        return self.path(absolute).exists()

    def glob(self, folder: str, pattern: str) -> list[str]:
        """Host paths (absolute, as on the host) matching pattern inside folder, sorted."""
        base = self.path(folder)
        if not base.is_dir():
            return []
        return sorted(f"{folder.rstrip('/')}/{p.name}" for p in base.glob(pattern))

    def pid1(self) -> str:
        if self.init is not None:
            return self.init
        return (self.read("/proc/1/comm") or "").strip()

    @property
    def systemd(self) -> bool:
        """True when systemd is PID 1, so `systemctl enable/start` works."""
        return self.pid1() == "systemd"


def no_nvml() -> dict[str, Any] | None:
    """An NVML reader for hosts without NVML (tests, machines without pynvml)."""
    return None
