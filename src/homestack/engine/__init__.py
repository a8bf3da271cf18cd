"""The only code that talks to Docker: the Compose v2 CLI and the Engine API (docker SDK)."""

from .compose import ComposeProject, compose_version, require_compose

__all__ = ["ComposeProject", "compose_version", "require_compose"]
