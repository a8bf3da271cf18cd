"""`pause` tries again when runc could not freeze the container in time (seen once on a
machine at load 50, right after a start). Fake compose runs: runc's refusal cannot be
caused on demand here; the recorded text is the engine's own."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from homestack.engine import backup_ops
from homestack.errors import CommandFailed

# a compose-mode site: pause reads DEPLOY_MODE from the root .env before acting
_SITE = SimpleNamespace(root_env={})

FREEZE = (
    "Error response from daemon: Cannot pause container 9f4c039db74d: OCI runtime pause "
    "failed: unable to freeze: unknown"
)


class FakeProject:
    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        self.calls = 0

    def act(self, action: str, services: list[str], **_: Any) -> None:
        self.calls += 1
        if self.failures:
            raise CommandFailed(["docker", "compose", action, *services], 1, self.failures.pop(0))


def _pause_with(monkeypatch: pytest.MonkeyPatch, failures: list[str]) -> FakeProject:
    project = FakeProject(failures)
    monkeypatch.setattr(backup_ops, "project_for", lambda *_: project)
    monkeypatch.setattr(backup_ops.time, "sleep", lambda _s: None)
    return project


def test_fake_pause_tries_again_when_runc_could_not_freeze(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = _pause_with(monkeypatch, [FREEZE, FREEZE])
    backup_ops.pause(_SITE, SimpleNamespace(id="files"))  # type: ignore[arg-type]
    assert project.calls == 3


def test_fake_pause_gives_up_after_three_tries_and_at_once_on_other_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = _pause_with(monkeypatch, [FREEZE] * 3)
    with pytest.raises(CommandFailed, match="unable to freeze"):
        backup_ops.pause(_SITE, SimpleNamespace(id="files"))  # type: ignore[arg-type]
    assert project.calls == 3
    project = _pause_with(monkeypatch, ["Error response from daemon: No such container"])
    with pytest.raises(CommandFailed, match="No such container"):
        backup_ops.pause(_SITE, SimpleNamespace(id="files"))  # type: ignore[arg-type]
    assert project.calls == 1
