"""The one error family users see. Only the CLI turns these into text and exit codes."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitStatus(IntEnum):
    OK = 0
    FAILED = 1  # findings, or an operation that failed
    USAGE = 2  # bad input: arguments, files, settings


class HomestackError(Exception):
    """An error with a message for the user and a hint that says how to fix it."""

    exit_status: ExitStatus = ExitStatus.FAILED

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        service: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.file = str(file) if file is not None else None
        self.line = line
        self.service = service

    def where(self) -> str | None:
        if self.file is None:
            return None
        return f"{self.file}:{self.line}" if self.line else self.file


class BadInput(HomestackError):
    """The user's files, settings or arguments are wrong (exit 2)."""

    exit_status = ExitStatus.USAGE


class UnknownName(BadInput):
    """A stack or service name that does not exist."""


class OperationFailed(HomestackError):
    """Something we tried did not work (exit 1)."""


class EngineUnavailable(OperationFailed):
    """No Docker engine answers."""


class ComposeUnavailable(OperationFailed):
    """The Docker Compose v2 CLI cannot be found."""


class CommandFailed(OperationFailed):
    """An external command (docker, docker compose, restic) exited non-zero."""

    def __init__(
        self,
        command: list[str],
        returncode: int,
        stderr: str,
        hint: str | None = None,
        *,
        service: str | None = None,
    ) -> None:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        super().__init__(
            f"`{' '.join(command[:6])}{' …' if len(command) > 6 else ''}` exited {returncode}"
            + (f":\n{tail}" if tail else ""),
            hint,
            service=service,
        )
        self.command = command
        self.returncode = returncode
        self.stderr = stderr
