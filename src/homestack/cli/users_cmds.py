"""`homestack users add|ls|passwd|rm|groups|codes`: the household's sign-on accounts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import BadInput
from .app import JsonOption, command_group, emit, state
from .consoles import console

if TYPE_CHECKING:
    from rich.console import Console

    from ..people import Listing

users_app = command_group(
    "users", "Sign-on accounts (Authelia's users file): groups admins and users."
)

Name = Annotated[str, typer.Argument(help="The user name (what people type to sign in).")]
PasswordFile = Annotated[
    Path | None,
    typer.Option(
        "--password-file",
        metavar="FILE",
        help="Read the password from FILE ('-': standard input); without it, ask twice on "
        "the terminal. Never give a password as an argument: it would stay in the shell "
        "history and the process list.",
        show_default=False,
    ),
]


def read_password(source: Path | None, *, stdin_is_tty: bool | None = None) -> str:
    """The new password from a file, standard input, or a hidden prompt asked twice."""
    if source is not None:
        if str(source) == "-":
            return sys.stdin.read()
        try:
            return source.read_text(encoding="utf-8")
        except OSError as error:
            raise BadInput(
                f"cannot read the password file {source}: {error.strerror}",
                "Give a readable file, or leave --password-file out to be asked.",
                file=source,
            ) from None
    tty = sys.stdin.isatty() if stdin_is_tty is None else stdin_is_tty
    if not tty:
        raise BadInput(
            "no terminal to ask the password on",
            "Use --password-file FILE (or --password-file - to read standard input).",
        )
    import getpass

    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise BadInput("the two passwords differ", "Run the command again.")
    return first


def _site_facts() -> tuple[Path, str]:
    from ..domain import site_domain

    site = state.site()
    return site.data_root, site_domain(site.root_env)


@users_app.command("ls")
def ls_command(as_json: JsonOption = False) -> None:
    """List users: name, groups, display name, email, disabled. Never a hash."""
    from ..people import listing

    data_root, _ = _site_facts()
    emit(listing(data_root), as_json, _render_listing)


def _render_listing(result: Listing, out: Console) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("USER", "GROUPS", "NAME", "EMAIL", ""):
        table.add_column(column)
    for person in result.people:
        table.add_row(
            escape(person.name),
            ",".join(person.groups) or "[dim]-[/]",
            escape(person.displayname),
            escape(person.email),
            "[yellow]disabled[/]" if person.disabled else "",
        )
    out.print(table)


@users_app.command("add")
def add_command(
    name: Name,
    group: Annotated[
        list[str] | None,
        typer.Option(
            "--group",
            "-g",
            help="admins or users (repeat for both; default: users).",
            show_default=False,
        ),
    ] = None,
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="Shown in the portal.")
    ] = None,
    email: Annotated[
        str | None, typer.Option("--email", help="Default: NAME@DOMAIN.", show_default=False)
    ] = None,
    password_file: PasswordFile = None,
) -> None:
    """Add a user (argon2id hash; the password is asked for or read from a file)."""
    from ..people import add, check_groups, check_name

    data_root, domain = _site_facts()
    check_name(name)
    groups = check_groups(group or ["users"])
    password = read_password(password_file)
    person = add(
        data_root,
        name,
        password,
        groups=groups,
        displayname=display_name,
        email=email,
        domain=domain,
    )
    out = console()
    out.print(f"added {person.name} ({', '.join(person.groups)})")
    if "admins" in person.groups:
        out.print(
            "[dim]admins sign in with two factors: at the first sign-in Authelia asks to "
            "register a one-time-password app and mails a code; `homestack users codes` "
            "shows it.[/]"
        )


@users_app.command("passwd")
def passwd_command(name: Name, password_file: PasswordFile = None) -> None:
    """Set a user's password (asked twice, or read from --password-file)."""
    from ..people import Users, set_password

    data_root, _ = _site_facts()
    Users(data_root).get(name)  # an unknown name fails before the prompt
    set_password(data_root, name, read_password(password_file))
    console().print(f"password of {name} changed")


@users_app.command("rm")
def rm_command(name: Name) -> None:
    """Remove a user (never the last admin)."""
    from ..people import remove

    data_root, _ = _site_facts()
    remove(data_root, name)
    console().print(f"removed {name}")


@users_app.command("groups")
def groups_command(
    name: Name,
    groups: Annotated[list[str], typer.Argument(help="admins and/or users.", metavar="GROUP…")],
) -> None:
    """Set a user's groups: admins (admin tools, two factors), users (household apps)."""
    from ..people import set_groups

    data_root, _ = _site_facts()
    person = set_groups(data_root, name, groups)
    console().print(f"{person.name}: {', '.join(person.groups)}")


@users_app.command("codes")
def codes_command() -> None:
    """Show the last message Authelia's file notifier wrote: the one-time code a user needs
    to register a TOTP app (there is no mail server; the admin passes the code on)."""
    from ..people import notification_path, notifications

    data_root, _ = _site_facts()
    text = notifications(data_root)
    if text is None:
        console().print(
            f"no message yet ({notification_path(data_root)}): a code appears when a user "
            "asks to register a one-time-password app in the sign-on portal"
        )
        return
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
