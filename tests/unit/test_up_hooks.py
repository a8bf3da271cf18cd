"""`up` gets the update package's hooks (undo updates a killed process left, record each
deploy in the history) from its Context instead of importing them, which closed the cycle
deploy.up -> update.hooks -> update.apply -> deploy.up. The CLI's context, api.up, the
dashboard and `install all` hand them; the update package's own `up` runs without.

No engine: a lock that refuses stops `up` right after the hooks' first step; a real journal
of an update killed before it wrote anything shows whether that step ran (it is cleared).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from homestack import api
from homestack.catalog import Site
from homestack.cli.app import State
from homestack.context import Context
from homestack.deploy.up import up
from homestack.update import hooks
from homestack.update.apply import Journal
from testkit.sites import copy_catalog


class _Stop(Exception):
    """Raised by the test's lock: `up` got as far as taking it."""


class _Refusing:
    def __init__(self) -> None:
        self.held: list[str] = []

    @contextlib.contextmanager
    def hold(self, action: str, *, shared: bool = False) -> Iterator[None]:
        self.held.append(action)
        raise _Stop(action)
        yield  # pragma: no cover (a generator: the context manager protocol)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """The shipped catalog with a journal of an update of jellyfin killed while it pulled."""
    root = copy_catalog(tmp_path / "site")
    (root / ".env").write_text((root / ".env.example").read_text() + "\nDATA_ROOT=./DATA\n")
    loaded = Site.load(root)
    Journal("jellyfin", "pull", "x.yml", "", "old:1", "new:2", "sha256:0").save(loaded)
    assert Journal.path(loaded, "jellyfin").exists()
    return loaded


def test_up_runs_the_contexts_hooks_before_it_takes_the_lock(site: Site) -> None:
    lock = _Refusing()
    with pytest.raises(_Stop):
        up(site, ["jellyfin"], ctx=Context(site, lock, up_hooks=hooks))
    assert lock.held == ["up"]
    assert not Journal.path(site, "jellyfin").exists()  # the killed update was undone first


def test_up_without_hooks_leaves_the_update_journals_alone(site: Site) -> None:
    lock = _Refusing()
    with pytest.raises(_Stop):
        up(site, ["jellyfin"], ctx=Context(site, lock))
    assert lock.held == ["up"]
    assert Journal.path(site, "jellyfin").exists()


def test_api_up_hands_the_update_hooks_when_the_context_names_none(site: Site) -> None:
    with pytest.raises(_Stop):
        api.up(Context(site, _Refusing()), ["jellyfin"])
    assert not Journal.path(site, "jellyfin").exists()


def test_the_clis_context_carries_the_update_hooks(site: Site) -> None:
    assert State(site_path=site.root).context().up_hooks is hooks
