"""A host described by recordings, replayed through a HostProbe (for tests and bug reports).

A recording is one or more `host.txt`-style files: sections headed `## name`:

- `## /dev`: `ls -l` output of device nodes (each becomes an empty file under the root)
- `## tools`: `name: /path` or `name: missing`
- `## os`: /etc/os-release; `## /proc/driver/nvidia/version`: that file
- `## file /some/path`: any file's content (sysfs `uevent`, a CDI spec, /etc/group …)
- `## docker info`: the JSON of `docker info --format '{{json .}}'`
- `## command[rc=N] argv…`: a command's output (rc defaults to 0)
- `## env`: KEY=value lines; `## init`: PID 1's name; `## euid`: who runs homestack

Files beside the first host.txt are recorded outputs too: `nvml.json` (NVML),
`nvidia-smi-query.csv` (`nvidia-smi --query-gpu=… --format=csv`), `nvidia-smi-q.xml`
(`nvidia-smi -q -x`), `nvidia-smi.txt`. Later files override earlier sections, so a test can
put a GPU recording on an OS recording (`tools`, `env` and `/dev` are merged line by line).
Sections it does not know are kept, unused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine import hostcli
from .probe import CommandResult, HostProbe

_SECTION = re.compile(r"^## (.+?)\s*$")
_MERGED = ("tools", "env", "/dev")
_COMMAND = re.compile(r"^command(?:\[rc=(\d+)\])?\s+(.+)$")


def parse_sections(text: str) -> dict[str, str]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        match = _SECTION.match(line)
        if match:
            current = sections.setdefault(match.group(1), [])
            current.clear()
            continue
        if current is not None:
            current.append(line)
    return {name: "\n".join(lines).strip("\n") + "\n" for name, lines in sections.items()}


def _dev_paths(listing: str) -> list[str]:
    paths: list[str] = []
    folder = ""
    for raw in listing.splitlines():
        line = raw.strip()
        if not line or line.startswith(("ls:", "total")):
            continue
        if line.endswith(":") and line.startswith("/"):
            folder = line[:-1]
            continue
        name = line.split()[-1]
        if name in (".", ".."):
            continue
        if name.startswith("/"):
            paths.append(name)
        elif folder:
            paths.append(f"{folder}/{name}")
    return paths


def _key(argv: Sequence[str]) -> str:
    return " ".join([Path(argv[0]).name, *argv[1:]])


@dataclass
class RecordedHost:
    """Replays a recording; `calls` lists every command run, in order.

    With `succeed_unrecorded`, a command that has no recording exits 0 (a test that
    executes a plan: apt and friends "work"); otherwise it exits 1 saying so.
    """

    root: Path
    sections: dict[str, str]
    outputs: dict[str, CommandResult]
    tools: dict[str, str]
    env: dict[str, str]
    nvml_data: dict[str, Any] | None = None
    init: str = "systemd"
    euid: int = 0
    succeed_unrecorded: bool = False
    missing: set[str] = field(default_factory=set)  # tools recorded as missing
    calls: list[tuple[str, ...]] = field(default_factory=list)

    @classmethod
    def load(cls, *files: Path, root: Path, **overrides: Any) -> RecordedHost:
        """Merge host.txt files (later ones win) and lay out their files under root."""
        sections: dict[str, str] = {}
        extras: dict[str, str] = {}
        for path in files:
            folder = path.parent if path.is_file() else path
            text_file = path if path.is_file() else path / "host.txt"
            for name, body in parse_sections(text_file.read_text(encoding="utf-8")).items():
                earlier = sections.get(name, "") if name in _MERGED else ""
                sections[name] = earlier + body  # merged ones line-wise: later lines win
            for name in ("nvml.json", "nvidia-smi-query.csv", "nvidia-smi-q.xml", "nvidia-smi.txt"):
                if (folder / name).is_file():
                    extras[name] = (folder / name).read_text(encoding="utf-8")
        host = cls(root, sections, {}, {}, {})
        host._lay_out(extras)
        for name, value in overrides.items():
            setattr(host, name, value)
        return host

    def _lay_out(self, extras: dict[str, str]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for path in _dev_paths(self.sections.get("/dev", "")):
            self._write(path, "")
        if "os" in self.sections:
            self._write("/etc/os-release", self.sections["os"])
        if "/proc/driver/nvidia/version" in self.sections:
            self._write("/proc/driver/nvidia/version", self.sections["/proc/driver/nvidia/version"])
        for line in self.sections.get("tools", "").splitlines():
            name, _, where = line.partition(":")
            where = where.strip()
            if name.strip() and where == "missing":
                self.tools.pop(name.strip(), None)
                self.missing.add(name.strip())
            elif name.strip() and where:
                self.tools[name.strip()] = where
                self.missing.discard(name.strip())
        for line in self.sections.get("env", "").splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip():
                self.env[key.strip()] = value.strip()
        if "init" in self.sections:
            self.init = self.sections["init"].strip()
        if "euid" in self.sections:
            self.euid = int(self.sections["euid"].strip())
        for name, body in self.sections.items():
            if name.startswith("file "):
                self._write(name.removeprefix("file ").strip(), body)
            match = _COMMAND.match(name)
            if match:
                argv = match.group(2).split()
                self.outputs[_key(argv)] = CommandResult(
                    tuple(argv), int(match.group(1) or 0), body.strip("\n") + "\n"
                )
        if "docker info" in self.sections:
            argv = tuple(hostcli.info_argv())
            self.outputs[_key(argv)] = CommandResult(argv, 0, self.sections["docker info"])
        from ..gpu import NVIDIA_QUERY

        smi = {
            "nvidia-smi-query.csv": f"nvidia-smi --query-gpu={NVIDIA_QUERY} --format=csv",
            "nvidia-smi-q.xml": "nvidia-smi -q -x",
            "nvidia-smi.txt": "nvidia-smi",
        }
        for name, command in smi.items():
            if name in extras:
                self.outputs[command] = CommandResult(tuple(command.split()), 0, extras[name])
        if "nvml.json" in extras:
            self.nvml_data = json.loads(extras["nvml.json"])

    def _write(self, absolute: str, text: str) -> None:
        target = self.root / absolute.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    # ---- the probe's parts ------------------------------------------------------------
    def run(self, argv: Sequence[str], *, timeout: float = 60.0) -> CommandResult:
        args = tuple(argv)
        self.calls.append(args)
        key = _key(args)
        if key in self.outputs:
            found = self.outputs[key]
            return CommandResult(args, found.returncode, found.stdout, found.stderr)
        words = [w for w in args if "=" not in w or w.startswith("-")]
        program = Path(words[1] if words[0] == "env" and len(words) > 1 else words[0]).name
        if program in self.missing or (
            not self.succeed_unrecorded and program not in self.tools and program != "sh"
        ):
            return CommandResult(args, 127, "", f"{program}: command not found")
        if self.succeed_unrecorded:
            return CommandResult(args, 0, "", "")
        return CommandResult(args, 1, "", f"not recorded: {key}")

    def which(self, name: str) -> str | None:
        return self.tools.get(name)

    def nvml(self) -> dict[str, Any] | None:
        return self.nvml_data

    def probe(self) -> HostProbe:
        return HostProbe(
            root=self.root,
            run=self.run,
            which=self.which,
            env=dict(self.env),
            nvml=self.nvml,
            euid=self.euid,
            init=self.init,
        )

    def ran(self, *words: str) -> bool:
        """True when some call contains these words in order (a test helper)."""
        wanted = " ".join(words)
        return any(wanted in _key(call) for call in self.calls)
