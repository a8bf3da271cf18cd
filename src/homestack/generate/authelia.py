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
from pathlib import Path
from typing import Any

from ..deploy.secrets import ALPHABETS, PRIVATE_MODE
from .files import GeneratedFile
from .view import CatalogView, dump_yaml

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


def configuration(view: CatalogView) -> dict[str, Any]:
    from .dashboard import access_rules as dashboard_rules

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
        "access_control": {
            "default_policy": "deny",
            "rules": [
                *dashboard_rules(view),  # before the catch-all: the first match wins
                {"domain": [domain, f"*.{domain}"], "policy": "one_factor"},
            ],
        },
        "session": {
            # the secret comes from AUTHELIA_SESSION_SECRET_FILE (a Docker secret)
            "cookies": [cookie],
        },
        "regulation": {"max_retries": 5, "find_time": "2m", "ban_time": "10m"},
        # the encryption key comes from AUTHELIA_STORAGE_ENCRYPTION_KEY_FILE
        "storage": {"local": {"path": "/data/db.sqlite3"}},
        "notifier": {"filesystem": {"filename": "/data/notification.txt"}},
    }


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
        out.append(GeneratedFile("authelia", users_file, "", 0o600, once=True))
        return out
    password = admin_password(secrets_dir)
    new_secret: list[GeneratedFile] = []
    if password is None:
        # made in memory only: generate_all creates the secret file with the users file
        # (never replacing one), and removes it again if the run fails
        if not dry_run:
            password = "".join(random.choice(ALPHABETS["alnum"]) for _ in range(24))
        new_secret.append(
            GeneratedFile(
                "authelia", secrets_dir / ADMIN_SECRET, password or "", PRIVATE_MODE, secret=True
            )
        )
    digest = hash_password(password) if password is not None else "$pbkdf2-sha512$(dry run)"
    text = dump_yaml(
        users(view, digest), f"first user; password in secrets/{ADMIN_SECRET}", once=True
    )
    out.append(GeneratedFile("authelia", users_file, text, 0o600, once=True))
    return out + new_secret
