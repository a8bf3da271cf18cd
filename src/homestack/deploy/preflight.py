"""Checks `up`, `down` and `restart` make before they change anything: what Compose would
refuse in the files, found without running it, and what it refused when it did run.

Compose reads every service file of a stack for each call, so one file with no service in it
or a key given twice stops the whole stack. Found here, it is bad input (exit 2) naming the
file, its line and the fix, before a secret, folder or container is made; left to Compose, it
was a bare `docker compose … exited 1` after all of that (and an empty file under --stand-in
even "started" a service that has no definition).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..catalog import Service
from ..errors import BadInput, CommandFailed
from .projects import Project


def check_service_files(services: Iterable[Service]) -> None:
    """BadInput for the first service file Compose would refuse: no `services.{name}`
    mapping in it, or a key written twice (Compose: "mapping key … already defined")."""
    for service in services:
        doc = service.doc
        if doc is None:  # unreadable or not YAML: Site.require_valid reports it
            continue
        name = service.id
        fix = (
            f"Give it `services:` → `{name}:` → the service's settings (`homestack validate "
            f"{service.stack}` checks it), or disable it: `homestack disable {name}`."
        )
        data = doc.data
        entries = data.get("services") if isinstance(data, dict) else None
        body = entries.get(name) if isinstance(entries, dict) else None
        problem = None
        if data is None:
            problem = "is empty"
        elif not isinstance(data, dict):
            problem = "is not a mapping of compose keys"
        elif not isinstance(entries, dict):
            problem = "has no `services:` mapping"
        elif name not in entries:
            problem = f"does not define services.{name}"
        elif not isinstance(body, dict):
            problem = f"defines services.{name} as {type(body).__name__}, not a mapping"
        if problem:
            raise BadInput(
                f"{service.file.name} {problem}: Compose cannot run {name}",
                fix,
                file=service.file,
                line=doc.line("services", name),
                service=name,
            )
        if doc.duplicates:
            keys, line = doc.duplicates[0]
            raise BadInput(
                f"key {'.'.join(str(k) for k in keys)} is given twice in {service.file.name}; "
                "Compose refuses the file",
                "Delete one of the two entries (or merge them into one).",
                file=service.file,
                line=line,
                service=name,
            )


def check_projects(projects: Iterable[Project]) -> None:
    """check_service_files for every file each project hands Compose (the whole stack)."""
    for project in projects:
        check_service_files(project.services or [])


def compose_refused(project: Project, error: CommandFailed) -> BadInput:
    """`docker compose config` failing is Compose refusing the files or the .env layers (it
    asks nothing of the engine): bad input, with its reason and where to look."""
    from .folders import settings_file

    reason = error.stderr.strip().splitlines()[-1] if error.stderr.strip() else str(error)
    return BadInput(
        f"Compose refuses the files of stack {project.stack.id}: {reason}",
        f"Fix the file it names, or the setting (in {settings_file(project.site)} or the "
        f"stack's .env); `homestack validate {project.stack.id}` lists every problem with its "
        "line.",
    )
