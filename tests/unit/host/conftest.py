"""Host descriptions (tests/fixtures/hosts, tests/fixtures/gpu) replayed through a HostProbe."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from homestack.host.recording import RecordedHost

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def host(tmp_path: Path) -> Callable[..., RecordedHost]:
    """host("gpu/fake-none", "hosts/fake-os-debian-13.txt", ...): merged, later files win."""

    count = itertools.count()

    def load(*names: str, **overrides: object) -> RecordedHost:
        return RecordedHost.load(
            *(FIXTURES / n for n in names), root=tmp_path / f"root{next(count)}", **overrides
        )

    return load
