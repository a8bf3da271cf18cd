"""The household's accounts: Authelia's file of users, with groups `admins` and `users`.

The file is `DATA/config/authelia/users_database.yml` (Authelia watches it and rereads it on
change). Passwords are stored only as argon2id hashes in the PHC form Authelia reads
(`$argon2id$v=19$m=65536,t=3,p=4$salt$key`). The folder is writable by the Authelia
container, so nothing here follows a symbolic link in it: reads open with O_NOFOLLOW, writes
go to a new file (O_EXCL|O_NOFOLLOW) renamed over the old one, keeping its owner and mode.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import BadInput, OperationFailed
from .fsutil import write_atomic

GROUPS = ("admins", "users")
USERS_FILE = "users_database.yml"
NOTIFICATION_FILE = "notification.txt"  # the file notifier's (configuration.yml: /data/…)
MIN_PASSWORD = 8
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
HEADER = "# Authelia's users; managed with `homestack users` (argon2id hashes, never passwords).\n"


@dataclass(frozen=True)
class Person:
    name: str
    displayname: str
    email: str
    groups: list[str] = field(default_factory=list)
    disabled: bool = False

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "displayname": self.displayname,
            "email": self.email,
            "groups": list(self.groups),
            "disabled": self.disabled,
        }


@dataclass(frozen=True)
class Listing:
    people: list[Person]
    path: str

    def to_data(self) -> dict[str, Any]:
        return {"file": self.path, "users": [p.to_data() for p in self.people]}


def hash_password(password: str) -> str:
    """An argon2id hash with Authelia's recommended parameters (m=64 MiB, t=3, p=4)."""
    from argon2 import PasswordHasher, Type

    hasher = PasswordHasher(
        time_cost=3, memory_cost=65536, parallelism=4, hash_len=32, salt_len=16, type=Type.ID
    )
    return hasher.hash(password)


def verify_password(digest: str, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return PasswordHasher().verify(digest, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(password: str) -> str:
    """The password as given, minus one trailing newline (a file's); refused when short."""
    password = password.removesuffix("\n").removesuffix("\r")
    if len(password) < MIN_PASSWORD:
        raise BadInput(
            f"the password is shorter than {MIN_PASSWORD} characters",
            "Choose a longer one (a few words are easy to type on a phone).",
        )
    return password


def check_groups(groups: list[str]) -> list[str]:
    wrong = [g for g in groups if g not in GROUPS]
    if wrong or not groups:
        raise BadInput(
            f"unknown group {', '.join(wrong)!r}" if wrong else "no group given",
            f"Groups are {' and '.join(GROUPS)}: admins open admin tools (two factors), "
            "users the household apps (one factor).",
        )
    return sorted(set(groups), key=GROUPS.index)


def users_path(data_root: Path) -> Path:
    return data_root / "config" / "authelia" / USERS_FILE


def notification_path(data_root: Path) -> Path:
    return data_root / "authelia" / NOTIFICATION_FILE


def read_nofollow(path: Path) -> str | None:
    """The text of `path`, None when it does not exist; a symbolic link is refused."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise OperationFailed(
            f"{path}: {error.strerror} (a symbolic link there is not followed)",
            f"Replace {path} with a regular file, or remove it.",
        ) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OperationFailed(f"{path} is not a regular file", f"Move {path} away.")
        return handle.read().decode("utf-8", errors="replace")


class Users:
    """The users file, read once; `save()` writes it back atomically."""

    def __init__(self, data_root: Path) -> None:
        self.path = users_path(data_root)
        if self.path.parent.is_symlink():  # the folder the container mounts: never a link
            raise OperationFailed(
                f"{self.path.parent} is a symbolic link (not followed)",
                f"Replace {self.path.parent} with a real folder (`homestack install data`).",
            )
        text = read_nofollow(self.path)
        if text is None:
            raise BadInput(
                f"there is no users file yet ({self.path})",
                "Run `homestack generate` (or `homestack up`): it writes the first one, "
                "with the admin user.",
                file=self.path,
            )
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as error:
            raise BadInput(
                f"{self.path} is not valid YAML: {error}",
                "Fix the file by hand (or move it away and run `homestack generate`).",
                file=self.path,
            ) from None
        entries = data.get("users") if isinstance(data, dict) else None
        if not isinstance(entries, dict):
            raise BadInput(
                f"{self.path} has no `users:` mapping",
                "Fix the file by hand (or move it away and run `homestack generate`).",
                file=self.path,
            )
        self.data: dict[str, Any] = data
        self.entries: dict[str, dict[str, Any]] = entries

    def people(self) -> list[Person]:
        out = []
        for name, raw in sorted(self.entries.items()):
            entry = raw if isinstance(raw, dict) else {}
            out.append(
                Person(
                    str(name),
                    str(entry.get("displayname") or ""),
                    str(entry.get("email") or ""),
                    [str(g) for g in entry.get("groups") or []],
                    bool(entry.get("disabled", False)),
                )
            )
        return out

    def get(self, name: str) -> dict[str, Any]:
        entry = self.entries.get(name)
        if entry is None:
            known = ", ".join(sorted(self.entries)) or "none"
            raise BadInput(
                f"no user named {name!r} (users: {known})",
                "`homestack users ls` lists them; `homestack users add NAME` adds one.",
                file=self.path,
            )
        return entry

    def admins(self) -> list[str]:
        return [p.name for p in self.people() if "admins" in p.groups and not p.disabled]

    def save(self) -> None:
        text = HEADER + yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True)
        try:
            info = os.lstat(self.path)
            owner: tuple[int, int] | None = (info.st_uid, info.st_gid)
            mode = stat.S_IMODE(info.st_mode) & 0o600 or 0o600
        except FileNotFoundError:
            owner, mode = None, 0o600
        if os.geteuid() != 0:
            owner = None
        write_atomic(self.path, text, mode=mode, owner=owner)


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise BadInput(
            f"{name!r} is not a user name Authelia accepts here",
            "Use letters, digits, '.', '_', '@' and '-' (up to 64), starting with a letter "
            "or digit.",
        )
    return name


def add(
    data_root: Path,
    name: str,
    password: str,
    *,
    groups: list[str],
    displayname: str | None = None,
    email: str | None = None,
    domain: str,
) -> Person:
    users = Users(data_root)
    check_name(name)
    if name in users.entries:
        raise BadInput(
            f"user {name!r} exists already",
            f"`homestack users passwd {name}` changes its password, "
            f"`homestack users groups {name} …` its groups.",
            file=users.path,
        )
    users.entries[name] = {
        "disabled": False,
        "displayname": displayname or name,
        "password": hash_password(check_password(password)),
        "email": email or f"{name}@{domain}",
        "groups": check_groups(groups),
    }
    users.save()
    return next(p for p in users.people() if p.name == name)


def set_password(data_root: Path, name: str, password: str) -> None:
    users = Users(data_root)
    users.get(name)["password"] = hash_password(check_password(password))
    users.save()


def remove(data_root: Path, name: str) -> None:
    users = Users(data_root)
    users.get(name)
    if users.admins() == [name]:
        raise BadInput(
            f"{name!r} is the last admin",
            "Add another admin first (`homestack users add NAME --group admins`).",
            file=users.path,
        )
    del users.entries[name]
    users.save()


def set_groups(data_root: Path, name: str, groups: list[str]) -> Person:
    users = Users(data_root)
    entry = users.get(name)
    chosen = check_groups(groups)
    if "admins" not in chosen and users.admins() == [name]:
        raise BadInput(
            f"{name!r} is the last admin",
            "Make another user an admin first, then change this one's groups.",
            file=users.path,
        )
    entry["groups"] = chosen
    users.save()
    return next(p for p in users.people() if p.name == name)


def notifications(data_root: Path) -> str | None:
    """What Authelia's file notifier wrote last (the one-time code a user asked for, e.g.
    to enrol a TOTP app): None when it has written nothing yet."""
    return read_nofollow(notification_path(data_root))


def listing(data_root: Path) -> Listing:
    users = Users(data_root)
    return Listing(users.people(), str(users.path))
