"""The socket proxy's HAProxy config: the Docker API it lets through, by method and path.

The image's own switches work per API section: `CONTAINERS=1` opens every GET under
/containers, `/containers/{id}/archive` (any file of any container: its secrets, Caddy's CA
key) and `/containers/{id}/export` (its whole filesystem) included. homestack writes this
allow-list instead and runs the image's HAProxy on it. Only what the proxy's clients read
passes: Dozzle (list, inspect, logs, stats, events), Alloy (list, networks list, logs),
cAdvisor (info, version, inspect), Diun (list, images list and inspect). Everything else,
every method but GET and HEAD, any path with `..`, answers 403.
"""

from __future__ import annotations

from .files import GeneratedFile
from .view import CatalogView

#: the paths allowed (GET/HEAD only), after URL decoding, with or without the API version
_ID = r"[a-zA-Z0-9][a-zA-Z0-9_.-]*"
_IMAGE = r"[a-zA-Z0-9][a-zA-Z0-9_.:@/-]*"
ALLOWED_PATHS = (
    r"/_ping",
    r"/version",
    r"/info",
    r"/events",
    r"/containers/json",
    rf"/containers/{_ID}/(json|logs|stats)",
    r"/networks",
    r"/images/json",
    rf"/images/{_IMAGE}/json",
)

CONFIG = f"""\
# Written by homestack (`homestack generate`); edits are replaced. See docs/security.md.
# The Docker API as the socket proxy's clients need it, read-only: every request that does
# not match the allow-list below answers 403.
global
    log stdout format raw daemon warning

defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout http-request 10s
    timeout connect 10s
    # a client following events or logs may stay quiet for hours; the header has 10s
    timeout client 24h
    timeout server 10m
    timeout http-keep-alive 10s

backend docker
    server engine "${{SOCKET_PATH}}"

backend docker-streams
    # events, logs and stats follow a stream that may stay quiet for long
    timeout server 24h
    server engine "${{SOCKET_PATH}}"

frontend api
    bind "${{HOMESTACK_PROXY_BIND}}"
    acl read method GET HEAD
    acl climbs path,url_dec -m sub ..
    acl allowed path,url_dec -m reg -i ^(/v[0-9.]+)?({"|".join(ALLOWED_PATHS)})$
    acl streams path,url_dec -m reg -i ^(/v[0-9.]+)?(/events|/containers/[^/]+/(logs|stats))$
    http-request deny deny_status 403 unless read
    http-request deny deny_status 403 if climbs
    http-request deny deny_status 403 unless allowed
    use_backend docker-streams if streams
    default_backend docker
"""


def generate(view: CatalogView) -> list[GeneratedFile]:
    path = view.config_dir("socket-proxy") / "haproxy.cfg"
    return [GeneratedFile("socket-proxy", path, CONFIG)]
