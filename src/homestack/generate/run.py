"""Run every generator whose service is enabled (or selected) and write what changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ..catalog import Service, Site
from . import (
    alerting,
    authelia,
    backup_rules,
    caddy,
    extras,
    filebrowser,
    homeassistant,
    homepage,
    prometheus,
    socketproxy,
)
from .files import (
    GeneratedFile,
    check_all,
    create_secrets,
    recover,
    remove_made,
    state_of,
    write_all,
)
from .view import CatalogView


@dataclass(frozen=True)
class FileChange:
    service: str
    path: str
    action: str  # create, update, unchanged, kept


@dataclass(frozen=True)
class GenerateReport:
    files: list[FileChange] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return any(f.action in ("create", "update") for f in self.files)

    def to_data(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "dry_run": self.dry_run,
            "files": [asdict(f) for f in self.files],
        }


def _generators(
    site: Site, view: CatalogView, dry_run: bool
) -> dict[str, Callable[[], list[GeneratedFile]]]:
    from ..deploy.data import owner_ids

    return {
        "caddy": lambda: caddy.generate(view),
        "authelia": lambda: authelia.generate(view, site.secrets_dir, dry_run=dry_run),
        "filebrowser": lambda: filebrowser.generate(view, site.secrets_dir, dry_run=dry_run),
        "prometheus": lambda: prometheus.generate(view) + backup_rules.generate(site, view),
        "homepage": lambda: homepage.generate(view),
        "grafana": lambda: extras.grafana(view),
        "samba": lambda: extras.samba(view, *owner_ids(site)),
        "blocky": lambda: extras.blocky(view),
        "homeassistant": lambda: extras.homeassistant(view) + homeassistant.generate(view, site),
        "anythingllm": lambda: extras.anythingllm(view),
        "alertmanager": lambda: alerting.alertmanager(view, site.secrets_dir),
        "ntfy": lambda: alerting.ntfy(view, site.secrets_dir),
        "socket-proxy": lambda: socketproxy.generate(view),
        "blackbox-exporter": lambda: prometheus.blackbox(view),
    }


def planned(
    site: Site, services: list[Service] | None = None, *, dry_run: bool = True
) -> list[GeneratedFile]:
    """The files for every enabled service that has a generator, plus the selected ones."""
    view = CatalogView.of(site)
    owners = {s.id for s in view.enabled} | {s.id for s in services or []}
    out: list[GeneratedFile] = []
    for owner, make in _generators(site, view, dry_run).items():
        if owner in owners:
            out.extend(make())
    return out


def generate_all(
    site: Site, services: list[Service] | None = None, *, dry_run: bool = False
) -> GenerateReport:
    """Write (or, dry run, only report) every generated config; idempotent.

    Every file is rendered in memory and checked before the first is written, and the
    changed ones are written as one change (files.write_all): all, or none of them. A new
    secret (Authelia's admin password) is created first and removed again if they fail."""
    changes: list[FileChange] = []
    pending: list[GeneratedFile] = []
    wanted_files = planned(site, services, dry_run=dry_run)
    if not dry_run and recover(wanted_files):  # a killed run's leftovers; a file put back
        wanted_files = planned(site, services, dry_run=dry_run)  # may be a `once` one
    for wanted in wanted_files:
        action = state_of(wanted)
        if action in ("create", "update"):
            pending.append(wanted)
        changes.append(FileChange(wanted.service, str(wanted.path), action))
    check_all(pending)
    if not dry_run and pending:
        made = create_secrets([f for f in pending if f.secret])
        try:
            write_all([f for f in pending if not f.secret], site.data_root)
        except BaseException:
            remove_made(made)  # a users file with its hash was not written either
            raise
    return GenerateReport(changes, dry_run)
