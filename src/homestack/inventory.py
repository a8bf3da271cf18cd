"""`homestack ls`: stacks and services, enabled or not, GPU need, ports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .catalog import Service, Site
from .ports import parse_ports
from .settings import interpolate_tree


@dataclass(frozen=True)
class ServiceRow:
    stack: str
    service: str
    enabled: bool
    title: str
    gpu: str
    critical: bool
    ports: list[str]
    web: str | None
    image: str | None
    file: str


@dataclass(frozen=True)
class StackRow:
    stack: str
    description: str
    depends_on: list[str]
    enabled: int
    total: int


@dataclass
class Inventory:
    stacks: list[StackRow] = field(default_factory=list)
    services: list[ServiceRow] = field(default_factory=list)
    #: files of these stacks that could not be read fully (`homestack validate` shows them)
    problems: int = 0

    def to_data(self) -> dict[str, Any]:
        return {
            "stacks": [asdict(s) for s in self.stacks],
            "services": [asdict(s) for s in self.services],
            "problems": self.problems,
        }


def service_ports(service: Service, env: dict[str, str]) -> list[str]:
    raw = interpolate_tree(service.compose.get("ports") or [], env)
    bindings, bad = parse_ports(raw)
    return [b.label() for b in bindings] + [text for _, text in bad]


def inventory(site: Site, names: list[str] | None = None) -> Inventory:
    stacks, only = site.select(names)
    result = Inventory(problems=len(site.problems))
    for stack in stacks:
        result.problems += len(stack.problems)
        result.problems += sum(len(s.problems) for s in stack.services.values())
        env = site.stack_env(stack)
        listed = list(dict.fromkeys(e.name for e in stack.listed if e.name in stack.services))
        unlisted = sorted(set(stack.services) - set(listed))
        services = [stack.services[name] for name in listed + unlisted]
        if only is not None:
            services = [s for s in services if s in only]
        result.stacks.append(
            StackRow(
                stack.id,
                stack.meta.description,
                list(stack.meta.depends_on),
                len(stack.enabled),
                len(stack.services),
            )
        )
        for service in services:
            meta = service.meta
            web = f":{meta.web.port}{meta.web.path}" if meta and meta.web else None
            image = service.compose.get("image")
            result.services.append(
                ServiceRow(
                    stack.id,
                    service.id,
                    service.enabled,
                    service.title,
                    meta.gpu if meta else "?",
                    bool(meta and meta.critical),
                    service_ports(service, env),
                    web,
                    str(image) if image else None,
                    str(service.file.relative_to(site.root)),
                )
            )
    return result
