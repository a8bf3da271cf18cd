"""The Typer app, global options, and the one place errors become exit codes."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import ExitStatus, HomestackError

if TYPE_CHECKING:
    from rich.console import Console

    from ..catalog import Site

app = typer.Typer(
    name="homestack",
    help="Install, validate, deploy, watch and back up a self-hosted home server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@dataclass
class State:
    site_path: Path | None = None
    debug: bool = False
    _site: Site | None = field(default=None, repr=False)

    def site(self) -> Site:
        if self._site is None:
            from ..catalog import Site

            self._site = Site.load(self.site_path)
        return self._site


state = State()


@app.callback()
def _global(
    site: Annotated[
        Path | None,
        typer.Option(
            "--site",
            envvar="HOMESTACK_SITE",
            help="The homestack repository (default: found from the current folder upwards).",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    state.site_path = site
    state.debug = debug
    state._site = None


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 200  # pipes and logs get whole lines
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
Names = Annotated[list[str] | None, typer.Argument(help="Stacks or services (default: all).")]
StandInImage = Annotated[
    str | None,
    typer.Option("--stand-in-image", metavar="IMAGE", help="The image --stand-in runs."),
]


def emit(result: Any, as_json: bool, render: Callable[[Any, Console], None]) -> None:
    """Print a result object as JSON (its to_data()) or through its renderer."""
    if as_json:
        import json

        data = result.to_data() if hasattr(result, "to_data") else result
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        render(result, console())


def fail(status: ExitStatus) -> typer.Exit:
    return typer.Exit(int(status))


def render_error(error: HomestackError) -> None:
    out = console(stderr=True)
    from rich.markup import escape

    lines = [f"[bold red]error:[/] {escape(error.message)}"]
    where = error.where()
    if where and where not in error.message:
        lines.append(f"  [dim]file:[/] {escape(where)}")
    if error.service:
        lines.append(f"  [dim]service:[/] {escape(error.service)}")
    if error.hint:
        lines.append(f"  [bold]fix:[/] {escape(error.hint)}")
    out.print("\n".join(lines))


INTERRUPTED = 130  # the shell's code for a command ended by SIGINT


def hoist_global_options(argv: list[str]) -> list[str]:
    """`homestack status --site X --debug` means `homestack --site X --debug status`: the
    global options are moved in front of the command wherever they were typed (not after
    `--`), since Click only takes them there."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(argv):
        word = argv[index]
        if word == "--":
            rest += argv[index:]
            break
        if word == "--debug" or word.startswith("--site="):
            front.append(word)
        elif word == "--site" and index + 1 < len(argv):
            front += [word, argv[index + 1]]
            index += 1
        else:
            rest.append(word)
        index += 1
    return front + rest


def run(argv: list[str]) -> int:
    """Run the CLI and return the exit code; used by main() and by tests."""
    argv = hoist_global_options(list(argv))
    debug = "--debug" in argv or os.environ.get("HOMESTACK_DEBUG") == "1"
    try:
        # standalone mode: Typer prints usage errors itself and exits 2 through SystemExit
        app(args=argv, prog_name="homestack")
    except SystemExit as done:
        code = done.code
        if code == INTERRUPTED:  # Typer turns Ctrl-C inside a command into exit 130, silently
            sys.stderr.write("interrupted\n")
        return code if isinstance(code, int) else (0 if code is None else 1)
    except HomestackError as error:
        if debug:
            traceback.print_exc()
        render_error(error)
        return int(error.exit_status)
    except KeyboardInterrupt:  # Ctrl-C outside a command (while Typer parses)
        # commands that must tidy up (up, backup, restore) have done so on their way out
        sys.stderr.write("interrupted\n")
        return INTERRUPTED
    except Exception as unexpected:  # a bug: say so plainly
        if debug:
            traceback.print_exc()
        console(stderr=True).print(
            f"[bold red]internal error:[/] {type(unexpected).__name__}: {unexpected}\n"
            "  [bold]fix:[/] run again with --debug and report the traceback."
        )
        return int(ExitStatus.FAILED)
    return 0
