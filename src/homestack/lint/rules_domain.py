"""DOMAIN as a cookie domain: the sign-on refuses a public suffix or a name without a dot
(the check itself is homestack.domain's, which generate runs too)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from .. import settings
from ..domain import SUGGESTED_DOMAIN, cookie_domain_problem, site_domain
from ..findings import Finding, Severity
from .core import LintContext, rule


@rule(
    "env.domain-cookie",
    "DOMAIN has a dot and is not a public suffix: Authelia refuses it as its cookie domain",
)
def env_domain_cookie(context: LintContext) -> Iterator[Finding]:
    """The root DOMAIN, as generate reads it (unset: the default), checked as Authelia's
    session validator checks its cookie domain."""
    domain = site_domain(context.root_env)
    problem = cookie_domain_problem(domain) if domain else None
    if problem is None:
        return
    layer = settings.layer_file(context.site.root)
    from_env = "DOMAIN" in os.environ
    env_file = context.env_file(layer) if layer is not None and not from_env else None
    line = env_file.lines.get("DOMAIN") if env_file is not None else None
    where = "the environment" if from_env else (layer.name if layer else "the default")
    yield Finding(
        "env.domain-cookie",
        Severity.ERROR,
        f"DOMAIN={domain!r} (from {where}) {problem}: Authelia refuses it as its session "
        "cookie domain and restart-loops, so every signed-on web UI answers 502",
        layer if layer is not None and not from_env else context.site.root,
        line,
        None,
        f"Set DOMAIN to a name under it that you control, e.g. DOMAIN={SUGGESTED_DOMAIN} "
        "(or a subdomain of a domain you own), in the root .env.",
    )
