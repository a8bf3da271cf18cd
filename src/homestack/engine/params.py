"""What a caller asks the engine for, bundled: the settings of a network to make
(`NetworkParams`) and which part of a container's log to read (`LogParams`).

engine.docker and every Backend take these instead of spelling the keyword lists out again.
No SDK import here: operations build them before any engine is reached.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class NetworkParams:
    """A network to make: its driver (bridge, macvlan, ipvlan …), one address pool when
    `subnet` is given (with its `gateway` and `ip_range`), the driver's `options` (e.g. a
    macvlan's parent), `labels`, and whether it is `internal` (no way out)."""

    driver: str = "bridge"
    subnet: str | None = None
    gateway: str | None = None
    ip_range: str | None = None
    options: Mapping[str, str] | None = None
    labels: Mapping[str, str] | None = None
    internal: bool = False


#: the default: a bridge network the engine gives an address pool of its own
BRIDGE = NetworkParams()


@dataclass(frozen=True)
class LogParams:
    """Which lines of one container's log: its `stream` (stdout or stderr), whether to
    `follow` it, from `since` (epoch seconds) and only the last `tail` lines."""

    stream: str
    follow: bool
    since: float | None = None
    tail: int | None = None
