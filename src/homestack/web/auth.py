"""Who is asking: the sign-on proxy's word, or the dashboard's own password.

Behind Caddy + Authelia the proxy sets Remote-User / Remote-Groups; those headers are
believed only when the TCP peer is the configured proxy address (anyone else could type
them). Reached any other way (an SSH tunnel to the loopback port), the dashboard asks for
its own password: generated once into the secret file SECRETS_DIR/homestack_dashboard_password
(0600, never printed: stderr under systemd is the journal) and checked against its argon2
hash in DATA/.homestack/dashboard.passwd; a session is a signed cookie (HttpOnly, SameSite=Strict)
that carries the user and a CSRF token every POST must repeat. Logins are rate limited per
client address.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalog import Site

STATE = ".homestack"
HASH_FILE = "dashboard.passwd"
PASSWORD_SECRET = "homestack_dashboard_password"  # under the site's SECRETS_DIR
KEY_FILE = "dashboard.key"
COOKIE = "homestack_session"
SESSION_MAX_AGE_S = 12 * 3600
LOGIN_TRIES = 5  # per client address ...
LOGIN_WINDOW_S = 60.0  # ... per this many seconds
ADMIN_GROUP = "admins"


@dataclass(frozen=True)
class User:
    name: str
    via: str  # proxy, password
    csrf: str


def state_dir(site: Site) -> Path:
    return site.data_root / STATE


def _write_private(path: Path, data: bytes) -> None:
    """Write a 0600 file in place of `path`, never through a symlink planted there."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    tmp.replace(path)


def _read_private(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def password_file(site: Site) -> Path:
    """Where the dashboard's password is kept for its owner to read (0600)."""
    return site.secrets_dir / PASSWORD_SECRET


def new_password(site: Site) -> str:
    """Generate the dashboard's password into its secret file (replacing an older one) and
    its argon2 hash; return it (for tests and callers that must log in: never print it)."""
    from argon2 import PasswordHasher

    password = secrets.token_urlsafe(18)
    _write_private(password_file(site), password.encode())
    _write_private(state_dir(site) / HASH_FILE, PasswordHasher().hash(password).encode())
    return password


def has_password(site: Site) -> bool:
    return (state_dir(site) / HASH_FILE).is_file()


def signing_key(site: Site) -> bytes:
    """The key that signs session cookies: made once, kept 0600 beside the hash."""
    path = state_dir(site) / KEY_FILE
    key = _read_private(path)
    if not key:
        key = secrets.token_bytes(32)
        _write_private(path, key)
    return key


class Access:
    """The checks one running dashboard applies to every request."""

    def __init__(self, site: Site, *, proxy: str | None, key: bytes | None = None) -> None:
        from itsdangerous import URLSafeTimedSerializer

        self.site = site
        self.proxy = proxy  # the one peer address whose Remote-User is believed
        self._key = key or signing_key(site)
        self._signer = URLSafeTimedSerializer(self._key, salt="homestack-session")
        self._tries: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    # ---- sessions ------------------------------------------------------------------------
    def session_cookie(self, user: str) -> str:
        return str(self._signer.dumps({"u": user, "c": secrets.token_urlsafe(24)}))

    def from_cookie(self, value: str | None) -> User | None:
        from itsdangerous import BadSignature

        if not value:
            return None
        try:
            data = self._signer.loads(value, max_age=SESSION_MAX_AGE_S)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str):
            return None
        return User(data["u"], "password", str(data.get("c", "")))

    def from_proxy(self, peer: str | None, headers: Any) -> User | None:
        """Remote-User from the configured proxy, in the admins group; None otherwise."""
        if not self.proxy or peer != self.proxy:
            return None
        name = headers.get("remote-user")
        groups = {g.strip() for g in (headers.get("remote-groups") or "").split(",")}
        if not name or ADMIN_GROUP not in groups:
            return None
        # behind the proxy the CSRF token is bound to the user with the signing key
        token = hmac.new(self._key, f"csrf:{name}".encode(), "sha256").hexdigest()
        return User(name, "proxy", token)

    # ---- password ------------------------------------------------------------------------
    def allowed_to_try(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tries = self._tries.setdefault(client, deque())
            while tries and tries[0] < now - LOGIN_WINDOW_S:
                tries.popleft()
            if len(tries) >= LOGIN_TRIES:
                return False
            tries.append(now)
            return True

    def check_password(self, password: str) -> bool:
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        stored = _read_private(state_dir(self.site) / HASH_FILE)
        if not stored:
            return False
        try:
            return bool(PasswordHasher().verify(stored.decode(), password))
        except (VerificationError, InvalidHashError):
            return False
