"""The dashboard commands: `serve` and `install dashboard`.

The web stack (FastAPI, uvicorn, Jinja2) is imported inside `serve` only: `ls` and `plan`
never load it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .app import JsonOption, app, emit, state
from .consoles import console
from .install_cmds import DryRun, install_app

if TYPE_CHECKING:
    from rich.console import Console

    from ..web.unit import DashboardInstall


@app.command("serve")
def serve_command(
    host: Annotated[
        str | None,
        typer.Option(
            "--host", help="Address to listen on (default: DASHBOARD_ADDRESS, else 127.0.0.1)."
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port", help="TCP port (default: DASHBOARD_PORT, else 8765).", min=1, max=65535
        ),
    ] = None,
    trusted_proxy: Annotated[
        str | None,
        typer.Option(
            "--trusted-proxy",
            metavar="ADDRESS",
            help="The proxy's address: Remote-User/Remote-Groups are believed only from it "
            "(default: DASHBOARD_TRUSTED_PROXY; none: every request logs in).",
        ),
    ] = None,
    new_password: Annotated[
        bool,
        typer.Option(
            "--new-password",
            help="Make a new dashboard password (into SECRETS_DIR/homestack_dashboard_password, "
            "never printed) and exit.",
        ),
    ] = False,
) -> None:
    """The web dashboard: live status, logs, actions, catalog, backups, doctor, host.

    Listens on loopback by default; reach it through the generated Caddy route
    (home.DOMAIN, behind Authelia, admins) or an SSH tunnel, where it asks for its own
    password. Every action takes the site lock and is recorded in DATA/.homestack/audit.log.
    """
    from ..web.auth import has_password, password_file
    from ..web.auth import new_password as make_password
    from ..web.unit import listen_settings

    site = state.site()
    if new_password or not has_password(site):
        make_password(site)  # never printed: under systemd, stderr is the journal
        err = console(stderr=True)
        secret_at = password_file(site)
        err.print(f"dashboard password: new, not shown; read it as root or the site's owner "
                  f"with: cat {secret_at}", soft_wrap=True, markup=False)  # fmt: skip
        if new_password:
            return
    address, default_port, proxy = listen_settings(site)
    import uvicorn

    from ..web.app import Settings, create_app

    settings = Settings(site.root, trusted_proxy=trusted_proxy or proxy)
    application = create_app(settings)
    where = f"http://{host or address}:{port or default_port}/"
    err = console(stderr=True)
    err.print(f"homestack dashboard on {where}", soft_wrap=True, markup=False)
    if not (host or address).startswith("127.") and (host or address) != "::1":
        err.print(
            f"[yellow]note:[/] {host or address} is not loopback: let only the proxy reach it "
            "(a firewall rule); everyone else is asked for the dashboard's password",
            soft_wrap=True,
        )
    uvicorn.run(
        application,
        host=host or address,
        port=port or default_port,
        log_level="warning",
        proxy_headers=False,  # the peer address is the TCP one: X-Forwarded-For is not believed
        access_log=False,
        timeout_graceful_shutdown=3,  # open event streams never end by themselves
    )


@install_app.command("dashboard")
def install_dashboard_command(
    target: Annotated[
        Path | None,
        typer.Option("--target", metavar="FOLDER", help="Write the unit here, do not activate it."),
    ] = None,
    dry_run: DryRun = False,
    as_json: JsonOption = False,
) -> None:
    """Run the dashboard at boot: a systemd unit (homestack-dashboard.service), enabled."""
    from ..web.unit import install_dashboard

    result = install_dashboard(state.site(), target=target, dry_run=dry_run)
    emit(result, as_json, _render_install)


def _render_install(result: DashboardInstall, out: Console) -> None:
    if result.skipped:
        out.print(f"dashboard: {result.skipped}", markup=False)
        return
    for path in result.files:
        verb = "wrote" if result.written else "unchanged" if result.up_to_date else "would write"
        out.print(f"dashboard: {verb} {path}", markup=False)
    for line in result.activated:
        out.print(f"  ran {line}", markup=False)
    sys.stdout.flush()
