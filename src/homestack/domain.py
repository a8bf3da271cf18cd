"""DOMAIN, the name every web UI is served under ({subdomain}.DOMAIN): its default, how
the proxy reads it, and whether sign-on (Authelia) takes it as its session cookie domain.
generate refuses a DOMAIN it cannot serve and lint reports the same (env.domain-cookie),
both from here."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping
from typing import Any

#: the default `.env.example` ships; a private name under the special-use home.arpa
DEFAULT_DOMAIN = "lab.home.arpa"
#: what a hint suggests instead of a DOMAIN the sign-on refuses
SUGGESTED_DOMAIN = DEFAULT_DOMAIN


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


def site_domain(env: Mapping[str, str]) -> str:
    """DOMAIN as the proxy serves it: unset or empty is lab.home.arpa; no dots around it."""
    return (env.get("DOMAIN") or DEFAULT_DOMAIN).strip().strip(".")
