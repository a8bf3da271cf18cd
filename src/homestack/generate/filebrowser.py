"""File Browser: its settings.json, with the first user's password as a bcrypt hash.

Upstream facts (filebrowser/filebrowser at v2.63.23, the tag the service file pins):
- the image's entrypoint `docker/alpine/init.sh` copies its default settings.json into
  /config only when /config/settings.json is missing, and always starts File Browser with
  `--config=/config/settings.json`;
- `cmd/utils.go` (initViper) reads that file with viper and binds every flag of the root
  command to it, so a key of the file sets the flag of the same name;
- `cmd/root.go` (quickSetup), run only while the database does not exist yet, creates the
  user named by `username` with `password` stored as given ("hashed password for the first
  user when using quick setup"); only when `password` is empty does it make a random one
  and print it into its log (which Dozzle shows to every user);
- `users/password.go` checks a login with Go's bcrypt.CompareHashAndPassword, which reads
  the `$2b$` hashes Python's bcrypt writes (cost 10 is its own DefaultCost).

So the password is a homestack secret (`secrets/filebrowser_admin_password`, made once,
0600, never printed) and only its hash lands in the config file: nothing in the
environment (`docker inspect`) and nothing in the log. The file is written once, before the
first start; once File Browser has made its database, the file's password is not read again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..modes import PRIVATE_MODE
from .authelia import first_password
from .files import GeneratedFile
from .view import CatalogView

ADMIN_SECRET = "filebrowser_admin_password"
ADMIN_USER = "admin"
BCRYPT_COST = 10  # golang.org/x/crypto/bcrypt DefaultCost, what File Browser itself uses


def hash_password(password: str) -> str:
    import bcrypt

    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_COST)).decode("ascii")


def settings(password_hash: str) -> dict[str, Any]:
    """The image's default settings.json (docker/common/defaults/settings.json) plus the
    quick-setup user."""
    return {
        "port": 80,
        "baseURL": "",
        "address": "",
        "log": "stdout",
        "database": "/database/filebrowser.db",
        "root": "/srv",
        "username": ADMIN_USER,
        "password": password_hash,
    }


def generate(view: CatalogView, secrets_dir: Path, *, dry_run: bool) -> list[GeneratedFile]:
    target = view.config_dir("filebrowser") / "settings.json"
    if target.exists() or target.is_symlink():
        return [GeneratedFile("filebrowser", target, "", PRIVATE_MODE, once=True)]
    password, new_secret = first_password("filebrowser", secrets_dir, ADMIN_SECRET, dry_run=dry_run)
    digest = hash_password(password) if password is not None else "$2b$10$(dry run)"
    text = json.dumps(settings(digest), indent=2) + "\n"
    return [GeneratedFile("filebrowser", target, text, PRIVATE_MODE, once=True), *new_secret]
