"""The Typer app, global options, and the one place errors become exit codes."""

from __future__ import annotations

import contextlib
import errno
import os
import select
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

from ..errors import ExitStatus, HomestackError
from .consoles import OutputClosed, console

if TYPE_CHECKING:
    from rich.console import Console

    from ..catalog import Site
    from ..context import Context
    from .events import CliSink

#: the exit status when the reader of our output went away (`homestack ls | head -1`): what
#: the shell reports for `ls` or `git` there, killed by SIGPIPE (128 + 13)
BROKEN_PIPE = 128 + int(signal.SIGPIPE)


def stdout_closed() -> bool:
    """True when stdout is a pipe (or socket) whose reader has gone: poll says POLLERR."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), 0)  # POLLERR and POLLHUP are always reported
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (OSError, ValueError):  # no real file behind stdout (captured in tests)
        return False


class _Group(TyperGroup):
    """The top-level group: a BrokenPipeError from any command becomes OutputClosed.

    Click would catch it itself and exit 1 in silence, for our stdout and for any other pipe
    alike; here a closed stdout ends the command quietly with BROKEN_PIPE, and a broken pipe
    elsewhere (a child process, the engine's socket) stays an error that is reported."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as error:
            if stdout_closed():
                raise OutputClosed from error
            raise RuntimeError(f"a pipe closed under us: {error}") from error


app = typer.Typer(
    cls=_Group,
    name="homestack",
    help="Install, validate, deploy, watch and back up a self-hosted home server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def command_group(name: str, help: str, *, invoke_without_command: bool = False) -> typer.Typer:
    """The commands under `homestack NAME …`, registered on the app: without a subcommand
    the group prints its help, unless it runs its own callback (invoke_without_command)."""
    group = typer.Typer(
        help=help,
        no_args_is_help=not invoke_without_command,
        invoke_without_command=invoke_without_command,
        rich_markup_mode=None,
    )
    app.add_typer(group, name=name)
    return group


@dataclass
class State:
    site_path: Path | None = None
    debug: bool = False
    command: str | None = None  # the command word as typed (`backup`, `status` …)
    #: the command line as typed, global options left out (`restart media`): lock notes
    #: and hints name it (Context.command)
    words: tuple[str, ...] | None = None
    _site: Site | None = field(default=None, repr=False)
    _context: Context | None = field(default=None, repr=False)

    def site(self) -> Site:
        if self._site is None:
            from ..catalog import Site

            self._site = Site.load(self.site_path)
            _recover_leftovers(self._site)
        return self._site

    def context(self, *, as_json: bool | None = None) -> Context:
        """The one Context of this command: the site, its lock, the real clock, the Rich
        renderer as event sink (cli.events.CliSink) and the command line as typed.
        `as_json`: the command prints JSON on stdout (progress then goes to stderr)."""
        from .events import CliSink

        if self._context is None:
            from ..context import Context
            from ..update import hooks

            sink = CliSink(as_json=bool(as_json))
            self._context = Context.for_site(
                self.site(), sink=sink, command=self.words, up_hooks=hooks
            )
        elif as_json is not None and isinstance(self._context.sink, CliSink):
            self._context.sink.as_json = as_json
        return self._context

    def sink(self) -> CliSink:
        """The context's renderer (to show a live view while an operation runs)."""
        from .events import CliSink

        sink = self.context().sink
        if not isinstance(sink, CliSink):  # a test's context with a sink of its own
            raise TypeError(f"the CLI's context has no CLI sink: {sink!r}")
        return sink


#: commands that recover the services they act on themselves, and report it in their result
SELF_RECOVERING = ("backup", "restore", "up")


def _recover_leftovers(site: Site) -> None:
    """A backup killed -9 left its service stopped: any command puts it back (one folder
    listing when there is nothing to do, so `ls` stays instant)."""
    from ..backup_leftovers import recover_leftovers

    if state.command in SELF_RECOVERING:
        return

    for line in recover_leftovers(site):
        console(stderr=True).print(f"recovered {line}", markup=False)


state = State()


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        sys.stdout.write(f"homestack {__version__}\n")
        raise typer.Exit


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
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version, exit."
        ),
    ] = False,
) -> None:
    state.site_path = site
    state.debug = debug
    state._site = None
    state._context = None


JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
Names = Annotated[list[str] | None, typer.Argument(help="Stacks or services (default: all).")]
WideOption = Annotated[
    bool, typer.Option("--wide", help="Every column, each cell whole on one line (may be long).")
]
StandInImage = Annotated[
    str | None,
    typer.Option("--stand-in-image", metavar="IMAGE", help="The image --stand-in runs."),
]


Result = TypeVar("Result")


def emit(result: Result, as_json: bool, render: Callable[[Result, Console], None]) -> None:
    """Print a result object as JSON (its to_data()) or through its renderer (typed for
    that result: mypy checks the two go together)."""
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
    out.print("\n".join(lines), soft_wrap=True)  # whole lines in logs, not cut at 200


INTERRUPTED = 130  # the shell's code for a command ended by SIGINT


#: the fix for the errno values a user can act on; other ones get the generic advice
_OS_FIXES = {
    errno.EACCES: "check its owner and mode (`ls -ld {quoted}`), or run homestack as the user "
    "who owns the site folder",
    errno.EPERM: "check its owner and mode (`ls -ld {quoted}`), or run homestack as the user "
    "who owns the site folder",
    errno.ENOSPC: "free space on the disk that holds it (`df -h {quoted}`), then run the "
    "command again",
    errno.EDQUOT: "free space within your disk quota, then run the command again",
    errno.EROFS: "the file system is read-only: remount it read-write or move the site",
    errno.ELOOP: "replace the symbolic-link loop at {path} with the file or folder it should be",
    errno.ENOENT: "it was there a moment earlier: check that nothing else removes it, then "
    "run the command again",
    errno.ENOTDIR: "a part of {path} is a file where a folder is expected: move it away",
    errno.EISDIR: "{path} is a folder where a file is expected: move it away",
}


_LOOP = "Symlink loop from "


def os_error(failed: OSError) -> HomestackError:
    """An OSError no caller turned into a message: the path, the system's reason, a fix."""
    from ..errors import OperationFailed

    path = failed.filename if isinstance(failed.filename, str | bytes) else None
    shown = os.fsdecode(path) if path is not None else None
    reason = failed.strerror or str(failed)
    if shown is None:
        return OperationFailed(
            f"the system refused an operation: {reason}",
            hint="run again with --debug and report the traceback if the reason is unclear",
        )
    other = os.fsdecode(failed.filename2) if failed.filename2 else None
    where = f"{shown} -> {other}" if other else shown
    fix = _OS_FIXES.get(failed.errno or 0, "check {path}, then run the command again")
    import shlex

    return OperationFailed(
        f"{where}: {reason}", hint=fix.format(path=shown, quoted=shlex.quote(shown))
    )


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
    """Run the CLI and return the exit code; used by main() and by tests.

    A reader that stops early (`homestack status | head -1`) ends the command quietly with
    BROKEN_PIPE, as `ls` and `git` end there: no message, no traceback, and nothing left
    in Python's stdout buffer to fail again ("Exception ignored …") when the process exits.
    """
    stdout, stderr = sys.stdout, sys.stderr
    closed = False
    try:
        code = _run(argv)
    except OutputClosed:
        code, closed = BROKEN_PIPE, True
    if sys.stdout is not stdout:  # Click caught EPIPE outside a command (--help) and exited 1
        sys.stdout, sys.stderr = stdout, stderr
        closed = True
    if not closed:
        try:
            sys.stdout.flush()  # output still buffered reaches the reader now, or fails here
        except BrokenPipeError:
            closed = True
        except (OSError, ValueError):  # stdout closed or replaced: nothing more to say there
            pass
    if closed:
        _drop_output()
        return BROKEN_PIPE
    return code


def _drop_output() -> None:
    """Point stdout at /dev/null, so what is left in its buffer is flushed there at exit
    (Python's advice for EPIPE) rather than failing a second time."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()


def _run(argv: list[str]) -> int:
    argv = hoist_global_options(list(argv))
    debug = "--debug" in argv or os.environ.get("HOMESTACK_DEBUG") == "1"
    from ..sitelock import command_words  # stdlib only: `ls` stays fast

    state.words = command_words(argv)  # a site lock's holder note names the command as typed
    state.command = _command_name(argv)
    try:
        return _invoke(argv, debug)
    finally:
        # run() in a long process (tests): the next call is not this one
        state.words = None
        state._context = None


def _command_name(argv: list[str]) -> str | None:
    """The command word of argv (global options come first once hoisted)."""
    words = iter(argv)
    for word in words:
        if word == "--site":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def _invoke(argv: list[str], debug: bool) -> int:
    try:
        # standalone mode: Typer prints usage errors itself and exits 2 through SystemExit
        app(args=argv, prog_name="homestack")
    except SystemExit as done:
        code = done.code
        if code == INTERRUPTED:  # Typer turns Ctrl-C inside a command into exit 130, silently
            sys.stderr.write("interrupted\n")
        return code if isinstance(code, int) else (0 if code is None else 1)
    except OutputClosed:
        raise
    except HomestackError as error:
        if debug:
            traceback.print_exc()
        render_error(error)
        return int(error.exit_status)
    except KeyboardInterrupt:  # Ctrl-C outside a command (while Typer parses)
        # commands that must tidy up (up, backup, restore) have done so on their way out
        sys.stderr.write("interrupted\n")
        return INTERRUPTED
    except OSError as failed:
        # a file or folder the code did not guard (unreadable, vanished, a full disk): the
        # system's own words and the path are the message; it is not a bug report
        if debug:
            traceback.print_exc()
        render_error(os_error(failed))
        return int(ExitStatus.FAILED)
    except Exception as unexpected:  # a bug: say so plainly
        if debug:
            traceback.print_exc()
        if isinstance(unexpected, RuntimeError) and str(unexpected).startswith(_LOOP):
            # Python 3.11's Path.resolve() on a symbolic-link loop (3.13 raises OSError)
            where = str(unexpected).removeprefix(_LOOP).strip("'\"")
            render_error(os_error(OSError(errno.ELOOP, os.strerror(errno.ELOOP), where)))
            return int(ExitStatus.FAILED)
        console(stderr=True).print(
            f"[bold red]internal error:[/] {type(unexpected).__name__}: {unexpected}\n"
            "  [bold]fix:[/] run again with --debug and report the traceback.",
            soft_wrap=True,
        )
        return int(ExitStatus.FAILED)
    return 0
