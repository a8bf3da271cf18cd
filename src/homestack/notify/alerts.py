"""Firing alerts and silences, from Alertmanager's API v2 (`homestack alerts`)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import BadInput, OperationFailed

if TYPE_CHECKING:
    from ..catalog import Site

TIMEOUT = 10.0
_DURATION = re.compile(r"^(\d+)([mhd])$")


@dataclass(frozen=True)
class Alert:
    name: str
    service: str
    stack: str
    severity: str
    state: str  # active, suppressed
    since: str
    summary: str
    silenced_by: list[str] = field(default_factory=list)
    inhibited_by: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: str  # service="jellyfin"
    state: str  # active, pending, expired
    ends: str
    comment: str


@dataclass(frozen=True)
class AlertsReport:
    url: str
    alerts: list[Alert]
    silences: list[Silence]

    def to_data(self) -> dict[str, Any]:
        return {
            "alertmanager": self.url,
            "alerts": [asdict(a) for a in self.alerts],
            "silences": [asdict(s) for s in self.silences],
        }


def alertmanager_url(site: Site) -> str:
    """ALERTMANAGER_URL, else the published port on this host."""
    env = site.root_env
    if url := env.get("ALERTMANAGER_URL", "").strip():
        return url.rstrip("/")
    host = "127.0.0.1"  # its port is published on loopback only (docs/security.md)
    try:
        service = site.service("alertmanager")
        env = site.stack_env(site.stacks[service.stack])
    except BadInput:
        pass
    port = (env.get("ALERTMANAGER_PORT") or "9093").strip()
    return f"http://{host}:{port}"


def _call(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - http(s) URL from the site's settings
        url + path,
        data=data,
        method="POST" if body is not None else "GET",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace").strip()[:300]
        raise OperationFailed(
            f"Alertmanager at {url} refused {path}: HTTP {exc.code} {detail}",
            "Check the service name and duration; `homestack logs alertmanager` says more.",
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OperationFailed(
            f"Alertmanager does not answer at {url} ({reason})",
            "Is it enabled and up (`homestack status alertmanager`)? Set ALERTMANAGER_URL "
            "in .env when it listens elsewhere.",
        ) from None


def _alert(raw: dict[str, Any]) -> Alert:
    labels = raw.get("labels") or {}
    status = raw.get("status") or {}
    return Alert(
        name=str(labels.get("alertname", "")),
        service=str(labels.get("service", "")),
        stack=str(labels.get("stack", "")),
        severity=str(labels.get("severity", "")),
        state=str(status.get("state", "")),
        since=str(raw.get("startsAt", "")),
        summary=str((raw.get("annotations") or {}).get("summary", "")),
        silenced_by=list(status.get("silencedBy") or []),
        inhibited_by=list(status.get("inhibitedBy") or []),
    )


def _silence(raw: dict[str, Any]) -> Silence:
    parts = []
    for m in raw.get("matchers") or []:
        op = ("=" if m.get("isEqual", True) else "!=") if not m.get("isRegex") else "=~"
        parts.append(f'{m.get("name")}{op}"{m.get("value")}"')
    return Silence(
        id=str(raw.get("id", "")),
        matchers=", ".join(parts),
        state=str((raw.get("status") or {}).get("state", "")),
        ends=str(raw.get("endsAt", "")),
        comment=str(raw.get("comment", "")),
    )


def list_alerts(site: Site, *, url: str | None = None) -> AlertsReport:
    base = url or alertmanager_url(site)
    alerts = [_alert(a) for a in _call(base, "/api/v2/alerts") or []]
    silences = [_silence(s) for s in _call(base, "/api/v2/silences") or []]
    silences = [s for s in silences if s.state != "expired"]
    return AlertsReport(base, sorted(alerts, key=lambda a: (a.stack, a.service, a.name)), silences)


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if match is None or int(match[1]) == 0:
        raise BadInput(
            f"--for {text!r} is not a duration",
            "Use minutes, hours or days: 30m, 2h, 1d.",
        )
    unit = {"m": "minutes", "h": "hours", "d": "days"}[match[2]]
    return timedelta(**{unit: int(match[1])})


def silence(
    site: Site,
    service: str,
    duration: str,
    *,
    comment: str = "",
    url: str | None = None,
    now: datetime | None = None,
) -> Silence:
    """Silence every alert with service=SERVICE for `duration` (e.g. 2h)."""
    length = parse_duration(duration)
    if url is None:
        site.service(service)  # an unknown name is bad input (with a did-you-mean)
    base = url or alertmanager_url(site)
    start = now or datetime.now(UTC)
    end = start + length
    body = {
        "matchers": [{"name": "service", "value": service, "isRegex": False, "isEqual": True}],
        "startsAt": start.isoformat(),
        "endsAt": end.isoformat(),
        "createdBy": "homestack",
        "comment": comment or f"homestack alerts silence {service} --for {duration}",
    }
    answer = _call(base, "/api/v2/silences", body) or {}
    return Silence(
        str(answer.get("silenceID", "")),
        f'service="{service}"',
        "active",
        end.isoformat(timespec="seconds"),
        str(body["comment"]),
    )
