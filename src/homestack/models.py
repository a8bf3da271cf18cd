"""Typed models of the files a user edits: `stack.yaml` and the `x-homestack` block.

`x-homestack` lives inside the service's own entry of `services/{service}.docker-compose.yaml`
(`services.{service}.x-homestack`), so Compose's merge of several files never mixes the
metadata of two services. Compose ignores `x-` keys; homestack reads them. The JSON Schema in
`schema/x-homestack.schema.json` is generated from these models (`homestack schema`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
SECRET_NAME_PATTERN = r"^[a-z0-9][a-z0-9_]*$"
GpuNeed = Literal["none", "optional", "required"]
GpuVendor = Literal["nvidia", "amd", "intel"]
GPU_VENDORS: tuple[GpuVendor, ...] = ("nvidia", "amd", "intel")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretSpec(_Model):
    """A secret homestack generates into `secrets/{service}_{name}`."""

    name: str = Field(pattern=SECRET_NAME_PATTERN, description="Without the service prefix.")
    length: int = Field(default=32, ge=8, le=4096, description="Characters to generate.")
    alphabet: Literal["alnum", "hex", "urlsafe", "ascii"] = Field(
        default="alnum",
        description="alnum: A-Z a-z 0-9; hex: 0-9 a-f; urlsafe: base64url; ascii: printable.",
    )
    uid: int | None = Field(default=None, ge=0, description="Owner inside the container.")
    gid: int | None = Field(default=None, ge=0, description="Group inside the container.")
    description: str = ""


class WebSpec(_Model):
    """The service's web UI, reached through the reverse proxy."""

    port: int = Field(ge=1, le=65535, description="Port the UI listens on inside the container.")
    path: str = Field(default="/", description="Path of the UI, starting with /.")
    subdomain: str | None = Field(default=None, description="Defaults to the service id.")
    auth: bool = Field(default=True, description="Put single sign-on in front of it.")
    health_path: str | None = Field(default=None, description="Path the monitor polls.")

    @field_validator("path")
    @classmethod
    def _path_starts_with_slash(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value


Consistency = Literal["stop", "pause", "dump", "none"]
BackupPart = Literal["data", "config", "secrets"]
BACKUP_PARTS: tuple[BackupPart, ...] = ("data", "config", "secrets")


class BackupSpec(_Model):
    """What to save and how to make it consistent first."""

    consistency: Consistency = Field(
        default="stop",
        description="stop: stop the container; pause: freeze it; dump: run dump_command "
        "inside it; none: files are safe to copy live.",
    )
    paths: list[BackupPart] = Field(
        default_factory=lambda: list(BACKUP_PARTS),
        description="data: DATA/{service}; config: DATA/config/{service}; secrets: its files.",
    )
    dump_command: list[str] | None = Field(
        default=None, description="Run in the container; its stdout is the dump."
    )
    dump_file: str = Field(
        default="homestack-dump",
        description="Where the dump is written, relative to DATA/{service}.",
    )
    exclude: list[str] = Field(default_factory=list, description="restic exclude patterns.")


class HomestackMeta(_Model):
    """The `x-homestack` block of one service."""

    title: str = Field(min_length=1)
    description: str = Field(min_length=1, description="What it is and why this implementation.")
    critical: bool = Field(
        default=False, description="Must be healthy for the stack to count as up."
    )
    gpu: GpuNeed = "none"
    gpu_memory_mb: int | None = Field(default=None, ge=0, description="GPU memory it asks for.")
    web: WebSpec | None = None
    secrets: list[SecretSpec] = Field(default_factory=list)
    backup: BackupSpec | None = Field(default_factory=BackupSpec)
    depends_on: list[str] = Field(
        default_factory=list,
        description="Services (any stack) that must be healthy before this one starts.",
    )
    oneshot: bool = Field(default=False, description="Runs to completion; needs no healthcheck.")
    uid: int | None = Field(default=None, ge=0, description="User the container runs as.")
    gid: int | None = Field(default=None, ge=0)


class StackMeta(_Model):
    """`{stack}-stack/stack.yaml`, less the services list (read with its comments)."""

    description: str = ""
    depends_on: list[str] = Field(default_factory=list, description="Other stacks' ids.")
    services: list[str] = Field(default_factory=list, description="Enabled services, in order.")


def json_schema() -> dict[str, object]:
    schema = HomestackMeta.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://homestack.dev/schema/x-homestack.schema.json"
    return schema
