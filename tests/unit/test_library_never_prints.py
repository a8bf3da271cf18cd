"""Library code never writes to the terminal: operations report events to their Context's
sink and return results; only homestack/cli renders (Rich). An AST walk of src/homestack
outside cli/ finds print(), writes to sys.stdout/sys.stderr, a Rich Console or Live built,
and click/typer echo. A script's own `if __name__ == "__main__":` block may print."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "homestack"
RICH_TERMINALS = {"Console", "Live", "Progress", "Status"}


def _is_main_guard(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
    )


def _sys_stream(node: ast.AST) -> str | None:
    """`sys.stdout` / `sys.stderr` (also `sys.__stdout__`)."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
        and node.attr.strip("_") in ("stdout", "stderr")
    ):
        return f"sys.{node.attr}"
    return None


def _rich_names(tree: ast.AST) -> set[str]:
    """The names this module binds to Rich's terminal classes (`from rich.live import Live`)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rich"):
            names |= {a.asname or a.name for a in node.names if a.name in RICH_TERMINALS}
    return names


def offences(source: str, where: str) -> list[str]:
    tree = ast.parse(source)
    rich = _rich_names(tree)
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if _is_main_guard(node):
            skipped |= {id(inner) for inner in ast.walk(node)}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        what = None
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and (func.id == "print" or func.id in rich):
                what = f"{func.id}(…)"
            elif isinstance(func, ast.Attribute):
                owner = func.value
                if isinstance(owner, ast.Name) and owner.id in ("click", "typer"):
                    if func.attr in ("echo", "secho"):
                        what = f"{owner.id}.{func.attr}(…)"
                elif func.attr in RICH_TERMINALS and isinstance(owner, ast.Attribute | ast.Name):
                    dotted = ast.unparse(owner)
                    if dotted.startswith("rich"):
                        what = f"{dotted}.{func.attr}(…)"
        stream = _sys_stream(node)
        if stream is not None:
            what = stream  # written to, flushed or handed on: all terminal output
        if what is not None:
            found.append((getattr(node, "lineno", 0), what))
    return [f"{where}:{line}: {what}" for line, what in sorted(found)]


def test_library_code_outside_cli_never_prints() -> None:
    found = []
    paths = sorted(PACKAGE.rglob("*.py"))
    assert len(paths) > 100, f"no package to check at {PACKAGE}"
    for path in paths:
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "cli":
            continue
        found += offences(path.read_text(encoding="utf-8"), str(relative))
    assert found == [], "library code writes to the terminal:\n" + "\n".join(found)


def test_the_walk_finds_each_kind_of_terminal_output() -> None:
    """The check itself can fail: each form it looks for is found, a script's main is not."""
    source = """
import sys, click, typer, rich.console
from rich.live import Live as Shown
print("x")
sys.stderr.write("x")
out = sys.stdout
click.echo("x")
typer.secho("x")
rich.console.Console()
Shown(None)
if __name__ == "__main__":
    print("a script may")
"""
    found = [line.split(": ", 1)[1] for line in offences(source, "m.py")]
    assert found == [
        "print(…)",
        "sys.stderr",
        "sys.stdout",
        "click.echo(…)",
        "typer.secho(…)",
        "rich.console.Console(…)",
        "Shown(…)",
    ]
