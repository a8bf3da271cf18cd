"""Authelia: configuration.yml and the first users_database.yml.

The first user's password is a homestack secret (`secrets/authelia_admin_password`, made once,
0600, never printed); the users file holds only its hash, in the PBKDF2-SHA512 form Authelia
reads (`$pbkdf2-sha512$iterations$salt$key`, salt and key in passlib's "adapted base64").
The users file is written once: people add users to it afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import secrets as random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..deploy.secrets import ALPHABETS
from ..modes import PRIVATE_MODE
from .files import GeneratedFile
from .view import CatalogView, Route, dump_yaml

ITERATIONS = 310_000  # Authelia's own default for pbkdf2-sha512
ADMIN_SECRET = "authelia_admin_password"


def _ab64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=").replace("+", ".")


def _ab64_decode(text: str) -> bytes:
    text = text.replace(".", "+")
    return base64.b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else random.token_bytes(16)
    key = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, ITERATIONS)
    return f"$pbkdf2-sha512${ITERATIONS}${_ab64(salt)}${_ab64(key)}"


def verify_password(password: str, digest: str) -> bool:
    _, scheme, rounds, salt, key = digest.split("$")
    if scheme != "pbkdf2-sha512":
        return False
    got = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), _ab64_decode(salt), int(rounds))
    return random.compare_digest(got, _ab64_decode(key))


def admin_password(secrets_dir: Path, name: str = ADMIN_SECRET) -> str | None:
    """The first user's password, when its secret exists."""
    try:
        return (secrets_dir / name).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None


def first_password(
    service: str, secrets_dir: Path, name: str, *, dry_run: bool
) -> tuple[str | None, list[GeneratedFile]]:
    """The first user's password of `service` (its secret `name`), and the secret file to
    create with the file that uses it when there is none yet: made in memory only
    (generate_all creates it with that file, never replacing one, and removes it again if
    the run fails). On a dry run without the secret: None (no password is made)."""
    password = admin_password(secrets_dir, name)
    if password is not None:
        return password, []
    if not dry_run:
        password = "".join(random.choice(ALPHABETS["alnum"]) for _ in range(24))
    secret = GeneratedFile(service, secrets_dir / name, password or "", PRIVATE_MODE, secret=True)
    return password, [secret]


def _routes(view: CatalogView) -> list[Route]:
    """Every route Caddy serves: the catalog's, and the dashboard's (issue 18) when on."""
    from .dashboard import route as dashboard_route

    dashboard = dashboard_route(view)
    return [*view.routes(), *([dashboard] if dashboard else [])]


def configuration(view: CatalogView) -> dict[str, Any]:
    domain = view.domain
    portal = view.url(f"auth.{domain}")
    cookie = {"domain": domain, "authelia_url": portal}
    if view.is_on("homepage"):  # Authelia refuses a default equal to its own URL
        cookie["default_redirection_url"] = view.url(f"start.{domain}")
    return {
        "theme": "auto",
        "server": {"address": "tcp://:9091/"},
        "log": {"level": view.env_for("authelia").get("AUTHELIA_LOG_LEVEL") or "info"},
        "totp": {"issuer": domain},
        "authentication_backend": {
            "password_reset": {"disable": True},  # no mail server: an admin edits the file
            "file": {"path": "/config/users_database.yml", "watch": True},
        },
        "access_control": {"default_policy": "deny", "rules": access_rules(_routes(view))},
        "session": {
            # the secret comes from AUTHELIA_SESSION_SECRET_FILE (a Docker secret)
            "cookies": [cookie],
        },
        "regulation": {"max_retries": 5, "find_time": "2m", "ban_time": "10m"},
        # the encryption key comes from AUTHELIA_STORAGE_ENCRYPTION_KEY_FILE
        "storage": {"local": {"path": "/data/db.sqlite3"}},
        "notifier": {"filesystem": {"filename": "/data/notification.txt"}},
    }


#: who may open a UI of each access level, and with how many factors
POLICIES: dict[str, tuple[list[str], str]] = {
    "admin": (["group:admins"], "two_factor"),
    "user": (["group:users", "group:admins"], "one_factor"),
}


def access_rules(routes: Sequence[Route]) -> list[dict[str, Any]]:
    """One rule per access level from the routes' `web.access` (default deny covers the
    rest): admins with two factors for admin tools, users or admins with one for household
    apps. Public UIs have no sign-on in front of them, so no rule names them."""
    rules: list[dict[str, Any]] = []
    for level, (subjects, policy) in POLICIES.items():
        hosts = sorted(r.host for r in routes if _level(r) == level)
        if hosts:
            rules.append({"domain": hosts, "subject": subjects, "policy": policy})
    return rules


def _level(route: Route) -> str | None:
    """The rule a route falls under: its access; a public UI that still has sign-on in
    front of it (its first-run wizard open) is for admins until then; otherwise none."""
    if route.access != "public":
        return route.access
    return "admin" if route.auth else None


def users(view: CatalogView, password_hash: str) -> dict[str, Any]:
    name = view.env_for("authelia").get("AUTHELIA_ADMIN_USER") or "admin"
    return {
        "users": {
            name: {
                "disabled": False,
                "displayname": "Administrator",
                "password": password_hash,
                "email": f"{name}@{view.domain}",
                "groups": ["admins"],
            }
        }
    }


def generate(view: CatalogView, secrets_dir: Path, *, dry_run: bool) -> list[GeneratedFile]:
    folder = view.config_dir("authelia")
    out = [
        GeneratedFile(
            "authelia",
            folder / "configuration.yml",
            dump_yaml(configuration(view), "sign-on for every web UI"),
        )
    ]
    users_file = folder / "users_database.yml"
    if users_file.exists():
        out.append(GeneratedFile("authelia", users_file, "", PRIVATE_MODE, once=True))
        return out
    password, new_secret = first_password("authelia", secrets_dir, ADMIN_SECRET, dry_run=dry_run)
    digest = hash_password(password) if password is not None else "$pbkdf2-sha512$(dry run)"
    text = dump_yaml(
        users(view, digest), f"first user; password in secrets/{ADMIN_SECRET}", once=True
    )
    out.append(GeneratedFile("authelia", users_file, text, PRIVATE_MODE, once=True))
    return out + new_secret
