"""Config files generated from the catalog: proxy routes, sign-on, monitoring, start page.

`generate_all(site, services)` writes every file the enabled services (and the ones being
brought up) mount, under `DATA/config/{service}/`, atomically and only when the content
changed; `up` calls it after secrets and DATA, `homestack generate` on its own.
"""

from __future__ import annotations

from .run import GenerateReport, generate_all

__all__ = ["GenerateReport", "generate_all"]
