"""Typed models of the files a user edits: `stack.yaml` and the `x-homestack` block.

`x-homestack` lives inside the service's own entry of `services/{service}.docker-compose.yaml`
(`services.{service}.x-homestack`), so Compose's merge of several files never mixes the
metadata of two services. Compose ignores `x-` keys; homestack reads them. The JSON Schema in
`schema/x-homestack.schema.json` is generated from these models (`homestack schema`).

The models are frozen stdlib dataclasses whose constraints are written once, as pydantic
`Field`s inside `Annotated` types. Pydantic is the authority (error messages, the JSON
Schema) but costs ~200 ms to import and build, which read-only commands cannot afford: they
use `parse()`, a strict checker driven by the same annotations, and call pydantic only when
that checker refuses a value (to coerce it, or to say precisely what is wrong).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import sys
import types
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

if TYPE_CHECKING:  # evaluated lazily: only pydantic (and `_Spec` below) read the annotations
    from pydantic import Field

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
SECRET_NAME_PATTERN = r"^[a-z0-9][a-z0-9_]*$"
#: the largest uid/gid chown accepts (2**32 - 1 means "leave unchanged")
MAX_ID = 2**32 - 2
GpuNeed = Literal["none", "optional", "required"]
GpuVendor = Literal["nvidia", "amd", "intel"]
Access = Literal["admin", "user", "public"]
GPU_VENDORS: tuple[GpuVendor, ...] = ("nvidia", "amd", "intel")
_FORBID = {"extra": "forbid"}  # pydantic reads __pydantic_config__ from stdlib dataclasses


@dataclass(frozen=True)
class SecretSpec:
    """A secret homestack generates into `secrets/{service}_{name}`."""

    __pydantic_config__ = _FORBID

    name: Annotated[
        str, Field(pattern=SECRET_NAME_PATTERN, description="Without the service prefix.")
    ]
    length: Annotated[int, Field(ge=8, le=4096, description="Characters to generate.")] = 32
    alphabet: Annotated[
        Literal["alnum", "hex", "urlsafe", "ascii"],
        Field(
            description="alnum: A-Z a-z 0-9; hex: 0-9 a-f; urlsafe: base64url; ascii: printable."
        ),
    ] = "alnum"
    uid: Annotated[
        int | None, Field(ge=0, le=MAX_ID, description="Owner inside the container.")
    ] = None
    gid: Annotated[
        int | None, Field(ge=0, le=MAX_ID, description="Group inside the container.")
    ] = None
    description: str = ""
    prefix: Annotated[
        str,
        Field(
            pattern=r"^[A-Za-z0-9_-]{0,16}$",
            description="Fixed text before the generated characters (a token format, e.g. tk_).",
        ),
    ] = ""


@dataclass(frozen=True)
class WebSpec:
    """The service's web UI, reached through the reverse proxy."""

    __pydantic_config__ = _FORBID

    port: Annotated[
        int, Field(ge=1, le=65535, description="Port the UI listens on inside the container.")
    ]
    path: Annotated[str, Field(pattern=r"^/", description="Path of the UI, starting with /.")] = "/"
    subdomain: Annotated[str | None, Field(description="Defaults to the service id.")] = None
    auth: Annotated[bool, Field(description="Put single sign-on in front of it.")] = True
    health_path: Annotated[str | None, Field(description="Path the monitor polls.")] = None
    access: Annotated[
        Access | None,
        Field(
            description="Who may open it through the door: admin (group admins, two "
            "factors), user (groups users and admins, one factor) or public (no sign-on, "
            "the UI's own login). Unset: admin when auth is true, public when it is false."
        ),
    ] = None

    publish: Annotated[
        bool,
        Field(
            description="Opt in to publishing the UI's port on the host beside the proxy "
            "(with auth, that port skips sign-on; lint warns when it binds beyond loopback)."
        ),
    ] = False

    @property
    def level(self) -> Access:
        """The access level the proxy and Authelia enforce."""
        if self.access is not None:
            return self.access
        return "admin" if self.auth else "public"


Consistency = Literal["stop", "pause", "dump", "none"]
BackupPart = Literal["data", "config", "secrets"]
BACKUP_PARTS: tuple[BackupPart, ...] = ("data", "config", "secrets")


def _all_parts() -> list[BackupPart]:
    return list(BACKUP_PARTS)


@dataclass(frozen=True)
class BackupSpec:
    """What to save and how to make it consistent first."""

    __pydantic_config__ = _FORBID

    consistency: Annotated[
        Consistency,
        Field(
            description="stop: stop the container; pause: freeze it; dump: run dump_command "
            "inside it; none: files are safe to copy live."
        ),
    ] = "stop"
    paths: Annotated[
        list[BackupPart],
        Field(
            description="data: DATA/{service}; config: DATA/config/{service}; secrets: its files."
        ),
    ] = field(default_factory=_all_parts)
    dump_command: Annotated[
        list[str] | None, Field(description="Run in the container; its stdout is the dump.")
    ] = None
    dump_file: Annotated[
        str, Field(description="Where the dump is written, relative to DATA/{service}.")
    ] = "homestack-dump"
    exclude: Annotated[list[str], Field(description="restic exclude patterns.")] = field(
        default_factory=list
    )


@dataclass(frozen=True)
class UpdateSpec:
    """How `homestack update` may move this service's image."""

    __pydantic_config__ = _FORBID

    major: Annotated[
        Literal["auto", "manual"],
        Field(
            description="manual: refuse a major version jump unless `update --major` is given "
            "(databases, anything with on-disk formats); a dump is taken first."
        ),
    ] = "auto"


@dataclass(frozen=True)
class HomestackMeta:
    """The `x-homestack` block of one service."""

    __pydantic_config__ = _FORBID

    title: Annotated[str, Field(min_length=1)]
    description: Annotated[
        str, Field(min_length=1, description="What it is and why this implementation.")
    ]
    critical: Annotated[
        bool, Field(description="Must be healthy for the stack to count as up.")
    ] = False
    gpu: GpuNeed = "none"
    gpu_memory_mb: Annotated[int | None, Field(ge=0, description="GPU memory it asks for.")] = None
    web: WebSpec | None = None
    secrets: list[SecretSpec] = field(default_factory=list)
    backup: BackupSpec | None = field(default_factory=BackupSpec)
    depends_on: Annotated[
        list[str],
        Field(description="Services (any stack) that must be healthy before this one starts."),
    ] = field(default_factory=list)
    oneshot: Annotated[bool, Field(description="Runs to completion; needs no healthcheck.")] = False
    reload: Annotated[
        str | None,
        Field(
            pattern=r"^(SIG[A-Z0-9]+|watch)$",
            description="How it takes a changed config file that homestack generates for it, "
            "while its container stays: a signal `up` sends it (SIGHUP), or `watch` (it "
            "notices by itself). Unset: `up` says a restart applies it.",
        ),
    ] = None
    uid: Annotated[
        int | None, Field(ge=0, le=MAX_ID, description="User the container runs as.")
    ] = None
    gid: Annotated[int | None, Field(ge=0, le=MAX_ID)] = None
    update: UpdateSpec = field(default_factory=UpdateSpec)

    @property
    def stateless(self) -> bool:
        """Nothing to back up: no backup block, or `consistency: none` with no paths."""
        return self.backup is None or (self.backup.consistency == "none" and not self.backup.paths)

    def to_data(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class StackMeta:
    """`{stack}-stack/stack.yaml`, less the services list (read with its comments)."""

    __pydantic_config__ = _FORBID

    description: str = ""
    title: Annotated[
        str, Field(description="Its name on the start page (default: the id, capitalised).")
    ] = ""
    network: Annotated[
        str,
        Field(description="The network its services share (default: {id}-services)."),
    ] = ""
    depends_on: Annotated[list[str], Field(description="Other stacks' ids.")] = field(
        default_factory=list
    )
    services: Annotated[list[str], Field(description="Enabled services, in order.")] = field(
        default_factory=list
    )


Model = TypeVar("Model")


class _Spec:
    """Stands in for pydantic's Field when the strict checker reads the annotations."""

    def __init__(self, **constraints: Any) -> None:
        self.constraints = constraints


class _Refused(Exception):
    """The strict checker will not decide; pydantic will."""


@functools.cache
def _hints(cls: Any) -> dict[str, Any]:
    namespace = {**vars(sys.modules[__name__]), "Field": _Spec}
    return typing.get_type_hints(cls, globalns=namespace, include_extras=True)


def _check(hint: Any, value: Any) -> Any:
    """`value` converted to `hint`, for values already of the exact type; else _Refused."""
    origin = typing.get_origin(hint)
    if origin is Annotated:
        base, *extras = typing.get_args(hint)
        result = _check(base, value)
        for extra in extras:
            if isinstance(extra, _Spec) and result is not None:
                _constrain(result, extra.constraints)
        return result
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in typing.get_args(hint):
            return None
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(options) != 1:
            raise _Refused
        return _check(options[0], value)
    if origin is Literal:
        if isinstance(value, str) and value in typing.get_args(hint):
            return value
        raise _Refused
    if origin is list:
        if not isinstance(value, list):
            raise _Refused
        (item,) = typing.get_args(hint)
        return [_check(item, entry) for entry in value]
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _build(hint, value)
    if hint in (str, int, bool) and type(value) is hint:
        return value
    raise _Refused


def _constrain(value: Any, constraints: dict[str, Any]) -> None:
    if "ge" in constraints and value < constraints["ge"]:
        raise _Refused
    if "le" in constraints and value > constraints["le"]:
        raise _Refused
    if "min_length" in constraints and len(value) < constraints["min_length"]:
        raise _Refused
    if "pattern" in constraints and not re.search(constraints["pattern"], value):
        raise _Refused


def _build(cls: type[Model], data: Any) -> Model:
    if not isinstance(data, dict):
        raise _Refused
    hints = _hints(typing.cast(Any, cls))
    if not set(data) <= set(hints):
        raise _Refused
    values = {key: _check(hints[key], value) for key, value in data.items()}
    try:
        return cls(**values)
    except TypeError:  # a required field is missing
        raise _Refused from None


def _inner_dataclass(hint: Any) -> type | None:
    """The dataclass a field holds, through Annotated, `X | None` and list[X]."""
    while True:
        origin = typing.get_origin(hint)
        if origin is Annotated or origin is list:
            hint = typing.get_args(hint)[0]
        elif origin in (types.UnionType, typing.Union):
            options = [a for a in typing.get_args(hint) if a is not type(None)]
            if len(options) != 1:
                return None
            hint = options[0]
        else:
            break
    return hint if dataclasses.is_dataclass(hint) and isinstance(hint, type) else None


def keys_at(cls: type, loc: tuple[str | int, ...]) -> list[str]:
    """The keys the model accepts at `loc` (a mapping's path, list indexes included)."""
    target: type | None = cls
    for part in loc:
        if isinstance(part, int):
            continue  # an item of a list: _inner_dataclass already looked inside
        hint = _hints(target).get(part) if target else None
        target = _inner_dataclass(hint) if hint is not None else None
    return list(_hints(target)) if target else []


@functools.cache
def _adapter(cls: Any) -> Any:
    import pydantic

    globals().setdefault("Field", pydantic.Field)  # the name the annotations use
    return pydantic.TypeAdapter(cls)


class SchemaError(ValueError):
    """`data` does not fit the model; `errors()` is pydantic's list (loc, msg, type, …)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        first = errors[0] if errors else {"loc": (), "msg": "invalid"}
        super().__init__(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
        self._errors = errors

    def errors(self) -> list[dict[str, Any]]:
        return self._errors


def parse(cls: type[Model], data: Any) -> Model:
    """Validate `data` (a parsed YAML mapping) into `cls`, or raise SchemaError.

    Well-typed data (what every shipped file holds) is checked without pydantic; anything
    else goes to pydantic, which coerces what it may and explains what it must refuse."""
    try:
        return _build(cls, data)
    except _Refused:
        pass
    import pydantic

    try:
        built: Model = _adapter(typing.cast(Any, cls)).validate_python(data)
    except pydantic.ValidationError as exc:
        raise SchemaError([dict(e) for e in exc.errors()]) from None
    return built


def json_schema() -> dict[str, object]:
    schema: dict[str, object] = _adapter(HomestackMeta).json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://homestack.dev/schema/x-homestack.schema.json"
    return schema
