"""Count how often each service's settings are resolved while a command runs.

A resolution is one top-level call of `settings.interpolate` or `settings.interpolate_tree`
(the calls they make themselves, and those inside `Site.stack_env` or `merge_layers`, which
merge a stack's env layers, are part of it and not counted again), charged to the service
being worked on: the nearest caller frame with a local `service` that is a catalog Service.
Every homestack module's reference to the two functions is replaced for the duration, so a
phase that imported them by name is counted as well as one that calls `settings.…`.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from homestack import settings
from homestack.catalog import Service, Site


def _service_in_callers(skip: int) -> str | None:
    frame = sys._getframe(skip)
    while frame is not None:
        candidate = frame.f_locals.get("service")
        if isinstance(candidate, Service):
            return candidate.id
        frame = frame.f_back
    return None


@contextlib.contextmanager
def count_resolutions() -> Iterator[Counter[str]]:
    counts: Counter[str] = Counter()
    inside = threading.local()

    def wrap(function: Callable[..., Any], counted: bool) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if getattr(inside, "depth", 0):
                return function(*args, **kwargs)
            if counted and (owner := _service_in_callers(2)) is not None:
                counts[owner] += 1
            inside.depth = 1
            try:
                return function(*args, **kwargs)
            finally:
                inside.depth = 0

        return wrapper

    originals = {
        "interpolate": (settings.interpolate, True),
        "interpolate_tree": (settings.interpolate_tree, True),
        "merge_layers": (settings.merge_layers, False),
    }
    undo: list[tuple[Any, str, Any]] = []
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "homestack" or name.startswith("homestack.")):
            continue
        for attribute, (original, counted) in originals.items():
            if getattr(module, attribute, None) is original:
                undo.append((module, attribute, original))
                setattr(module, attribute, wrap(original, counted))
    stack_env = Site.stack_env
    undo.append((Site, "stack_env", stack_env))
    Site.stack_env = wrap(stack_env, False)  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        for owner, attribute, original in reversed(undo):
            setattr(owner, attribute, original)
