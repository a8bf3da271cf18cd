"""`homestack generate`: write the config files the enabled services mount."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from .app import JsonOption, app, emit, state

if TYPE_CHECKING:
    from rich.console import Console

    from ..generate.run import GenerateReport

STYLES = {"create": "green", "update": "yellow", "unchanged": "dim", "kept": "dim"}


@app.command("generate")
def generate_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be written; write nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Generate proxy routes, sign-on, monitoring and start-page configs from the catalog."""
    from ..generate import generate_all

    site = state.site()
    site.require_valid()
    emit(generate_all(site, dry_run=dry_run), as_json, _render)


def _render(result: GenerateReport, out: Console) -> None:
    from rich.markup import escape

    for change in result.files:
        style = STYLES.get(change.action, "")
        out.print(f"[{style}]{change.action:<9}[/] {change.service:<14} {escape(change.path)}")
    changed = sum(1 for f in result.files if f.action in ("create", "update"))
    verb = "would change" if result.dry_run else "changed"
    out.print(f"[dim]{changed} of {len(result.files)} files {verb}[/]")
