"""Which overlays a stack gets on this host. Replaced by the gpu module's verdict."""

from __future__ import annotations

from .catalog import Site, Stack


def overlays_for(site: Site, stack: Stack) -> dict[str, list[str]]:
    """Overlay kinds per enabled service: GPU vendor the host can serve, `iot` when set."""
    env = site.stack_env(stack)
    iot = bool(env.get("IOT_PARENT") and env.get("IOT_SUBNET"))
    chosen: dict[str, list[str]] = {}
    for service in stack.enabled:
        kinds = []
        if iot and "iot" in service.overlays:
            kinds.append("iot")
        chosen[service.id] = kinds
    return chosen
