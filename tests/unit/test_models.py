"""x-homestack and stack.yaml models, and the committed JSON Schema."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from homestack import models
from homestack.models import (
    BackupSpec,
    HomestackMeta,
    SchemaError,
    SecretSpec,
    StackMeta,
    WebSpec,
    json_schema,
    parse,
)

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "src/homestack/schema/x-homestack.schema.json"


def test_minimal_meta_gets_safe_defaults() -> None:
    meta = parse(HomestackMeta, {"title": "Ollama", "description": "LLM server"})
    assert meta.gpu == "none"
    assert meta.critical is False
    assert meta.web is None
    assert meta.secrets == []
    assert meta.backup == BackupSpec()
    assert meta.backup is not None
    assert meta.backup.consistency == "stop"
    assert meta.backup.paths == ["data", "config", "secrets"]


def test_full_meta_parses_every_part() -> None:
    meta = parse(
        HomestackMeta,
        {
            "title": "Paperless",
            "description": "Documents",
            "critical": True,
            "gpu": "optional",
            "gpu_memory_mb": 2048,
            "web": {"port": 8000, "path": "/ui", "subdomain": "docs", "auth": False},
            "secrets": [{"name": "db_password", "length": 48, "alphabet": "hex", "uid": 999}],
            "backup": {
                "consistency": "dump",
                "paths": ["data"],
                "dump_command": ["pg_dumpall", "-U", "postgres"],
            },
            "depends_on": ["postgres"],
            "oneshot": False,
        },
    )
    assert meta.web is not None
    assert (meta.web.port, meta.web.path, meta.web.auth) == (8000, "/ui", False)
    assert meta.secrets[0].name == "db_password"
    assert meta.secrets[0].alphabet == "hex"
    assert meta.backup is not None
    assert meta.backup.dump_command == ["pg_dumpall", "-U", "postgres"]
    assert meta.depends_on == ["postgres"]


def test_backup_may_be_switched_off() -> None:
    meta = parse(HomestackMeta, {"title": "t", "description": "d", "backup": None})
    assert meta.backup is None


@pytest.mark.parametrize(
    ("patch", "where"),
    [
        ({"title": ""}, "title"),
        ({"gpu": "maybe"}, "gpu"),
        ({"colour": "red"}, "colour"),  # unknown keys are typos, not extensions
        ({"web": {"port": 0}}, "web.port"),
        ({"web": {"port": 80, "path": "ui"}}, "web.path"),
        ({"secrets": [{"name": "DB-Password"}]}, "secrets.0.name"),
        ({"secrets": [{"name": "db", "length": 4}]}, "secrets.0.length"),
        ({"secrets": [{"name": "db", "alphabet": "emoji"}]}, "secrets.0.alphabet"),
        ({"backup": {"consistency": "snapshot"}}, "backup.consistency"),
        ({"backup": {"paths": ["everything"]}}, "backup.paths.0"),
        ({"gpu_memory_mb": -1}, "gpu_memory_mb"),
        ({"reload": "HUP"}, "reload"),  # a signal is spelled SIGHUP; or `watch`
    ],
)
def test_invalid_meta_names_the_field(patch: dict[str, Any], where: str) -> None:
    data = {"title": "t", "description": "d", **patch}
    with pytest.raises(SchemaError) as caught:
        parse(HomestackMeta, data)
    locations = {".".join(str(p) for p in error["loc"]) for error in caught.value.errors()}
    assert where in locations


def test_missing_required_fields() -> None:
    with pytest.raises(SchemaError) as caught:
        parse(HomestackMeta, {})
    assert {e["loc"][0] for e in caught.value.errors()} == {"title", "description"}


def test_meta_is_frozen() -> None:
    meta = parse(HomestackMeta, {"title": "t", "description": "d"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        meta.title = "other"  # type: ignore[misc]


def test_stack_meta_defaults_and_rejects_unknown_keys() -> None:
    assert parse(StackMeta, {}) == StackMeta(description="", depends_on=[], services=[])
    parsed = parse(StackMeta, {"depends_on": ["essentials"], "services": ["a"]})
    assert parsed.depends_on == ["essentials"]
    with pytest.raises(SchemaError):
        parse(StackMeta, {"servics": ["a"]})


VALID: list[dict[str, Any]] = [
    {"title": "t", "description": "d"},
    {"title": "t", "description": "d", "backup": None, "web": None, "gpu_memory_mb": None},
    {
        "title": "Paperless",
        "description": "Documents",
        "critical": True,
        "gpu": "required",
        "gpu_memory_mb": 0,
        "web": {"port": 65535, "path": "/", "subdomain": "docs", "health_path": "/health"},
        "secrets": [{"name": "a_b", "length": 8, "alphabet": "ascii", "uid": 0, "gid": 1}],
        "backup": {"consistency": "none", "paths": [], "exclude": ["*.tmp"]},
        "depends_on": ["postgres", "redis"],
        "oneshot": True,
        "reload": "SIGHUP",
        "uid": 1000,
        "gid": 1000,
    },
]


@pytest.mark.parametrize("data", VALID)
def test_fast_checker_builds_what_pydantic_builds(data: dict[str, Any]) -> None:
    fast = models._build(HomestackMeta, data)
    assert fast == models._adapter(HomestackMeta).validate_python(data)
    assert parse(HomestackMeta, data) == fast


@pytest.mark.parametrize(
    "data",
    [
        {"title": "t", "description": "d", "critical": "yes"},
        {"title": "t", "description": "d", "web": {"port": "8080"}},
        {"title": "t", "description": "d", "gpu_memory_mb": True},
        {"title": "t", "description": "d", "secrets": "db"},
        {"title": "t", "description": "d", "backup": {"paths": "data"}},
        {"title": "", "description": "d"},
        {"title": "t", "description": "d", "web": {"port": 80, "path": "ui"}},
        {"title": "t", "description": "d", "secrets": [{"name": "UPPER"}]},
        {"title": "t", "description": "d", "extra": 1},
        {"title": "t"},
        ["not", "a", "mapping"],
    ],
)
def test_fast_checker_leaves_anything_unusual_to_pydantic(data: Any) -> None:
    with pytest.raises(models._Refused):
        models._build(HomestackMeta, data)


def test_pydantic_still_coerces_what_the_fast_checker_refuses() -> None:
    meta = parse(HomestackMeta, {"title": "t", "description": "d", "web": {"port": "8080"}})
    assert meta.web == WebSpec(port=8080)


def test_models_are_plain_dataclasses_built_by_keyword() -> None:
    spec = SecretSpec(name="db", length=64, alphabet="hex")
    assert (spec.length, spec.alphabet, spec.uid) == (64, "hex", None)
    assert BackupSpec().paths == ["data", "config", "secrets"]
    assert BackupSpec().paths is not BackupSpec().paths
    meta = HomestackMeta(title="t", description="d")
    assert meta.to_data()["backup"]["consistency"] == "stop"


def test_reading_the_catalog_does_not_import_pydantic() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from homestack.catalog import Site; "
        f"site = Site.load(Path({str(SCHEMA_FILE.parents[3])!r})); "
        "assert all(s.meta for s in site.services()); "
        "print('pydantic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_json_schema_describes_the_block() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    properties = schema["properties"]
    assert isinstance(properties, dict)
    for key in ("title", "description", "critical", "gpu", "web", "secrets", "backup"):
        assert key in properties
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"title", "description"}  # type: ignore[call-overload]


def test_committed_schema_file_equals_the_models() -> None:
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == json_schema(), (
        "stale: run `homestack schema > src/homestack/schema/x-homestack.schema.json`"
    )


def test_committed_schema_file_is_shipped_with_the_package() -> None:
    from importlib.resources import files

    shipped = files("homestack") / "schema" / "x-homestack.schema.json"
    assert json.loads(shipped.read_text(encoding="utf-8")) == json_schema()
