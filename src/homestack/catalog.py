"""The site on disk: stacks, their services, overlays and settings layers.

A site is the repository root: `base.docker-compose.yaml`, `.env(.example)` and one
`{id}-stack/` folder per stack. Loading is tolerant: what cannot be read is kept as a
problem on the stack or service so `validate` can report all of them at once; operations
call `Site.require_valid()` first.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from . import fsutil, settings, yamlio
from .errors import BadInput, UnknownName
from .findings import Finding, Severity
from .models import (
    GPU_VENDORS,
    MAX_ID,
    HomestackMeta,
    SchemaError,
    StackMeta,
    keys_at,
    parse,
)

BASE_FILE = "base.docker-compose.yaml"
SERVICE_SUFFIX = ".docker-compose.yaml"
STACK_SUFFIX = "-stack"
IOT_NETWORK = "iot_macvlan"
#: Caddy and the services that trust its sign-on headers (see signon.py)
SIGNON_NETWORK = "signon-proxy"
#: a Docker network name (the engine's rule); stack.yaml's `network:` is one
NETWORK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: overlay kinds: `{service}.{kind}.docker-compose.yaml`, applied only when the host can serve
#: them (a GPU vendor, or `iot` when the iot_macvlan network is configured)
OVERLAY_KINDS: tuple[str, ...] = (*GPU_VENDORS, "iot")
_LIST_ITEM = re.compile(
    r"^(?P<indent>\s*)(?P<hash>#\s*)?-\s+(?P<name>[A-Za-z0-9][\w.-]*)\s*(?:#.*)?$"
)


@dataclass(frozen=True)
class ListedService:
    name: str
    enabled: bool
    line: int  # 1-based line in stack.yaml


@dataclass
class Service:
    id: str
    stack: str
    file: Path
    doc: yamlio.YamlDoc | None
    overlays: dict[str, Path] = field(default_factory=dict)
    meta: HomestackMeta | None = None
    enabled: bool = False
    problems: list[Finding] = field(default_factory=list)

    @property
    def compose(self) -> dict[str, Any]:
        """This service's own mapping under `services:` (empty when unreadable)."""
        data = self.doc.data if self.doc else None
        if isinstance(data, dict):
            services = data.get("services")
            if isinstance(services, dict):
                entry = services.get(self.id)
                if isinstance(entry, dict):
                    return entry
        return {}

    @property
    def env_dir(self) -> Path:
        return self.file.parent / self.id

    @property
    def volume_name(self) -> str:
        return f"{self.stack}_{self.id}_data"

    @property
    def title(self) -> str:
        return self.meta.title if self.meta else self.id


@dataclass
class Stack:
    id: str
    dir: Path
    meta: StackMeta
    listed: list[ListedService]
    services: dict[str, Service]
    problems: list[Finding] = field(default_factory=list)

    @property
    def file(self) -> Path:
        return self.dir / "stack.yaml"

    @property
    def network(self) -> str:
        """The network its services share: stack.yaml's `network:`, else {id}-services."""
        return self.meta.network or f"{self.id}-services"

    @property
    def title(self) -> str:
        """Its name on the start page: stack.yaml's `title:`, else the id capitalised."""
        return self.meta.title or self.id.title()

    @property
    def enabled(self) -> list[Service]:
        names = dict.fromkeys(s.name for s in self.listed if s.enabled)  # listed twice: once
        return [self.services[name] for name in names if name in self.services]


def parse_listed(text: str) -> list[ListedService]:
    listed: list[ListedService] = []
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(r"^services\s*:", line):
            inside = True
            continue
        if not inside:
            continue
        if line.strip() == "":
            continue
        if not line[0].isspace() and not line.startswith("#") and not line.startswith("-"):
            break  # the next top-level key
        match = _LIST_ITEM.match(line)
        if match:
            listed.append(ListedService(match["name"], match["hash"] is None, number))
    return listed


def _require_mapping(data: object, text: str) -> None:
    if data is not None and not isinstance(data, dict):
        raise BadInput(
            f"stack.yaml must be a mapping (description, depends_on, services), not {_kind(data)}",
            "Write `description: …` and `services:` then one `  - name` per line at the "
            "top level of the file, as the other stacks' stack.yaml do.",
            line=_first_content_line(text),
        )


def _read_stack_file(folder: Path) -> tuple[StackMeta, list[ListedService], list[Finding]]:
    """stack.yaml's metadata and listed services, with what is wrong in it."""
    stack_file = folder / "stack.yaml"
    problems: list[Finding] = []
    try:
        text = fsutil.read_text(stack_file)
        doc = yamlio.parse(text, stack_file)
    except FileNotFoundError:
        missing = Finding(
            "stack.missing",
            Severity.ERROR,
            f"{folder.name}/stack.yaml is missing",
            stack_file,
            None,
            None,
            STACK_MISSING_HINT,
        )
        return StackMeta(), [], [missing]
    except BadInput as exc:
        return (
            StackMeta(),
            [],
            [
                Finding(
                    "yaml.syntax", Severity.ERROR, exc.message, stack_file, exc.line, hint=exc.hint
                )
            ],
        )
    listed = parse_listed(text)
    try:
        _require_mapping(doc.data, text)
    except BadInput as exc:
        return (
            StackMeta(),
            listed,
            [
                Finding(
                    "stack.schema", Severity.ERROR, exc.message, stack_file, exc.line, hint=exc.hint
                )
            ],
        )
    meta = StackMeta()
    raw = doc.data if isinstance(doc.data, dict) else {}
    if "services" in raw and raw["services"] is None:  # every line commented: disabled
        raw = {**raw, "services": []}
    try:
        meta = parse(StackMeta, raw)
    except SchemaError as exc:
        problems.append(
            _validation_problem("stack.schema", StackMeta, exc, doc, stack_file, None, ())
        )
    else:
        problems += _check_title_network(meta, doc, stack_file)
    listed_yaml = raw.get("services") or []
    enabled_from_yaml = (
        [str(name) for name in listed_yaml] if isinstance(listed_yaml, list) else None
    )
    if enabled_from_yaml != [s.name for s in listed if s.enabled]:
        problems.append(
            Finding(
                "stack.services",
                Severity.ERROR,
                "the services list must be a plain list of names, one per line",
                stack_file,
                doc.line("services"),
                hint="Write `services:` then one `  - name` per line; comment a line to "
                "disable that service.",
            )
        )
    return meta, listed, problems


def _check_title_network(meta: StackMeta, doc: yamlio.YamlDoc, path: Path) -> list[Finding]:
    """stack.yaml's `network:` is a Docker network name of the stack's own and `title:` one
    line of text (the type is the model's; this is what Compose and the start page need)."""
    problems: list[Finding] = []
    network = meta.network
    default = f"{path.parent.name.removesuffix(STACK_SUFFIX)}-services"
    if network and (not NETWORK_NAME.match(network) or network in (SIGNON_NETWORK, IOT_NETWORK)):
        reserved = network in (SIGNON_NETWORK, IOT_NETWORK)
        problems.append(
            Finding(
                "stack.schema",
                Severity.ERROR,
                f"network: {network!r} "
                + (
                    "is a shared network, not one of a stack's own"
                    if reserved
                    else "is not a Docker network name"
                ),
                path,
                doc.line("network"),
                hint=f"Name the network its services share, e.g. `network: {default}` "
                "(letters, digits, '_', '.', '-'; first a letter or digit), or remove the "
                "line for that default.",
            )
        )
    title = meta.title
    if "title" in (doc.data if isinstance(doc.data, dict) else {}) and (
        not title.strip() or "\n" in title
    ):
        problems.append(
            Finding(
                "stack.schema",
                Severity.ERROR,
                "title: must be one line of text (the stack's name on the start page)",
                path,
                doc.line("title"),
                hint="Write e.g. `title: Media` on one line, or remove the line for the "
                "stack's id, capitalised.",
            )
        )
    return problems


def _load_stack(folder: Path) -> Stack:
    stack_id = folder.name.removesuffix(STACK_SUFFIX)
    stack_file = folder / "stack.yaml"
    meta, listed, problems = _read_stack_file(folder)

    enabled_names = {s.name for s in listed if s.enabled}
    services: dict[str, Service] = {}
    service_dir = folder / "services"
    files = sorted(service_dir.glob("*.yaml")) + sorted(service_dir.glob("*.yml"))
    overlay_files: list[tuple[str, str, Path]] = []
    for path in files:
        name = path.name
        if not name.endswith(SERVICE_SUFFIX):
            problems.append(
                Finding(
                    "file.naming",
                    Severity.ERROR,
                    f"{name} does not follow {{service}}{SERVICE_SUFFIX}",
                    path,
                    1,
                    hint=f"Rename it to <service>{SERVICE_SUFFIX}.",
                )
            )
            continue
        stem = name.removesuffix(SERVICE_SUFFIX)
        base, _, vendor = stem.rpartition(".")
        if base and vendor in OVERLAY_KINDS:
            overlay_files.append((base, vendor, path))
            continue
        services[stem] = _load_service(stem, stack_id, path, stem in enabled_names)
    for base, vendor, path in overlay_files:
        if base in services:
            services[base].overlays[vendor] = path
        else:
            problems.append(
                Finding(
                    "file.naming",
                    Severity.ERROR,
                    f"GPU overlay {path.name} has no service file {base}{SERVICE_SUFFIX}",
                    path,
                    1,
                    hint="Name overlays {service}.{nvidia|amd|intel|iot}.docker-compose.yaml.",
                )
            )
    for entry in listed:
        if entry.name not in services:
            problems.append(
                Finding(
                    "stack.unknown-service",
                    Severity.ERROR,
                    f"stack.yaml lists {entry.name!r} but services/{entry.name}{SERVICE_SUFFIX} "
                    "does not exist",
                    stack_file,
                    entry.line,
                    service=entry.name,
                    hint=_did_you_mean(entry.name, list(services)) or "Remove the line.",
                )
            )
    problems += _listed_twice(listed, stack_file)
    return Stack(stack_id, folder, meta, listed, services, problems)


STACK_MISSING_HINT = (
    "Create stack.yaml with `description:` and a `services:` list (one `  - name` per line; "
    "a commented line is a disabled service), or remove the folder if the stack is not used."
)


def _first_content_line(text: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and stripped != "---":
            return number
    return 1


def _kind(data: object) -> str:
    if isinstance(data, list):
        return "a list"
    if isinstance(data, str):
        return f"the text {data[:40]!r}"
    if isinstance(data, bool):
        return f"the value {str(data).lower()}"
    if isinstance(data, (int, float)):
        return f"the number {data}"
    return f"a {type(data).__name__}"


def _listed_twice(listed: list[ListedService], stack_file: Path) -> list[Finding]:
    """A second enabled line of one name (a commented copy beside it is just a note)."""
    problems: list[Finding] = []
    first_line: dict[str, int] = {}
    for entry in listed:
        if not entry.enabled:
            continue
        if entry.name not in first_line:
            first_line[entry.name] = entry.line
            continue
        problems.append(
            Finding(
                "stack.listed-twice",
                Severity.ERROR,
                f"stack.yaml lists {entry.name!r} twice (lines {first_line[entry.name]} "
                f"and {entry.line})",
                stack_file,
                entry.line,
                service=entry.name,
                hint=f"Delete line {entry.line}: each service is listed once.",
            )
        )
    return problems


def _validation_problem(
    rule: str,
    model: type,
    exc: SchemaError,
    doc: yamlio.YamlDoc,
    path: Path,
    service: str | None,
    prefix: tuple[str | int, ...],
) -> Finding:
    errors = exc.errors()
    # a misspelt key first: it is the cause of any "field required" beside it
    first = next((e for e in errors if e["type"] in _UNKNOWN_KEY), errors[0])
    loc = tuple(first["loc"])
    where = ".".join(str(p) for p in (*prefix, *loc))
    message = f"{where}: {first['msg']}"
    hint = (
        "See `homestack schema` for the fields and their types."
        if model is HomestackMeta
        else "stack.yaml holds description and title (text), network (a network name), "
        "depends_on (a list of stacks) and services (a list of names)."
    )
    if (
        loc
        and loc[-1] in ("uid", "gid")
        and first["type"] in ("less_than_equal", "greater_than_equal")
    ):
        hint = (
            f"A user or group id is a number from 0 to {MAX_ID} (`id -u` / `id -g` print "
            "yours; 0 is root)."
        )
    if first["type"] in _UNKNOWN_KEY and loc and isinstance(loc[-1], str):
        known = keys_at(model, loc[:-1])
        message = f"{where}: unknown key"
        close = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.6)
        hint = (f"Did you mean {close[0]}? " if close else "") + f"Keys here: {', '.join(known)}."
    return Finding(rule, Severity.ERROR, message, path, doc.line(*prefix, *loc), service, hint=hint)


_UNKNOWN_KEY = {"unexpected_keyword_argument", "extra_forbidden"}


def _load_service(name: str, stack: str, path: Path, enabled: bool) -> Service:
    service = Service(name, stack, path, None, enabled=enabled)
    try:
        service.doc = yamlio.load(path)
    except BadInput as exc:
        service.problems.append(
            Finding("yaml.syntax", Severity.ERROR, exc.message, path, exc.line, name, exc.hint)
        )
        return service
    raw = service.compose.get("x-homestack")
    if raw is None:
        if service.compose:
            service.problems.append(
                Finding(
                    "meta.missing",
                    Severity.ERROR,
                    f"services.{name} has no x-homestack block",
                    path,
                    service.doc.line("services", name),
                    name,
                    "Add `x-homestack:` with at least title and description.",
                )
            )
        return service
    try:
        service.meta = parse(HomestackMeta, raw)
    except SchemaError as exc:
        service.problems.append(
            _validation_problem(
                "meta.schema",
                HomestackMeta,
                exc,
                service.doc,
                path,
                name,
                ("services", name, "x-homestack"),
            )
        )
    return service


def _did_you_mean(name: str, choices: list[str]) -> str | None:
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.6)
    return f"Did you mean {', '.join(close)}?" if close else None


def _is_loop(exc: Exception) -> bool:
    """Path.resolve's symbolic-link loop: RuntimeError up to Python 3.12, OSError ELOOP after."""
    return isinstance(exc, RuntimeError) or (isinstance(exc, OSError) and exc.errno == errno.ELOOP)


def site_root(path: Path) -> Path:
    """`path` resolved; BadInput when it is a symbolic-link loop, which cannot be a site."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:
        if not _is_loop(exc):
            raise
        raise BadInput(
            f"{path} is not a homestack site (a symbolic-link loop)",
            f"Point --site (or HOMESTACK_SITE) at the cloned repository itself; `ls -l {path}` "
            "shows where the link points: replace the loop with a link to the repository.",
            file=path,
        ) from None


def _absolute(path: Path) -> Path:
    """`path` resolved, or as written (absolute) when it is a symbolic-link loop: what
    then uses it fails naming the path, as for any other unusable folder."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:
        if not _is_loop(exc):
            raise
        return path.absolute()


def find_root(start: Path | None = None) -> Path:
    """The site root: $HOMESTACK_SITE, else the nearest folder up with the base file."""
    env = os.environ.get("HOMESTACK_SITE")
    if env:
        root = site_root(Path(env))
        if not (root / BASE_FILE).is_file():
            raise BadInput(
                f"HOMESTACK_SITE={env} has no {BASE_FILE}",
                "Point HOMESTACK_SITE (or --site) at the homestack repository.",
            )
        return root
    here = site_root(start or Path.cwd())
    for folder in (here, *here.parents):
        if (folder / BASE_FILE).is_file():
            return folder
    raise BadInput(
        f"no homestack site here: {BASE_FILE} not found in {here} or any folder above",
        "Run homestack inside the cloned repository, or pass --site PATH.",
    )


@dataclass
class Site:
    root: Path
    stacks: dict[str, Stack]
    problems: list[Finding] = field(default_factory=list)

    @classmethod
    def load(cls, root: str | os.PathLike[str] | None = None) -> Site:
        """The site in `root` (a path or a string; None: found from the current folder)."""
        root = site_root(Path(root)) if root is not None else find_root()
        if not (root / BASE_FILE).is_file():
            raise BadInput(
                f"{root} is not a homestack site: {BASE_FILE} is missing",
                "Run inside the repository or pass --site PATH.",
            )
        stacks = {}
        with yamlio.cached(root / ".homestack" / "cache" / "yaml.marshal"):
            for folder in sorted(root.glob(f"*{STACK_SUFFIX}")):
                if (folder / "stack.yaml").is_file() or (folder / "services").is_dir():
                    stack = _load_stack(folder)
                    stacks[stack.id] = stack
        site = cls(root, stacks)
        by_name: dict[str, list[Service]] = {}
        for service in site.services():
            by_name.setdefault(service.id, []).append(service)
        for name, same in by_name.items():
            if len(same) < 2:
                continue
            for service in same:  # every side, as ports.conflict and web.subdomain report
                others = ", ".join(
                    f"{o.stack} ({o.file.parent.parent.name}/services/{o.file.name})"
                    for o in same
                    if o is not service
                )
                site.problems.append(
                    Finding(
                        "service.duplicate",
                        Severity.ERROR,
                        f"service {name!r} of the {service.stack} stack also exists in {others}",
                        service.file,
                        1,
                        name,
                        "Service names are unique across stacks; rename one.",
                    )
                )
        return site

    @cached_property
    def networks(self) -> list[str]:
        """The shared (seed) networks services may join: those base.docker-compose.yaml
        declares, in its order, then each stack's network it does not; signon-proxy and
        iot_macvlan always (install networks makes them, lint checks services against them)."""
        found = declared_networks(self.root)
        for name in (*(s.network for s in self.stacks.values()), SIGNON_NETWORK, IOT_NETWORK):
            if name not in found:
                found.append(name)
        return found

    # ---- lookup -----------------------------------------------------------------------
    def services(self, *, enabled_only: bool = False) -> list[Service]:
        out: list[Service] = []
        for stack in self.stacks.values():
            if enabled_only:
                out.extend(stack.enabled)
            else:
                out.extend(stack.services.values())
        return out

    def stack(self, name: str) -> Stack:
        key = name.removesuffix(STACK_SUFFIX)
        if key in self.stacks:
            return self.stacks[key]
        owner = next((s.id for s in self.stacks.values() if name in s.services), None)
        raise UnknownName(
            f"no stack named {name!r}",
            (f"{name} is a service; its stack is {owner}." if owner else None)
            or _did_you_mean(key, list(self.stacks))
            or f"Stacks: {', '.join(self.stacks)}.",
        )

    def service(self, name: str) -> Service:
        for stack in self.stacks.values():
            if name in stack.services:
                return stack.services[name]
        names = [s.id for s in self.services()]
        raise UnknownName(
            f"no service named {name!r}",
            _did_you_mean(name, names) or "Run `homestack ls` to see every service.",
        )

    def select(self, names: list[str] | None) -> tuple[list[Stack], list[Service] | None]:
        """Resolve command arguments that may name stacks or services."""
        if not names:
            return list(self.stacks.values()), None
        stacks: list[Stack] = []
        services: list[Service] = []
        for name in names:
            key = name.removesuffix(STACK_SUFFIX)
            if key in self.stacks:
                chosen = self.stacks[key]
                if chosen not in stacks:  # a name given twice counts once
                    stacks.append(chosen)
            elif (service := self.service(name)) not in services:
                services.append(service)
        if services:
            # a stack named beside a service still means its enabled services
            for stack in stacks:
                services.extend(s for s in stack.enabled if s not in services)
            for service in services:
                owner = self.stacks[service.stack]
                if owner not in stacks:
                    stacks.append(owner)
            return stacks, services
        return stacks, None

    def all_problems(self) -> list[Finding]:
        found = list(self.problems)
        for stack in self.stacks.values():
            found.extend(stack.problems)
            for service in stack.services.values():
                found.extend(service.problems)
        return found

    def require_valid(self, stacks: Collection[str] | None = None) -> None:
        """BadInput for the first problem of the site, or only of these stacks: a broken
        file in one stack does not hold back commands on the others."""
        problems = list(self.problems)
        for stack in self.stacks.values():
            if stacks is None or stack.id in stacks:
                problems += stack.problems
                for service in stack.services.values():
                    problems += service.problems
        for problem in problems:
            raise BadInput(
                problem.message,
                problem.hint,
                file=problem.file,
                line=problem.line,
                service=problem.service,
            )

    # ---- settings ---------------------------------------------------------------------
    def env_files(self, stack: Stack, services: Sequence[Service] | None = None) -> list[Path]:
        """Layer files in order root → stack → each enabled service (or these ones)."""
        layers = [settings.layer_file(self.root), settings.layer_file(stack.dir)]
        chosen = stack.enabled if services is None else services
        layers += [settings.layer_file(service.env_dir) for service in chosen]
        return [path for path in layers if path is not None]

    @cached_property
    def root_env(self) -> dict[str, str]:
        layer = settings.layer_file(self.root)
        env_file = settings.read_env(layer) if layer else None
        return self._derived(settings.merge_layers([env_file]))

    def compose_environ(self, root_env: Mapping[str, str] | None = None) -> dict[str, str]:
        """The process environment ComposeProject gives Compose; it wins over env files.
        `root_env`: the root layer already read (lint reads it without raising)."""
        derived = self.root_env if root_env is None else root_env
        env = dict(os.environ)
        for key in ("HOMESTACK_ROOT", "DATA_ROOT", "SECRETS_DIR"):
            env[key] = derived[key]
        env["HOMESTACK_PREFIX"] = derived.get("HOMESTACK_PREFIX", "")
        env["LAN_ADDRESS"] = _door_address(derived)  # `auto` resolved: the proxy's 80/443
        if "HOMESTACK_SIGNON_PROXY" in derived:
            env["HOMESTACK_SIGNON_PROXY"] = derived["HOMESTACK_SIGNON_PROXY"]
        return env

    def _derived(self, env: dict[str, str]) -> dict[str, str]:
        env.update({k: v for k, v in os.environ.items() if k.isupper()})
        env["HOMESTACK_ROOT"] = str(self.root)
        for key, default in (("DATA_ROOT", "DATA"), ("SECRETS_DIR", "secrets")):
            value = env.get(key) or default
            env[key] = str(_absolute(self.root / value)) if not Path(value).is_absolute() else value
        from . import signon  # Caddy's fixed address, from the subnet: never set by hand

        env.pop(signon.ADDRESS_VARIABLE, None)
        with contextlib.suppress(ValueError):  # install networks names a bad subnet
            env[signon.ADDRESS_VARIABLE] = signon.proxy_address(signon.subnet(env))
        return env

    def stack_env(self, stack: Stack) -> dict[str, str]:
        """What Compose will interpolate with: the layers, then the process environment
        (with DATA_ROOT, SECRETS_DIR and HOMESTACK_PREFIX as ComposeProject passes them)."""
        files = [settings.read_env(path) for path in self.env_files(stack)]
        environ = self.compose_environ()
        return {**settings.merge_layers(files, environ), **environ}

    def container_user(self, service: Service) -> tuple[int, int] | None:
        """The uid:gid the service's container runs as, when the files say: x-homestack
        uid/gid, else a numeric compose `user:` after interpolation (e.g. ${PUID}:${PGID}).
        A command's phases read it resolved once (homestack.resolved); this is for one."""
        meta = service.meta
        if meta is not None and meta.uid is not None:
            return container_ids(service, None)
        user = service.compose.get("user")
        if user is None:
            return None
        env = self.stack_env(self.stacks[service.stack])
        return container_ids(service, settings.interpolate(str(user), env))

    @property
    def prefix(self) -> str:
        """A site-wide name prefix for projects, networks and volumes (tests use it)."""
        return self.root_env.get("HOMESTACK_PREFIX", "")

    @property
    def data_root(self) -> Path:
        return Path(self.root_env["DATA_ROOT"])

    @property
    def secrets_dir(self) -> Path:
        return Path(self.root_env["SECRETS_DIR"])

    def project_name(self, stack: Stack) -> str:
        return f"{self.prefix}{stack.id}"

    def network_name(self, network: str) -> str:
        return f"{self.prefix}{network}"

    def compose_files(
        self,
        stack: Stack,
        services: list[Service] | None = None,
        overlays: Mapping[str, Sequence[str]] | None = None,
    ) -> list[Path]:
        """base + each chosen service + the overlays chosen for it (service id → kinds)."""
        chosen = services if services is not None else stack.enabled
        files = [self.root / BASE_FILE]
        for service in chosen:
            files.append(service.file)
            for kind in (overlays or {}).get(service.id, ()):
                if kind in service.overlays:
                    files.append(service.overlays[kind])
        return files


def container_ids(service: Service, user: str | None) -> tuple[int, int] | None:
    """The uid:gid a container runs as: x-homestack uid/gid, else `user` (the compose
    `user:` already interpolated) when it is numeric; BadInput for an id chown cannot use."""
    meta = service.meta
    if meta is not None and meta.uid is not None:
        return meta.uid, meta.gid if meta.gid is not None else meta.uid
    if user is None:
        return None
    uid, _, gid = user.partition(":")
    if not (uid.isdigit() and (gid == "" or gid.isdigit())):
        return None
    ids = int(uid), int(gid or uid)
    if max(ids) > MAX_ID:  # chown would fail with an OverflowError
        written = service.compose.get("user")
        variables = [name for name, _ in settings.variables_in(str(written))]
        raise BadInput(
            f"{service.id} runs as {ids[0]}:{ids[1]}, which is not a user id (0 to "
            f"{MAX_ID}): `user: {written}` in {service.file.name}",
            (f"Set {' / '.join(variables)} in .env to a number" if variables else "Write a number")
            + f" from 0 to {MAX_ID} (`id -u` / `id -g` print yours).",
            file=service.file,
            service=service.id,
        )
    return ids


def declared_networks(root: Path) -> list[str]:
    """The networks `base.docker-compose.yaml` declares at its top level, in file order
    (none when it cannot be read: validate reports that file itself)."""
    try:
        data = yamlio.load(root / BASE_FILE).data
    except BadInput:
        return []
    networks = data.get("networks") if isinstance(data, dict) else None
    return [str(name) for name in networks] if isinstance(networks, dict) else []


def _door_address(env: Mapping[str, str]) -> str:
    """LAN_ADDRESS as Compose publishes it; a bad value is passed on unchanged (generate and
    up refuse it first, naming the file; lint reads this without raising)."""
    from . import door

    try:
        return door.lan_address(env)
    except BadInput:
        return door.configured(env)
