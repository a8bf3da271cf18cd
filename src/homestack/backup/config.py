"""Where a service's backups live and how they are opened: repository, password, state.

Settings (root `.env`): BACKUP_REPOSITORY (a restic repository, `{service}` is replaced;
default `${DATA_ROOT}/backups/{service}`), BACKUP_KEEP_LAST / _DAILY / _WEEKLY / _MONTHLY.
The password is `${SECRETS_DIR}/homestack_backup_password`: outside every repository.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from ..catalog import Service, Site
from ..errors import BadInput
from .restic import Restic, Retention

PASSWORD_FILE = "homestack_backup_password"
_SCHEME = re.compile(r"^[a-z][a-z0-9+]*:")
DEFAULT_RETENTION = Retention()


def repository(site: Site, service: str) -> str:
    template = site.root_env.get("BACKUP_REPOSITORY", "").strip()
    if not template:
        return str(site.data_root / "backups" / service)
    value = template.replace("{service}", service)
    if _SCHEME.match(value) and not value.startswith("local:"):
        return value  # sftp:, rest:, s3:, rclone: … as restic spells them
    path = Path(value.removeprefix("local:"))
    return str(path if path.is_absolute() else (site.root / path).resolve())


def service_tag(service: str) -> str:
    """The tag every snapshot of `service` carries; restore, listing and prune select by it."""
    return f"service={service}"


def require_per_service_repository(site: Site) -> None:
    """BACKUP_REPOSITORY must name one repository per service (`{service}` in it): in a
    shared one every service's backups sit together, and one service's mistakes (a
    restore, a prune) are a step away from another's data."""
    template = site.root_env.get("BACKUP_REPOSITORY", "").strip()
    if template and "{service}" not in template:
        raise BadInput(
            f"BACKUP_REPOSITORY={template} has no {{service}}: every service would share "
            "one repository",
            "Put {service} in it (e.g. BACKUP_REPOSITORY=/mnt/backups/{service}, or "
            "sftp:nas:/backups/{service}) so each service has its own repository.",
            file=site.root / ".env",
        )


def is_local(repo: str) -> bool:
    return repo.startswith("/")


def password_path(site: Site) -> Path:
    return site.secrets_dir / PASSWORD_FILE


def ensure_password(site: Site) -> tuple[Path, bool]:
    """The password file, generated (0600) when missing; True when it was just created."""
    path = password_path(site)
    if path.is_file():
        if path.stat().st_size == 0:
            raise BadInput(
                f"{path} is empty",
                "Put back the copy of the backup password you kept; without it existing "
                "backups cannot be opened.",
                file=path,
            )
        return path, False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (secrets.token_urlsafe(48) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path)  # never overwrites a password another process just made
        created = True
    except FileExistsError:
        created = False
    finally:
        temp.unlink(missing_ok=True)
    return path, created


def password_notice(path: Path) -> str:
    return (
        f"A new backup password was generated in {path}. KEEP A COPY of this file somewhere "
        "other than this machine (a password manager, a USB key): without it NO backup can "
        "ever be restored."
    )


def restic_for(site: Site, service: str) -> Restic:
    found = Restic(repository(site, service), password_path(site), service)
    from ..swarm import is_swarm

    if is_swarm(site):  # restic runs on the service's data node, in a one-off task
        from ..swarm.data import restic_for as on_data_node

        return on_data_node(site, site.service(service), found)  # type: ignore[no-any-return]
    return found


def retention(site: Site) -> Retention:
    env = site.root_env

    def number(key: str, default: int) -> int:
        raw = env.get(key, "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise BadInput(
                f"{key}={raw!r} is not a whole number", f"Set {key} to 0 or more in .env."
            ) from None
        if value < 0:
            raise BadInput(f"{key}={raw} is negative", f"Set {key} to 0 or more in .env.")
        return value

    d = DEFAULT_RETENTION
    return Retention(
        number("BACKUP_KEEP_LAST", d.keep_last),
        number("BACKUP_KEEP_DAILY", d.keep_daily),
        number("BACKUP_KEEP_WEEKLY", d.keep_weekly),
        number("BACKUP_KEEP_MONTHLY", d.keep_monthly),
    )


@dataclass(frozen=True)
class Part:
    """One thing a backup holds: DATA/{service}, DATA/config/{service} or a secret file."""

    kind: str  # data, config, secret
    path: Path


def parts(site: Site, service: Service) -> list[Part]:
    """What a backup of `service` saves, as its metadata says (existing paths only)."""
    spec = service.meta.backup if service.meta else None
    wanted = spec.paths if spec else ["data", "config", "secrets"]
    found: list[Part] = []
    if "data" in wanted:
        found.append(Part("data", site.data_root / service.id))
    if "config" in wanted:
        found.append(Part("config", site.data_root / "config" / service.id))
    if "secrets" in wanted:
        names = {f"{service.id}_{s.name}" for s in (service.meta.secrets if service.meta else [])}
        if site.secrets_dir.is_dir():
            own = re.compile(rf"^{re.escape(service.id)}_[a-z0-9_]+$")
            names |= {p.name for p in site.secrets_dir.iterdir() if own.match(p.name)}
        names.discard(PASSWORD_FILE)
        for name in sorted(names):
            found.append(Part("secret", site.secrets_dir / name))
    return [p for p in found if p.path.exists() or p.path.is_symlink()]
