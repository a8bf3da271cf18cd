"""One backup or restore at a time per service: an flock on a lock file.

The kernel drops an flock when its process dies, so a lock left by a killed process is
free again at once; the pid written into the file only makes the refusal message useful.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from ..errors import OperationFailed


class ServiceBusy(OperationFailed):
    """Another homestack process is backing up or restoring this service."""


class ServiceLock:
    def __init__(self, folder: Path, service: str, action: str) -> None:
        self.path = folder / f"{service}.lock"
        self.service = service
        self.action = action
        self._fd: int | None = None

    def acquire(self) -> ServiceLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip()
            os.close(fd)
            raise ServiceBusy(
                f"{self.service} is busy: another homestack process holds its backup lock"
                + (f" ({holder})" if holder else ""),
                "Wait for that backup or restore to finish, then run this again.",
                service=self.service,
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, {self.action}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ServiceLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
