"""GPU hosts from recordings (tests/fixtures/gpu) replayed through a HostProbe."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from homestack.host.recording import RecordedHost

GPU_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gpu"


@pytest.fixture
def gpu_host(tmp_path: Path) -> Callable[..., RecordedHost]:
    count = itertools.count()

    def load(name: str, *more: Path, **overrides: object) -> RecordedHost:
        return RecordedHost.load(
            GPU_FIXTURES / name, *more, root=tmp_path / f"root{next(count)}", **overrides
        )

    return load
