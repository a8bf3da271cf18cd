"""Every restic call goes through Restic.run(): `--json` output parsed into tolerant models.

The password never travels in argv or in an environment value: restic reads it from the
file named by RESTIC_PASSWORD_FILE. Errors carry the command, exit code and stderr.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import CommandFailed, OperationFailed
from ..fsutil import require_command

INSTALL_HINT = (
    "Install restic: `sudo apt-get install restic` (or `sudo ./install-stack.sh`, whose "
    "`homestack install all` installs it with the rest of the host's tools)."
)
#: told the restic process once it runs (a backup records its pid in the journal)
OnStarted = Callable[[subprocess.Popen[str]], None]
#: restic's exit code when it could not read some source files (the snapshot is still made)
PARTIAL_SNAPSHOT = 3
#: environment variables that would override what we pass; never inherited
_SCRUBBED = (
    "RESTIC_PASSWORD",
    "RESTIC_PASSWORD_COMMAND",
    "RESTIC_PASSWORD_FILE",
    "RESTIC_REPOSITORY",
    "RESTIC_REPOSITORY_FILE",
    "RESTIC_KEY_HINT",
)


#: prctl(2) option: a signal the kernel sends the child when its parent dies
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> Callable[[], None]:
    """Run in the child between fork and exec: restic gets SIGTERM when homestack dies
    (kill -9 of its main pid left restic reading the service's data on its own while `up`
    restarted the service). A parent already gone before the prctl: exit at once."""

    def setup() -> None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return setup


def is_restic_on(pid: int, repository: str) -> bool:
    """True when `pid` is a restic process working on `repository` (a pid the kernel gave
    to another program since is not)."""
    proc = Path(f"/proc/{pid}")
    try:
        if (proc / "comm").read_text().strip() != "restic":
            return False
        environ = (proc / "environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return f"RESTIC_REPOSITORY={repository}".encode() in environ and not _zombie(pid)


def end_orphan(pid: int | None, repository: str, wait: float = 10.0) -> bool:
    """End the restic a killed homestack started (`pid`, from its journal) when it still
    runs on `repository`: SIGTERM (restic removes its lock), SIGKILL after `wait` seconds.
    True when there was one."""
    if pid is None or not is_restic_on(pid, repository):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGCONT)  # a stopped one acts on it now
    deadline = time.monotonic() + wait
    while not _zombie(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        if not _zombie(pid):
            os.kill(pid, signal.SIGKILL)
    return True


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True  # gone


class ResticUnavailable(OperationFailed):
    """The restic command is not installed."""


class ResticFailed(CommandFailed):
    """restic exited non-zero."""


class RepositoryLocked(ResticFailed):
    """Another restic process holds the repository's lock."""


class WrongPassword(ResticFailed):
    """The password file does not open the repository."""


class PasswordMissing(OperationFailed):
    """The password file is not there: nothing can be opened."""


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Snapshot(_Tolerant):
    id: str = ""
    short_id: str = ""
    time: str = ""
    hostname: str = ""
    username: str = ""
    paths: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    parent: str | None = None
    tree: str | None = None

    def tag(self, key: str) -> str | None:
        """The value of a `key=value` tag."""
        for tag in self.tags:
            name, sep, value = tag.partition("=")
            if sep and name == key:
                return value
        return None


class BackupSummary(_Tolerant):
    message_type: str = ""
    files_new: int = 0
    files_changed: int = 0
    files_unmodified: int = 0
    dirs_new: int = 0
    data_added: int = 0
    total_files_processed: int = 0
    total_bytes_processed: int = 0
    total_duration: float = 0.0
    snapshot_id: str = ""


class Stats(_Tolerant):
    total_size: int = 0
    total_file_count: int = 0
    total_blob_count: int = 0


class ForgetGroup(_Tolerant):
    keep: list[Snapshot] | None = None
    remove: list[Snapshot] | None = None


@dataclass(frozen=True)
class Changes:
    """Files a restore brings back (added), takes away (removed) or replaces (changed)."""

    added: list[str]
    removed: list[str]
    changed: list[str]


@dataclass(frozen=True)
class Retention:
    """How many snapshots `prune` keeps; 0 turns a rule off."""

    keep_last: int = 7
    keep_daily: int = 7
    keep_weekly: int = 4
    keep_monthly: int = 6

    @property
    def keeps_nothing_specified(self) -> bool:
        return not (self.keep_last or self.keep_daily or self.keep_weekly or self.keep_monthly)

    def args(self) -> list[str]:
        out: list[str] = []
        for flag, value in (
            ("--keep-last", self.keep_last),
            ("--keep-daily", self.keep_daily),
            ("--keep-weekly", self.keep_weekly),
            ("--keep-monthly", self.keep_monthly),
        ):
            if value > 0:
                out += [flag, str(value)]
        return out


@functools.cache
def restic_binary() -> str:
    missing = ResticUnavailable("restic is not installed: backups need it", INSTALL_HINT)
    return require_command("restic", missing)


def version_argv(binary: str = "restic") -> list[str]:
    """Prints `restic 0.16.4 compiled with …` (host checks run it through their probe)."""
    return [binary, "version"]


def installed_version(timeout: float = 10) -> tuple[str | None, str]:
    """The installed restic's version ('0.16.4', ""), or None and why not (doctor's check:
    asks PATH each time, never raises)."""
    found = shutil.which("restic")
    if not found:
        return None, "restic is not installed; backups cannot run"
    try:
        done = subprocess.run(
            version_argv(found), capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"restic does not run: {exc}"
    words = done.stdout.split()
    if len(words) > 1 and done.returncode == 0:
        return words[1], ""
    return None, f"`restic version` failed: {done.stderr.strip()}"


def _parse_json_lines(text: str) -> list[dict[str, Any]]:
    """restic prints one JSON document, or one per line (backup, restore)."""
    text = text.strip()
    if not text:
        return []
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        return [whole]
    if isinstance(whole, list):
        return [item for item in whole if isinstance(item, dict)]
    out: list[dict[str, Any]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("{"):
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(item, dict):
                out.append(item)
    return out


def _error_for(command: list[str], code: int, stderr: str, service: str | None) -> ResticFailed:
    lowered = stderr.lower()
    if "repository is already locked" in lowered or "unable to create lock" in lowered:
        return RepositoryLocked(
            command,
            code,
            stderr,
            "Another restic process is using the repository; wait for it, or run "
            "`homestack verify` after it ends (stale locks are removed automatically).",
            service=service,
        )
    if "wrong password" in lowered or "no key found" in lowered:
        return WrongPassword(
            command,
            code,
            stderr,
            "The backup password file does not open this repository; put back the copy "
            "you kept of secrets/homestack_backup_password.",
            service=service,
        )
    hint = None
    if "no space left on device" in lowered:
        hint = "The backup target is full: free space or move BACKUP_REPOSITORY elsewhere."
    return ResticFailed(command, code, stderr, hint, service=service)


@dataclass(frozen=True)
class Restic:
    """One restic repository and the password file that opens it."""

    repository: str
    password_file: Path
    service: str | None = None

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
        env["RESTIC_REPOSITORY"] = self.repository
        env["RESTIC_PASSWORD_FILE"] = str(self.password_file)
        env.setdefault("RESTIC_PROGRESS_FPS", "0.2")
        return env

    def command(self, args: Sequence[str], *, json_output: bool = True) -> list[str]:
        return [restic_binary(), *(["--json"] if json_output else []), *args]

    def run(
        self,
        args: Sequence[str],
        *,
        json_output: bool = True,
        ok_codes: Sequence[int] = (0,),
        timeout: float | None = None,
        on_started: OnStarted | None = None,
    ) -> subprocess.CompletedProcess[str]:
        command = self.command(args, json_output=json_output)
        self._require_password()
        code, stdout, stderr = self._execute(command, timeout, on_started)
        if code not in ok_codes:
            raise _error_for(command, code, stderr, self.service)
        return subprocess.CompletedProcess(command, code, stdout, stderr)

    def _execute(
        self, command: list[str], timeout: float | None, on_started: OnStarted | None
    ) -> tuple[int, str, str]:
        """Run restic here; (exit code, stdout, stderr). Swarm mode runs it on the data
        node instead (swarm.data)."""
        try:
            process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
                env=self.environment(),
                preexec_fn=_die_with_parent(os.getpid()),  # noqa: PLW1509 - prctl only
            )
        except OSError as exc:
            raise ResticUnavailable(f"cannot run restic: {exc}", INSTALL_HINT) from None
        if on_started is not None:
            on_started(process)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise ResticFailed(command, -1, f"timed out after {timeout}s") from None
        return process.returncode, stdout, stderr

    def _require_password(self) -> None:
        """Every restic command needs the password file: without it restic only says
        "Resolving password failed", so name the file and what to do here."""
        if self.password_file.is_file():
            return
        raise PasswordMissing(
            f"the backup password file {self.password_file} is missing"
            + (f" (backups of {self.service})" if self.service else ""),
            "Put back the copy of it you kept when it was created (its first line is the "
            "password); without it the existing backups cannot be opened. Only a new "
            "repository can start without one: `homestack backup` creates the file then.",
            file=self.password_file,
            service=self.service,
        )

    # ---- repository -------------------------------------------------------------------
    def is_initialized(self) -> bool:
        """True when the repository exists and the password opens it."""
        self._require_password()
        command = self.command(["cat", "config"], json_output=False)
        code, _out, stderr = self._execute(command, None, None)
        if code == 0:
            return True
        lowered = stderr.lower()
        if "wrong password" in lowered or "no key found" in lowered:
            raise _error_for(command, code, stderr, self.service)
        if "does not exist" in lowered or "is there a repository" in lowered:
            return False
        raise _error_for(command, code, stderr, self.service)

    def init(self) -> None:
        self.run(["init", "--repository-version", "2"], json_output=False)

    def unlock(self) -> None:
        """Remove stale locks (of dead processes); live ones are kept by restic."""
        self.run(["unlock"], json_output=False)

    # ---- operations -------------------------------------------------------------------
    def backup(
        self,
        paths: Sequence[Path],
        *,
        tags: Sequence[str],
        excludes: Sequence[str] = (),
        on_started: OnStarted | None = None,
    ) -> BackupSummary:
        args = ["backup", "--host", "homestack"]
        for tag in tags:
            args += ["--tag", tag]
        for pattern in excludes:
            args += ["--exclude", pattern]
        args += [str(p) for p in paths]
        done = self.run(args, on_started=on_started, ok_codes=(0, PARTIAL_SNAPSHOT))
        summary = None
        for item in reversed(_parse_json_lines(done.stdout)):
            if item.get("message_type") == "summary":
                with contextlib.suppress(ValidationError):
                    summary = BackupSummary.model_validate(item)
                break
        if done.returncode == PARTIAL_SNAPSHOT:
            # never leave an incomplete snapshot where a restore would take it as the latest
            if summary is not None and summary.snapshot_id:
                self.run(["forget", summary.snapshot_id], json_output=False)
            raise ResticFailed(
                done.args,
                done.returncode,
                done.stderr,
                "Some files could not be read, so the incomplete snapshot was removed; fix "
                "the files' permissions (see above) and back up again.",
                service=self.service,
            )
        if summary is None:
            raise ResticFailed(
                done.args, 0, "restic backup printed no summary", service=self.service
            )
        return summary

    def snapshots(self, *, tag: str | None = None) -> list[Snapshot]:
        """The repository's snapshots, oldest first; with `tag` only those carrying it."""
        done = self.run(["snapshots", "--no-lock", *(["--tag", tag] if tag else [])])
        try:
            items = json.loads(done.stdout or "[]") or []
        except json.JSONDecodeError as exc:
            raise ResticFailed(done.args, 0, f"unreadable snapshot list: {exc}") from None
        found = []
        for item in items if isinstance(items, list) else []:
            try:
                found.append(Snapshot.model_validate(item))
            except ValidationError:
                continue
        return sorted(found, key=lambda s: s.time)

    def stats(self, snapshot: str | None = None, mode: str = "restore-size") -> Stats:
        args = ["stats", "--no-lock", "--mode", mode]
        if snapshot:
            args.append(snapshot)
        done = self.run(args)
        items = _parse_json_lines(done.stdout)
        return Stats.model_validate(items[-1] if items else {})

    def check(self, *, read_data: bool = False, subset: str | None = None) -> str:
        args = ["check"]
        if read_data:
            args.append("--read-data")
        elif subset:
            args.append(f"--read-data-subset={subset}")
        done = self.run(args, json_output=False)
        return done.stdout

    def restore(
        self,
        snapshot: str,
        target: Path,
        on_started: OnStarted | None = None,
    ) -> None:
        self.run(
            ["restore", snapshot, "--target", str(target), "--verify"],
            json_output=False,
            on_started=on_started,
        )

    def forget_plan(
        self, retention: Retention, *, tag: str | None = None
    ) -> tuple[list[Snapshot], list[Snapshot]]:
        """What `forget` would keep and remove (dry run): one group of the snapshots that
        carry `tag` (all of them without), so a shared repository's other services'
        snapshots never count towards, nor fall to, this retention."""
        only = ["--tag", tag] if tag else []
        done = self.run(["forget", "--dry-run", *only, "--group-by", "", *retention.args()])
        keep: list[Snapshot] = []
        remove: list[Snapshot] = []
        for item in _parse_json_lines(done.stdout):
            group = ForgetGroup.model_validate(item)
            keep += group.keep or []
            remove += group.remove or []
        return keep, remove

    def diff(self, before: str, after: str) -> Changes:
        """What going from snapshot `before` to `after` changes, file by file."""
        done = self.run(["diff", "--no-lock", before, after])
        found: dict[str, list[str]] = {"+": [], "-": [], "M": [], "T": []}
        for item in _parse_json_lines(done.stdout):
            path = str(item.get("path") or "")
            modifier = str(item.get("modifier") or "")
            if item.get("message_type") == "change" and path and not path.endswith("/"):
                found.setdefault(modifier, []).append(path)
        return Changes(added=found["+"], removed=found["-"], changed=found["M"] + found["T"])

    def forget(self, snapshot_ids: Sequence[str]) -> None:
        if snapshot_ids:
            self.run(["forget", "--prune", *snapshot_ids], json_output=False)
