"""Doctor's LAN checks: the door's address, the names through the host's resolver, and the
expiry of every certificate Caddy holds."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..catalog import Site
from ..errors import HomestackError
from .checks import Check, fail, ok, warn

if TYPE_CHECKING:
    from ..lan import LanSummary


def check_lan(site: Site, now: datetime | None = None) -> list[Check]:
    from .. import lan

    try:
        summary = lan.summary(site)
    except HomestackError as exc:
        return [fail("lan", "door", exc.message, exc.hint)]
    checks = [_door(summary), _names(site, summary)]
    checks += _certificates(site, now or datetime.now(UTC))
    return checks


def _door(summary: LanSummary) -> Check:
    from ..door import is_lan

    address = summary.lan_address
    if is_lan(address):
        return ok("lan", "door", f"Caddy publishes 80/443 on {address} (LAN_ADDRESS)")
    return warn(
        "lan",
        "door",
        "the proxy listens on loopback only: no other device can reach the web UIs",
        "Set LAN_ADDRESS=auto (or this machine's LAN address) in .env, then "
        "`homestack up essentials`.",
    )


def _names(site: Site, summary: LanSummary) -> Check:
    from ..lan import resolve

    name = f"start.{summary.domain}"
    if os.environ.get("HOMESTACK_DOCTOR_DNS") == "off":  # the test suite: loopback only
        return ok("lan", "names", f"{name}: not asked (HOMESTACK_DOCTOR_DNS=off)")
    found = resolve(name)
    address = summary.lan_address
    if address in found:
        return ok("lan", "names", f"{name} resolves to the door ({address}) from this host")
    what = (
        f"resolves to {', '.join(found)}, not the door ({address})"
        if found
        else ("does not resolve")
    )
    detail = f"{name} {what} through this host's resolver"
    choice = summary.dns
    if choice is None:
        fix = (
            "Choose how devices find the names and set LAN_DNS in .env: blocky (enable "
            f"Blocky; router's DHCP DNS → {address}), hosts (`homestack urls` prints the "
            f"lines for each device) or domain (DNS of *.{summary.domain} → {address}). "
            f"Without DNS, devices start at https://{address}/."
        )
    elif choice == "blocky" and not any(s.id == "blocky" for s in site.services(enabled_only=True)):
        fix = "LAN_DNS=blocky, but Blocky is off: `homestack enable blocky && homestack up`."
    elif choice == "blocky":
        fix = (
            f"Blocky answers *.{summary.domain} with {address}: point the router's DHCP DNS "
            f"(and this host's resolver) at {address}."
        )
    elif choice == "hosts":
        fix = (
            f"Add the lines of `homestack urls` to this host's /etc/hosts too (each device "
            f"needs them; doctor asks from here): {address} {name} …"
        )
    else:
        fix = f"Point the DNS records of {summary.domain} and *.{summary.domain} at {address}."
    return warn("lan", "names", detail, fix)


def _certificates(site: Site, now: datetime) -> list[Check]:
    from ..lan import certificates

    found = certificates(site.data_root)
    if not found:
        return [ok("lan", "certificates", "none yet: Caddy makes its CA and certificates at start")]
    checks = []
    for cert in found:
        left = cert.not_after - now
        when = cert.not_after.strftime("%Y-%m-%d %H:%M UTC")
        if left.total_seconds() <= 0:
            checks.append(
                fail(
                    "lan",
                    f"certificate {cert.name}",
                    f"{cert.name} expired on {when}",
                    "Caddy renews its certificates while it runs: `homestack status caddy`, "
                    "`homestack logs caddy --tail 50`.",
                )
            )
        else:
            days = left.days
            span = f"{days} days" if days else f"{int(left.total_seconds() // 3600)} hours"
            checks.append(
                ok("lan", f"certificate {cert.name}", f"{cert.name} expires {when} (in {span})")
            )
    return checks
