"""Moved to testkit.upsites (kept importable for tests written against the old name)."""

from testkit.upsites import *  # noqa: F403
from testkit.upsites import write_site

__all__ = ["write_site"]
