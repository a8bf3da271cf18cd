"""The only code that talks to Docker: the Compose v2 CLI and the Engine API (docker SDK).

Operations go through a `Backend` (engine.backend: `ComposeBackend`, or `SwarmBackend` in
swarm mode; `swarm_backend.backend_for(site)` picks it) and read containers as one model
(`engine.model.Container`). Cheap to import: the SDK loads only in the calls that need it.
"""

from .backend import Backend, ComposeBackend, default_backend
from .compose import ComposeProject, compose_version, require_compose
from .model import Container

__all__ = [
    "Backend",
    "ComposeBackend",
    "ComposeProject",
    "Container",
    "compose_version",
    "default_backend",
    "require_compose",
]
