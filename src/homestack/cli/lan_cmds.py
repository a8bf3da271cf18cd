"""LAN access: `homestack urls`, `homestack ca`, `homestack secrets show`."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import BadInput, OperationFailed
from ..serial import Serialised
from .app import JsonOption, app, emit, state
from .consoles import console
from .install_cmds import secrets_app

if TYPE_CHECKING:
    from rich.console import Console

#: secrets a person types somewhere (a sign-in, a share); the rest only services read
SHOWABLE = ("authelia_admin_password", "samba_password")

TRUST_STEPS = {
    "Android": "open {ca_url} in the browser (or copy homestack-root-ca.crt to the phone), "
    "then Settings → Security → Encryption & credentials → Install a certificate → "
    "CA certificate.",
    "iOS / iPadOS": "open {ca_url} in Safari → Allow, then Settings → Profile Downloaded → "
    "Install; then Settings → General → About → Certificate Trust Settings → turn the "
    "homestack CA on.",
    "macOS": "double-click homestack-root-ca.crt (Keychain Access, System keychain), open it, "
    "Trust → When using this certificate: Always Trust.",
    "Windows": "double-click homestack-root-ca.der → Install Certificate → Local Machine → "
    "Place all certificates in: Trusted Root Certification Authorities.",
    "Linux": "sudo cp homestack-root-ca.crt /usr/local/share/ca-certificates/ && "
    "sudo update-ca-certificates (Fedora: /etc/pki/ca-trust/source/anchors/ and "
    "update-ca-trust).",
    "Firefox (own store)": "Settings → Privacy & Security → Certificates → View Certificates → "
    "Authorities → Import homestack-root-ca.crt → trust it to identify websites.",
}


def print_summary(summary: Any, out: Console, *, qr: bool = False) -> None:
    """The first-run summary and `homestack urls`: where to start, every UI, who signs in,
    how to trust the CA, what is left for the LAN. Never a password."""
    from rich.markup import escape

    if summary.start_url:
        out.print(f"[bold]Start:[/] {escape(summary.start_url)}")
    if summary.door_url:
        out.print(
            f"[bold]From any device, no DNS needed:[/] {escape(summary.door_url)} "
            f"[dim](certificate: {escape(summary.ca_url or '')})[/]"
        )
    width = max((len(ui.title) for ui in summary.uis), default=0)
    url_width = max((len(ui.url) for ui in summary.uis), default=0)
    for ui in summary.uis:
        title, url = escape(ui.title.ljust(width)), escape(ui.url.ljust(url_width))
        out.print(f"  {title}  {url}  [dim]{ui.access}[/]")
    out.print(
        f"[bold]Sign in:[/] {escape(summary.admin_user)}; its password: "
        f"`{escape(summary.admin_password)}` (more people: `homestack users add NAME`)"
    )
    if summary.ca_fingerprint:
        out.print(f"[bold]Trust the CA:[/] `homestack ca` (SHA-256 {summary.ca_fingerprint[:23]}…)")
    else:
        out.print("[bold]Trust the CA:[/] `homestack ca` once Caddy has started")
    for item in summary.todo:
        out.print(f"[yellow]to do:[/] {escape(item)}", soft_wrap=True)
    if qr and summary.start_url is not None:
        print_qr(summary.door_url or summary.start_url)


def print_qr(url: str) -> None:
    import io

    import segno

    code = segno.make(url, error="m")
    buffer = io.StringIO()
    code.terminal(out=buffer, compact=True, border=2)
    sys.stdout.write(buffer.getvalue())
    sys.stdout.write(f"  {url}\n")


@app.command("urls")
def urls_command(
    as_json: JsonOption = False,
    qr: Annotated[
        bool, typer.Option("--qr", help="Also print the start URL as a QR code (for a phone).")
    ] = False,
) -> None:
    """Where to open everything from a phone or laptop: the start URL, every UI and who may
    open it, the admin user, the CA, and what is left for the LAN (DNS choice)."""
    from ..lan import summary

    site = state.site()
    site.require_valid()
    result = summary(site)
    if as_json:
        emit(result, True, print_summary)
        return
    print_summary(result, console(), qr=qr)
    if result.dns == "hosts" or result.dns is None:
        out = console()
        out.print("[dim]hosts-file lines for a device without DNS:[/]")
        for line in result.hosts_lines:
            out.print(f"  {line}")


@app.command("ca")
def ca_command(
    out_dir: Annotated[
        Path,
        typer.Option("--out", metavar="DIR", help="Where to write the PEM and DER copies."),
    ] = Path(),
    as_json: JsonOption = False,
) -> None:
    """The local root certificate: its fingerprint, PEM and DER copies, and how to trust it
    on Android, iOS, macOS, Windows, Linux and Firefox."""
    from ..door import CA_PATH, is_lan, url_host
    from ..fsutil import write_atomic
    from ..lan import ca_root, pem_to_der, read_certificate, subject_cn
    from ..people import read_nofollow

    site = state.site()
    path = ca_root(site.data_root)
    cert = read_certificate(path, "root")
    text = read_nofollow(path)
    if cert is None or text is None:
        raise OperationFailed(
            f"no local CA yet ({path})",
            "Caddy creates it when it first starts: `homestack up essentials`, then run "
            "`homestack ca` again.",
        )
    der = pem_to_der(text)
    out_dir.mkdir(parents=True, exist_ok=True)
    pem_file, der_file = out_dir / "homestack-root-ca.crt", out_dir / "homestack-root-ca.der"
    write_atomic(pem_file, text, mode=0o644)
    write_atomic(der_file, der, mode=0o644)
    from ..lan import summary

    address = summary(site).lan_address
    ca_url = f"http://{url_host(address)}{CA_PATH}" if is_lan(address) else None
    result = CaCertificate(
        subject_cn(der),
        cert.fingerprint,
        cert.not_after.isoformat(),
        str(pem_file),
        str(der_file),
        ca_url,
        {
            device: step.format(ca_url=ca_url or "the .crt file")
            for device, step in TRUST_STEPS.items()
        },
    )
    emit(result, as_json, _render_ca)


@dataclass(frozen=True)
class CaCertificate(Serialised):
    """`homestack ca`: the local root certificate, where its copies are, how to trust it."""

    name: str  # the subject's common name ("" when it has none)
    fingerprint_sha256: str
    not_after: str
    pem: str
    der: str
    url: str | None  # where devices on the LAN download it (None: the door is not on the LAN)
    trust: dict[str, str]  # device → how to trust it there


def _render_ca(ca: CaCertificate, out: Console) -> None:
    from rich.markup import escape

    out.print(f"[bold]{escape(ca.name or 'local CA')}[/] (valid until {ca.not_after})")
    out.print(f"SHA-256 fingerprint: {ca.fingerprint_sha256}")
    out.print(f"written: {escape(ca.pem)} (PEM), {escape(ca.der)} (DER)")
    if ca.url:
        out.print(f"devices on the LAN download it from {ca.url} (plain HTTP, it is public)")
    out.print("Compare the fingerprint on the device before you trust it. Then:")
    for device, step in ca.trust.items():
        out.print(f"  [bold]{device}[/]: {escape(step)}", soft_wrap=True)


@secrets_app.command("show")
def secrets_show_command(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(SHOWABLE)}.")],
) -> None:
    """Print a secret a person needs to type (the admin's sign-on password). Only as root and
    only to a terminal: never into a pipe, a log or --json."""
    from ..lan import ADMIN_SECRET
    from ..people import read_nofollow

    if name not in SHOWABLE:
        raise BadInput(
            f"{name!r} is not a secret a person types",
            f"`homestack secrets show` prints only {', '.join(SHOWABLE)}; services read "
            "the others from their files.",
        )
    if os.geteuid() != 0:
        raise BadInput(
            "secrets are shown to root only",
            f"Run `sudo homestack secrets show {name}`.",
        )
    if not sys.stdout.isatty():
        raise BadInput(
            "secrets are shown on a terminal only, never into a pipe or a file",
            f"Run `sudo homestack secrets show {name}` in a terminal.",
        )
    path = state.site().secrets_dir / name
    value = read_nofollow(path)
    if value is None:
        hint = (
            "`homestack generate` makes it with the first users file."
            if name == ADMIN_SECRET
            else "`homestack install secrets` makes it."
        )
        raise OperationFailed(f"{path} does not exist", hint)
    sys.stdout.write(value.strip() + "\n")


def first_run_summary(outcome: Any, site: Any) -> None:
    """After an `up` (or `install all`) that created a container and ended well: where to
    open everything. Not with --json, never a password (only how to read it)."""
    from ..errors import HomestackError
    from ..lan import summary

    if outcome is None or not outcome.ok:
        return
    if not any(run.action == "create" for run in outcome.services):
        return
    try:
        result = summary(site)
    except HomestackError:  # a bad setting was reported where it mattered
        return
    out = console()
    out.print("")
    if outcome.stand_in is not None:
        out.print(
            "[bold]After a real `up` (stand-ins publish no ports), open it from any device:[/]"
        )
    else:
        out.print("[bold]Open it from any device in the house[/]")
    print_summary(result, out)
    out.print("[dim]`homestack urls` shows this again (`--qr` for a phone).[/]")
