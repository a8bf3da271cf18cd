"""DOMAIN as a cookie domain: the sign-on refuses a public suffix or a name without a dot."""

from __future__ import annotations

import functools
import ipaddress
import os
from collections.abc import Iterator
from typing import Any

from .. import settings
from .core import Finding, LintContext, Severity, rule

#: the default `.env.example` ships; a private name under the special-use home.arpa
SUGGESTED_DOMAIN = "lab.home.arpa"


@functools.cache
def _suffix_list() -> Any:
    """The Public Suffix List bundled with the `publicsuffixlist` package (no network)."""
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def cookie_domain_problem(domain: str) -> str | None:
    """Why Authelia would refuse `domain` as its session cookie domain, or None.

    Authelia 4.39 (internal/configuration/validator/session.go, validateSessionDomainName)
    refuses a domain with no period ("must have at least a single period or be an ip
    address") and, through isCookieDomainAPublicSuffix (util.go, weppos/publicsuffix-go),
    a domain that is itself on the Public Suffix List ("part of the special public suffix
    list"). Either is a fatal configuration error: Authelia exits and restart-loops."""
    try:
        ipaddress.ip_address(domain)
    except ValueError:
        pass
    else:
        return None  # Authelia takes an address (the proxy would need its own names)
    if "." not in domain:
        return "has no dot"
    if _suffix_list().is_public(domain.lower()):
        return "is a public suffix (on the Public Suffix List)"
    return None


@rule(
    "env.domain-cookie",
    "DOMAIN has a dot and is not a public suffix: Authelia refuses it as its cookie domain",
)
def env_domain_cookie(context: LintContext) -> Iterator[Finding]:
    """The root DOMAIN, as generate reads it (unset: the default), checked as Authelia's
    session validator checks its cookie domain."""
    from ..generate.view import site_domain

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
