"""The rule registry, the shared lint context and the lint driver (Finding and Severity:
homestack.findings).

Rules read the site homestack has already parsed (each file once, with line numbers); the
context adds what several rules need and caches it: each stack's env layers, each service's
compose mapping after interpolation, the parsed overlays, the sockets listening on this host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from .. import settings, yamlio
from ..catalog import BASE_FILE, Service, Site, Stack
from ..errors import BadInput
from ..findings import Finding, Severity

RuleFunc = Callable[["LintContext"], Iterable[Finding]]


@dataclass(frozen=True)
class View:
    """One service as one file shows it: its base file, or one of its overlays."""

    service: Service
    doc: yamlio.YamlDoc
    compose: dict[str, Any]  # services.<id> in this file, as written
    resolved: dict[str, Any]  # the same, interpolated with the service's env
    overlay: str | None = None  # the overlay kind (nvidia, amd, intel, iot); None: base file

    @property
    def file(self) -> Path:
        return self.doc.path

    def line(self, *keys: str | int) -> int | None:
        return self.doc.line("services", self.service.id, *keys)

    def top(self, key: str) -> dict[str, Any]:
        """A top-level mapping of this file (networks, volumes, secrets)."""
        data = self.doc.data if isinstance(self.doc.data, dict) else {}
        value = data.get(key)
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity  # the usual severity; a rule may lower it case by case (see docs)
    summary: str
    check: (
        RuleFunc | None
    )  # None: the finding comes from loading the site (catalog: error findings)


RULES: dict[str, Rule] = {}


def rule(
    rule_id: str, summary: str, severity: Severity = Severity.ERROR
) -> Callable[[RuleFunc], RuleFunc]:
    """Register a rule; `rule_id` is stable: users filter and ignore by it."""

    def register(func: RuleFunc) -> RuleFunc:
        RULES[rule_id] = Rule(rule_id, severity, summary, func)
        return func

    return register


#: ids that loading the site reports (catalog: error findings); listed so docs and tests cover them
SITE_PROBLEMS: dict[str, str] = {
    "yaml.syntax": "a file is not valid YAML",
    "file.naming": "files in services/ are {service}.docker-compose.yaml or an overlay "
    "{service}.{nvidia|amd|intel|iot}.docker-compose.yaml of an existing service",
    "meta.missing": "a service has no x-homestack block",
    "meta.schema": "the x-homestack block does not match its schema",
    "stack.missing": "a stack folder has no stack.yaml",
    "stack.schema": "stack.yaml does not match its schema",
    "stack.services": "the services list of stack.yaml is not a plain list of names",
    "stack.unknown-service": "stack.yaml lists a service that has no file",
    "stack.listed-twice": "stack.yaml lists an enabled service twice",
    "service.duplicate": "two stacks define a service of the same name",
    # read by the lint context itself, while rules ask for env layers
    "env.syntax": "an .env / .env.example line is not KEY=value, a bare KEY, a comment or empty",
}
#: the fix for site problems that come without a hint
_PROBLEM_HINTS: dict[str, str] = {
    "stack.missing": "Create stack.yaml with `description:` and a `services:` list.",
    "yaml.syntax": "Fix the syntax at that line (indentation, a missing colon, an unclosed quote).",
}
for _id, _summary in SITE_PROBLEMS.items():
    RULES.setdefault(_id, Rule(_id, Severity.ERROR, _summary, None))


class LintContext:
    """What rules share: the site plus caches computed at most once per lint run."""

    def __init__(self, site: Site, host_ports: bool = True, engine: bool = False) -> None:
        self.site = site
        #: check host ports against sockets open on this machine
        self.host_ports = host_ports
        #: may ask the Docker engine who holds a busy port (never with `validate --offline`)
        self.engine = engine
        self.env_problems: list[Finding] = []
        self._env_files: dict[Path, settings.EnvFile | None] = {}
        self._stack_env: dict[str, dict[str, str]] = {}
        self._service_env: dict[tuple[str, str], dict[str, str]] = {}
        self._resolved: dict[tuple[str, str], dict[str, Any]] = {}
        self._overlays: dict[Path, yamlio.YamlDoc | Finding] = {}
        #: for rules that share a computation (key: "<rule module>.<what>")
        self.cache: dict[str, object] = {}

    # ---- services ---------------------------------------------------------------------
    @cached_property
    def services(self) -> list[Service]:
        """Every service whose file parsed, enabled or not, in a stable order."""
        return [s for s in self.site.services() if s.doc is not None]

    def line(self, service: Service, *keys: str | int) -> int | None:
        """Line of `services.<id>.<keys…>` in the service's file."""
        return service.doc.line("services", service.id, *keys) if service.doc else 1

    def resolved(self, service: Service) -> dict[str, Any]:
        """The service's compose mapping, interpolated with the env Compose would use."""
        key = (service.stack, service.id)
        if key not in self._resolved:
            env = self.service_env(service)
            value = settings.interpolate_tree(service.compose, env)
            self._resolved[key] = value if isinstance(value, dict) else {}
        return self._resolved[key]

    @cached_property
    def views(self) -> list[View]:
        """Each service's base file, then its overlays: for rules an overlay can break."""
        out: list[View] = []
        for service in self.services:
            if service.doc is None:  # pragma: no cover - self.services are the parsed ones
                continue
            out.append(View(service, service.doc, service.compose, self.resolved(service)))
            for kind, path in sorted(service.overlays.items()):
                doc = self.overlay(path)
                if isinstance(doc, Finding):
                    continue
                data = doc.data if isinstance(doc.data, dict) else {}
                services = data.get("services")
                entry = services.get(service.id) if isinstance(services, dict) else None
                compose = entry if isinstance(entry, dict) else {}
                env = self.service_env(service)
                resolved = settings.interpolate_tree(compose, env)
                out.append(View(service, doc, compose, resolved, kind))
        return out

    # ---- env layers -------------------------------------------------------------------
    def env_file(self, path: Path | None) -> settings.EnvFile | None:
        """One env file, read once; a syntax error becomes an env.syntax finding."""
        if path is None:
            return None
        if path not in self._env_files:
            try:
                self._env_files[path] = settings.read_env(path)
            except BadInput as exc:
                self._env_files[path] = None
                self.env_problems.append(
                    Finding(
                        "env.syntax",
                        Severity.ERROR,
                        exc.message,
                        path,
                        exc.line,
                        hint=exc.hint,
                    )
                )
        return self._env_files[path]

    @cached_property
    def environ(self) -> dict[str, str]:
        """The process environment ComposeProject passes (with the absolute DATA_ROOT,
        SECRETS_DIR and HOMESTACK_PREFIX, always set): it wins over every env file."""
        layer = self.env_file(settings.layer_file(self.site.root))  # env.syntax, not raise
        return self.site.compose_environ(self.site._derived(settings.merge_layers([layer])))

    def _merge(self, paths: list[Path]) -> dict[str, str]:
        files = [self.env_file(path) for path in paths]
        return {**settings.merge_layers(files, self.environ), **self.environ}

    @cached_property
    def root_env(self) -> dict[str, str]:
        layer = settings.layer_file(self.site.root)
        return self._merge([layer] if layer else [])

    def stack_env(self, stack: Stack) -> dict[str, str]:
        """root → stack → every enabled service's layer (later wins, `${VAR}` in values
        expanded), then the process environment: what `docker compose --env-file …` sees."""
        if stack.id not in self._stack_env:
            self._stack_env[stack.id] = self._merge(self.site.env_files(stack))
        return self._stack_env[stack.id]

    def service_env(self, service: Service) -> dict[str, str]:
        """The stack's env; a disabled service is read as if it were enabled: its layer
        sits where `homestack enable` puts its line (its commented line, else last)."""
        key = (service.stack, service.id)
        if key not in self._service_env:
            stack = self.site.stacks[service.stack]
            if service.enabled:
                env = self.stack_env(stack)
            else:
                env = self._merge(self.layer_paths(service))
            self._service_env[key] = env
        return self._service_env[key]

    def layer_paths(self, service: Service) -> list[Path]:
        """The env files Compose reads for the service's stack, in order (the service's own
        among them, where `homestack enable` would put it when it is disabled)."""
        stack = self.site.stacks[service.stack]
        if service.enabled:
            return self.site.env_files(stack)
        names = [e.name for e in stack.listed if e.enabled or e.name == service.id]
        if service.id not in names:
            names.append(service.id)
        chosen = [stack.services[n] for n in dict.fromkeys(names) if n in stack.services]
        return self.site.env_files(stack, chosen)

    def set_by(self, service: Service, variable: str) -> tuple[Path, int] | None:
        """The env layer (and its line) the service's `variable` comes from: the last one
        Compose reads that sets it; None when none does (the process environment may)."""
        for path in reversed(self.layer_paths(service)):
            layer = self.env_file(path)
            if layer is not None and variable in layer.lines:
                return path, layer.lines[variable]
        return None

    # ---- other files ------------------------------------------------------------------
    def overlay(self, path: Path) -> yamlio.YamlDoc | Finding:
        """An overlay file parsed once, or the yaml.syntax finding it gives."""
        if path not in self._overlays:
            try:
                self._overlays[path] = yamlio.load(path)
            except BadInput as exc:
                self._overlays[path] = Finding(
                    "yaml.syntax", Severity.ERROR, exc.message, path, exc.line, hint=exc.hint
                )
        return self._overlays[path]

    @cached_property
    def base(self) -> yamlio.YamlDoc | Finding:
        return self.overlay(self.site.root / BASE_FILE)

    @cached_property
    def stack_docs(self) -> dict[str, yamlio.YamlDoc]:
        """Each stack.yaml with its line numbers (stack.yaml files are tiny)."""
        docs: dict[str, yamlio.YamlDoc] = {}
        for stack in self.site.stacks.values():
            try:
                docs[stack.id] = yamlio.load(stack.file)
            except BadInput:
                continue  # the site already reports it (yaml.syntax / stack.missing)
        return docs

    @cached_property
    def listening(self) -> dict[tuple[str, int], set[str]]:
        """(protocol, port) → local addresses with a socket listening on this machine."""
        from ..ports import listening_sockets

        return listening_sockets()

    @cached_property
    def container_ports(self) -> dict[tuple[str, int], set[tuple[str, str]]] | None:
        """(protocol, port) → {(project, service)} of running containers; None if unknown."""
        if not self.engine:
            return None
        from ..engine.backend import default_backend
        from ..errors import HomestackError

        try:
            holders = default_backend().port_holders()
        except HomestackError:
            return None  # no engine: the port check falls back to what /proc shows
        return {key: {(p, s) for p, s, _ in owners} for key, owners in holders.items()}


def problem_findings(site: Site) -> Iterator[Finding]:
    """What loading the site found (errors), each with a hint: its own, else the rule's."""
    for problem in site.all_problems():
        hint = problem.hint or _PROBLEM_HINTS.get(problem.rule, "See docs/lint-rules.md.")
        yield replace(problem, hint=hint)


#: findings sort errors first
ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
