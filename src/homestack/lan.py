"""What a household needs to reach the server from its devices: the door, the names, the
certificate authority, the accounts. One summary feeds `homestack urls`, the first-run
summary after `install all`/`up`, and doctor.

DNS is a choice made once (`LAN_DNS` in the root .env):
- `blocky`: the catalog's Blocky answers `*.DOMAIN` with the door's address; point the
  router's DHCP DNS at the door's address.
- `hosts`: each device gets the hosts-file lines `homestack urls` prints.
- `domain`: DOMAIN is a real domain whose DNS records point at the door's address.
Whatever the choice, `https://LAN_ADDRESS/` needs no DNS: it serves the door page (links,
the CA, the hosts lines) and `http://LAN_ADDRESS/ca.crt` the root certificate.
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import door
from .serial import Serialised, entry

DNS_CHOICES = ("blocky", "hosts", "domain")
ADMIN_SECRET = "authelia_admin_password"
#: where the caddy service keeps its local CA and certificates (its /data is DATA/caddy)
CA_ROOT = Path("caddy/caddy/pki/authorities/local/root.crt")
CERTS = Path("caddy/caddy/certificates")
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----\s*(.*?)\s*-----END CERTIFICATE-----", re.DOTALL)


# ---- certificates --------------------------------------------------------------------
def pem_to_der(pem: str) -> bytes:
    found = _PEM.search(pem)
    if found is None:
        raise ValueError("no PEM certificate")
    return base64.b64decode("".join(found.group(1).split()))


def fingerprint(der: bytes) -> str:
    """SHA-256 fingerprint as devices show it: AB:CD:…"""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def _tlv(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at `offset`."""
    tag = data[offset]
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    return tag, start, start + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    while start < end:
        tag, body, stop = _tlv(data, start)
        out.append((tag, body, stop))
        start = stop
    return out


def _der_time(tag: int, raw: bytes) -> datetime:
    text = raw.decode("ascii").rstrip("Z")
    if tag == 0x17:  # UTCTime: YYMMDDHHMMSS
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    return datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def validity(der: bytes) -> tuple[datetime, datetime]:
    """notBefore, notAfter of an X.509 certificate (enough DER for that, nothing more)."""
    _, cert_start, cert_end = _tlv(der, 0)
    _, tbs_start, tbs_end = _children(der, cert_start, cert_end)[0]
    fields = _children(der, tbs_start, tbs_end)
    if fields[0][0] == 0xA0:  # [0] version
        fields = fields[1:]
    _, start, end = fields[3]  # serial, signature algorithm, issuer, validity
    (tag1, s1, e1), (tag2, s2, e2) = _children(der, start, end)
    return _der_time(tag1, der[s1:e1]), _der_time(tag2, der[s2:e2])


def subject_cn(der: bytes) -> str:
    """The subject's common name, or '' (for the CA's name in `homestack ca`)."""
    _, cert_start, cert_end = _tlv(der, 0)
    _, tbs_start, tbs_end = _children(der, cert_start, cert_end)[0]
    fields = _children(der, tbs_start, tbs_end)
    if fields[0][0] == 0xA0:
        fields = fields[1:]
    _, start, end = fields[4]  # serial, signature algorithm, issuer, validity, subject
    cn = bytes.fromhex("550403")  # 2.5.4.3
    for _, rdn_start, rdn_end in _children(der, start, end):
        for _, atv_start, atv_end in _children(der, rdn_start, rdn_end):
            (_, os_, oe), (_, vs, ve) = _children(der, atv_start, atv_end)[:2]
            if der[os_:oe] == cn:
                return der[vs:ve].decode("utf-8", errors="replace")
    return ""


@dataclass(frozen=True)
class Certificate:
    name: str
    path: str
    not_after: datetime
    fingerprint: str

    def days_left(self, now: datetime | None = None) -> int:
        return (self.not_after - (now or datetime.now(UTC))).days

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "not_after": self.not_after.isoformat(),
            "days_left": self.days_left(),
            "fingerprint": self.fingerprint,
        }


def read_certificate(path: Path, name: str | None = None) -> Certificate | None:
    from .people import read_nofollow  # DATA/caddy belongs to the container: no links

    text = read_nofollow(path)
    if text is None:
        return None
    der = pem_to_der(text)
    return Certificate(name or path.stem, str(path), validity(der)[1], fingerprint(der))


def ca_root(data_root: Path) -> Path:
    return data_root / CA_ROOT


def certificates(data_root: Path) -> list[Certificate]:
    """The local CA's root and every certificate Caddy holds, with its expiry."""
    found: list[Certificate] = []
    root = read_certificate(ca_root(data_root), "local CA (root)")
    if root:
        found.append(root)
    base = data_root / CERTS
    if base.is_dir() and not base.is_symlink():
        for crt in sorted(base.glob("*/*/*.crt")):
            if crt.is_symlink():
                continue
            cert = read_certificate(crt, crt.stem)
            if cert:
                found.append(cert)
    return found


# ---- the summary ---------------------------------------------------------------------
@dataclass(frozen=True)
class WebUI(Serialised):
    service: str
    title: str
    url: str
    access: str


@dataclass
class LanSummary(Serialised):
    domain: str
    lan_address: str
    # LAN_ADDRESS as written: '', 'auto' or an address
    configured: str = field(metadata=entry(key="lan_address_setting"))
    door_url: str | None  # https://LAN_ADDRESS/ (None while the door is loopback only)
    ca_url: str | None
    start_url: str | None
    uis: list[WebUI] = field(default_factory=list)
    admin_user: str = "admin"
    # how to read it, never the password itself
    admin_password: str = f"sudo homestack secrets show {ADMIN_SECRET}"
    ca_fingerprint: str | None = None
    dns: str | None = None  # LAN_DNS, when chosen
    hosts_lines: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)


def dns_choice(env: Mapping[str, str]) -> str | None:
    value = (env.get("LAN_DNS") or "").strip().lower()
    return value or None


def summary(site: Any) -> LanSummary:
    """The summary for `site` (a catalog.Site), from its files only: no engine, no network."""
    from .errors import BadInput
    from .generate.view import CatalogView

    view = CatalogView.of(site)
    env = site.root_env
    address = view.lan_address
    host = door.url_host(address)
    reachable = door.is_lan(address)
    routes = view.routes()
    start = next((r.url for r in routes if r.service == "homepage"), None)
    uis = [
        WebUI(r.service, r.title, r.url, r.access)
        for r in sorted(routes, key=lambda r: r.title.lower())
    ]
    ca = read_certificate(ca_root(site.data_root))
    choice = dns_choice(env)
    if choice is not None and choice not in DNS_CHOICES:
        raise BadInput(
            f"LAN_DNS={choice!r} is not one of {', '.join(DNS_CHOICES)}",
            "Set LAN_DNS in .env to blocky (the catalog's DNS, router points at it), hosts "
            "(a line per name on each device) or domain (a real domain's DNS).",
        )
    result = LanSummary(
        domain=view.domain,
        lan_address=address,
        configured=door.configured(env),
        door_url=f"https://{host}/" if reachable and view.lan else None,
        ca_url=f"http://{host}{door.CA_PATH}" if reachable and view.lan else None,
        start_url=start,
        uis=uis,
        admin_user=view.env_for("authelia").get("AUTHELIA_ADMIN_USER") or "admin",
        ca_fingerprint=ca.fingerprint if ca else None,
        dns=choice,
        hosts_lines=[f"{address} {r.host}" for r in sorted(routes, key=lambda r: r.host)],
    )
    result.todo = _todo(result, view, reachable)
    return result


def _todo(result: LanSummary, view: Any, reachable: bool) -> list[str]:
    todo = []
    if not reachable:
        todo.append(
            "The door is on loopback only: set LAN_ADDRESS=auto (or this machine's LAN "
            "address) in .env, then `homestack up essentials`."
        )
    if result.dns is None:
        todo.append(
            "Choose how devices find the names (LAN_DNS in .env): blocky (enable Blocky, "
            f"point the router's DHCP DNS at {result.lan_address}), hosts (add the lines of "
            f"`homestack urls` to each device) or domain (DNS of {result.domain} points at "
            f"{result.lan_address}). Until then, start at {result.door_url or 'the door'}."
        )
    elif result.dns == "blocky" and not view.is_on("blocky"):
        todo.append(
            "LAN_DNS=blocky but Blocky is off: `homestack enable blocky && homestack up "
            f"essentials`, then set the router's DHCP DNS server to {result.lan_address}."
        )
    if view.lan and result.ca_fingerprint is None:
        todo.append(
            "The local CA appears once Caddy has started; then `homestack ca` shows how to "
            "trust it on each device."
        )
    return todo


# ---- name resolution (doctor) --------------------------------------------------------
def resolve(name: str) -> list[str]:
    """The addresses the host's resolver gives for `name` ([] when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(name, 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def door_proposal(env: Mapping[str, str], source: Path | None = None) -> str:
    """What `install all` says about the door: the address found and where it comes from."""
    value = door.configured(env)
    found = door.detect()
    if not value:
        seen = f" (this machine's LAN address looks like {found})" if found else ""
        return (
            f"LAN_ADDRESS is empty: the proxy stays on loopback{seen}; set LAN_ADDRESS=auto "
            "in .env to open the door to the LAN"
        )
    address = door.lan_address(env, source=source)
    if value.lower() == door.AUTO:
        if found is None:
            return (
                "LAN_ADDRESS=auto found no default route: the proxy stays on loopback; set "
                "LAN_ADDRESS in .env to this machine's LAN address"
            )
        return (
            f"Caddy publishes 80/443 on {address} (LAN_ADDRESS=auto: the default route's "
            f"interface {door.default_interface()}); write that address into .env to pin it"
        )
    note = f"; the default route's address is {found}" if found and found != address else ""
    return f"Caddy publishes 80/443 on {address} (LAN_ADDRESS in .env){note}"
