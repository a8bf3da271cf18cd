"""One serialiser for results: `to_data()` derived from a dataclass's fields.

A result dataclass inherits Serialised and gets `to_data()` (what `--json` prints and the
dashboard's JSON twins return): its fields in order, each value made plain (a nested result's
own `to_data()`, a dataclass's fields, lists, tuples and dicts item by item). Where the JSON
differs from the fields, the class says so instead of writing the dict out by hand:

- `field(metadata=entry(key="lan_address_setting"))`: the field under another key;
- `entry(omit=True)`: a field left out (a monotonic time, a back reference);
- `entry(ndigits=2)`: a float rounded (elapsed seconds);
- `DATA_EXTRA = ("changed", "ok", "summary")`: properties or no-argument methods added after
  the fields; a `(key, function)` pair adds function(self) under key;
- `DATA_ORDER = ("placement", "stack_waves", …)`: the keys in another order than the fields.

stdlib only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

T = TypeVar("T")


def entry(
    *, key: str | None = None, omit: bool = False, ndigits: int | None = None
) -> dict[str, Any]:
    """The metadata of a field whose JSON differs from its name and value."""
    return {"data": {"key": key, "omit": omit, "ndigits": ndigits}}


def plain(value: Any) -> Any:
    """`value` as JSON-ready data: results by their to_data(), dataclasses by their fields,
    containers item by item; anything else (str, numbers, None, Path …) as it is."""
    if hasattr(value, "to_data"):
        return value.to_data()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    return value


class Serialised:
    """A dataclass whose to_data() is derived from its fields (see the module's doc)."""

    DATA_EXTRA: ClassVar[tuple[str | tuple[str, Callable[[Any], Any]], ...]] = ()
    DATA_ORDER: ClassVar[tuple[str, ...]] = ()

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for item in dataclasses.fields(self):  # type: ignore[arg-type]
            spec = item.metadata.get("data") or {}
            if spec.get("omit"):
                continue
            value = getattr(self, item.name)
            if spec.get("ndigits") is not None and value is not None:
                value = round(value, spec["ndigits"])
            data[spec.get("key") or item.name] = plain(value)
        for extra in self.DATA_EXTRA:
            if isinstance(extra, tuple):
                name, derive = extra
                data[name] = plain(derive(self))
                continue
            value = getattr(self, extra)
            data[extra] = plain(value() if callable(value) else value)
        if self.DATA_ORDER:  # these first, in this order; any other key after them
            ordered = {key: data[key] for key in self.DATA_ORDER}
            ordered.update(data)
            data = ordered
        return data


@dataclasses.dataclass(frozen=True)
class Listed(Generic[T]):
    """A result that is a list (of typed rows): its data is each row's, as a JSON array."""

    items: list[T]

    def to_data(self) -> list[Any]:
        return [plain(item) for item in self.items]


@dataclasses.dataclass(frozen=True)
class Single(Generic[T]):
    """A result that is one plain dataclass (no to_data of its own): its fields as data."""

    item: T

    def to_data(self) -> Any:
        return plain(self.item)
