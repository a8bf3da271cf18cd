"""Moved to testkit.observesites (kept importable for tests written against the old name)."""

from testkit.observesites import *  # noqa: F403
from testkit.observesites import container_state, create_networks, start, wait_for, write_site

__all__ = ["container_state", "create_networks", "start", "wait_for", "write_site"]
