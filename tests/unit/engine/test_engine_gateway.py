"""engine/ is the one gateway to Docker: no docker, `docker compose` or restic command line
and no Compose label name anywhere else in src/ (the backup module's restic wrapper runs
restic). An AST walk, so comments and docstrings that name a command do not count."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src" / "homestack"
ALLOWED = ("engine/", "backup/restic.py")
#: what follows the program in a docker command line (`[cli, "info", …]`)
DOCKER_VERBS = {
    "build", "compose", "events", "exec", "image", "info", "inspect", "logs", "network",
    "ps", "pull", "push", "rm", "run", "stats", "stop", "tag", "version", "volume",
}  # fmt: skip
#: the first word of a Compose command run through ComposeProject.run
COMPOSE_VERBS = {
    "config", "create", "down", "exec", "kill", "logs", "pause", "ps", "pull", "restart",
    "rm", "run", "start", "stop", "unpause", "up",
}  # fmt: skip
PROGRAMS = {"docker", "docker-compose", "restic"}


def _text(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _argv_problem(items: list[ast.expr]) -> str | None:
    """Why this list or tuple literal is a docker/compose/restic command line (None: not)."""
    if not items or isinstance(items[0], ast.Starred):
        return None
    first = _text(items[0])
    second = _text(items[1]) if len(items) > 1 else None
    if first in PROGRAMS and (
        len(items) == 1 or second is not None or isinstance(items[1], ast.Starred)
    ):
        return f"a {first} command line"
    if first is None and second in DOCKER_VERBS and isinstance(items[0], ast.Name | ast.Call):
        name = ast.unparse(items[0])
        if any(word in name.lower() for word in ("docker", "cli", "restic", "found")):
            return f"a command line `{name} {second} …`"
    return None


def problems(root: Path) -> list[str]:
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(ALLOWED):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            where = f"{relative}:{getattr(node, 'lineno', '?')}"
            text = _text(node)
            if text is not None and text.startswith("com.docker.compose."):
                found.append(f"{where}: the Compose label {text!r} (engine.model defines it)")
            if isinstance(node, ast.List | ast.Tuple):
                why = _argv_problem(node.elts)
                if why:
                    found.append(f"{where}: {why} (engine/ runs those)")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                verb = _text(node.args[0]) if node.args else None
                if node.func.attr == "run" and verb in COMPOSE_VERBS:
                    found.append(f"{where}: `.run({verb!r}, …)`, a Compose command line")
                owner = ast.unparse(node.func.value)
                if node.func.attr == "which" and owner == "shutil" and verb == "restic":
                    found.append(f"{where}: which('restic') (backup.restic finds restic)")
    return found


def test_no_docker_compose_or_restic_command_and_no_compose_label_outside_engine() -> None:
    assert problems(SRC) == []


def test_a_pair_naming_a_program_is_not_a_command_line(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text('pairs = (("restic", version), ("busybox", found))\n')
    assert problems(tmp_path) == []


@pytest.mark.parametrize(
    "code",
    [
        'subprocess.run(["docker", "info"])',
        'probe.run([cli, "compose", "version", "--short"])',
        'probe.run((docker, "info", "--format", "{{json .}}"))',
        'subprocess.run([found, "version"])',
        'project.run("up", "-d", "web")',
        'label = "com.docker.compose.project"',
        'shutil.which("restic")',
        'subprocess.run(["docker", *args])',
    ],
)
def test_the_walk_finds_each_kind(tmp_path: Path, code: str) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "x.py").write_text(code + "\n")
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "ok.py").write_text(code + "\n")  # engine/ may
    assert len(problems(tmp_path)) == 1


# ---- operations ask the Backend, not engine.docker ---------------------------------------
#: what may be imported from engine.docker anywhere: the typed views Backend methods return
DOCKER_TYPES = {"NetworkInfo", "VolumeInfo", "IpamPool"}
#: modules outside engine/ that still call engine.docker, each with why (shrink this list)
DOCKER_ALLOWED = {
    "observe/doctor_net.py": "doctor's segregation probe, a throwaway container on each "
    "network (engine.docker.run_probe): a diagnosis of this engine's bridge networks, which "
    "no operation needs and the Backend does not offer",
}


def _module(relative: str, node: ast.ImportFrom) -> str:
    """The absolute module an import names (`from ..engine import docker` → homestack.engine)."""
    if not node.level:
        return node.module or ""
    package = ["homestack", *relative.split("/")[:-1]]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def docker_imports(root: Path) -> dict[str, list[str]]:
    """Module (relative path) → each import of engine.docker's functions outside engine/."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith("engine/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            where = f"{relative}:{node.lineno}" if isinstance(node, ast.stmt) else relative
            if isinstance(node, ast.Import):
                hits = [a.name for a in node.names if a.name == "homestack.engine.docker"]
            elif isinstance(node, ast.ImportFrom):
                module = _module(relative, node)
                if module == "homestack.engine":
                    hits = [a.name for a in node.names if a.name == "docker"]
                elif module == "homestack.engine.docker":
                    hits = [a.name for a in node.names if a.name not in DOCKER_TYPES]
                else:
                    hits = []
            else:
                continue
            for name in hits:
                found.setdefault(relative, []).append(f"{where}: imports engine.docker ({name})")
    return found


def test_operations_use_the_backend_not_engine_docker() -> None:
    """Outside engine/ an operation asks the Backend it is handed (ctx.engine(), or
    engine.backend.default_backend() where no Context reaches yet), never engine.docker."""
    found = docker_imports(SRC)
    unexpected = [
        line for module, lines in found.items() if module not in DOCKER_ALLOWED for line in lines
    ]
    assert unexpected == []
    # an allowance that is no longer needed goes: the list only shrinks
    assert sorted(set(DOCKER_ALLOWED) - set(found)) == []


@pytest.mark.parametrize(
    "code",
    [
        "from ..engine import docker as engine",
        "from ..engine.docker import list_networks",
        "from homestack.engine.docker import api_client",
        "import homestack.engine.docker",
        "from ...engine import docker",
    ],
)
def test_the_import_walk_finds_each_form(tmp_path: Path, code: str) -> None:
    folder = tmp_path / "deploy" / ("sub" if code.startswith("from ...") else "")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "x.py").write_text(code + "\n")
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "ok.py").write_text("from . import docker\n")  # engine/ may
    (tmp_path / "lint.py").write_text(
        "from .engine.docker import NetworkInfo\nfrom .engine import backend\n"
    )  # the typed views, and the backend, are fine
    assert sum(len(lines) for lines in docker_imports(tmp_path).values()) == 1
