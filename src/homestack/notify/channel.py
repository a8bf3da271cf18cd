"""One channel for homestack's own events, through Apprise.

Where: the Apprise URLs in `secrets/homestack_notify_urls` (one a line, `#` comments), else
the catalog's ntfy topic when ntfy is enabled and its publisher token exists. Apprise
(imported only when something is sent) reaches ntfy, email, Gotify, Telegram, Matrix …

What the channel promises:
- deduplicated: an event `key` (e.g. `backup:jellyfin`) that is firing is sent once, and
  again only after REPEAT; its recovery is sent once, and only if the failure was;
- quiet hours (NOTIFY_QUIET_HOURS=22:00-07:00 in .env): events are held and sent by the
  first homestack run that notifies after them (or `homestack notify flush`);
- a channel that fails never fails the operation: the failure is logged and the event kept
  for that channel, retried by the next run (at most MAX_ATTEMPTS times).

State (what was sent, what waits) lives in DATA/.homestack/notify/state.json (0600).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import BadInput

if TYPE_CHECKING:
    from ..catalog import Site
    from ..observe.checks import Check

log = logging.getLogger(__name__)

URLS_SECRET = "homestack_notify_urls"
STATE_DIR = ".homestack/notify"
REPEAT = timedelta(hours=24)
MAX_ATTEMPTS = 20
Level = Literal["info", "success", "warning", "failure"]
Outcome = Literal["sent", "partly", "failed", "held", "duplicate", "no-channel"]


@dataclass(frozen=True)
class Event:
    """Something a person should hear about. `key` names the condition (dedup); `resolved`
    says it is over (a recovery), sent only when its failure was."""

    key: str
    title: str
    body: str
    level: Level = "warning"
    resolved: bool = False

    def to_data(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Sent:
    channel: str  # the URL with its secrets masked
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class Delivery:
    """What happened to one event: sent (to which channels), held or dropped, and why."""

    event: Event
    outcome: Outcome
    channels: list[Sent] = field(default_factory=list)
    reason: str = ""

    def to_data(self) -> dict[str, Any]:
        return {
            "event": self.event.to_data(),
            "outcome": self.outcome,
            "channels": [asdict(c) for c in self.channels],
            "reason": self.reason,
        }


# ---- where ---------------------------------------------------------------------------------


def urls_file(site: Site) -> Path:
    return site.secrets_dir / URLS_SECRET


def _ntfy_default(site: Site) -> str | None:
    """ntfy://TOKEN@HOST:PORT/TOPIC for the catalog's ntfy, when it is on and has a token."""
    from ..generate.alerting import DEFAULT_TOPIC, publisher_token

    try:
        service = site.service("ntfy")
    except BadInput:
        return None
    if not service.enabled:
        return None
    token = publisher_token(site.secrets_dir)
    if token is None:
        return None
    env = site.stack_env(site.stacks[service.stack])
    host = (env.get("BIND_ADDRESS") or "127.0.0.1").strip()
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - a bind address, read not bound
        host = "127.0.0.1"
    port = (env.get("NTFY_PORT") or "2586").strip()
    topic = (env.get("NTFY_TOPIC") or DEFAULT_TOPIC).strip()
    return f"ntfy://{token}@{host}:{port}/{topic}"


def channel_urls(site: Site) -> tuple[list[str], str]:
    """The Apprise URLs, and where they came from (for `doctor` and `notify test`)."""
    path = urls_file(site)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(
            f"cannot read {path}: {exc}",
            f"Make it a text file with one Apprise URL a line, readable by you (chmod 600 {path}).",
            file=path,
        ) from None
    if text is not None:
        urls = [
            line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
        ]
        return urls, str(path)
    default = _ntfy_default(site)
    if default is not None:
        return [default], "the catalog's ntfy (secrets/ntfy_publisher_token)"
    return [], ""


def _masked(url: str) -> str:
    """The URL with its secrets hidden, as Apprise prints it; never the token itself."""
    import apprise

    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        return url.split("://", 1)[0] + "://(not a valid Apprise URL)"
    shown = str(plugin.url(privacy=True))  # type: ignore[no-untyped-call]
    return shown.split("?", 1)[0]  # the options say nothing about where it went


def _id(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


# ---- when ----------------------------------------------------------------------------------


def quiet_hours(site: Site) -> tuple[time, time] | None:
    raw = site.root_env.get("NOTIFY_QUIET_HOURS", "").strip()
    if not raw:
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in raw.split("-"))
    except ValueError:
        raise BadInput(
            f"NOTIFY_QUIET_HOURS={raw!r} is not two times HH:MM-HH:MM",
            "e.g. NOTIFY_QUIET_HOURS=22:00-07:00 in .env (empty: no quiet hours).",
            file=site.root / ".env",
        ) from None
    return start, end


def is_quiet(hours: tuple[time, time] | None, now: datetime) -> bool:
    if hours is None:
        return False
    start, end = hours
    clock = now.astimezone().time().replace(tzinfo=None)
    if start <= end:
        return start <= clock < end
    return clock >= start or clock < end  # across midnight


# ---- state ---------------------------------------------------------------------------------


def _state_path(site: Site) -> Path:
    return site.data_root / STATE_DIR / "state.json"


@contextlib.contextmanager
def _state(site: Site) -> Iterator[dict[str, Any]]:
    """The state, locked against another homestack run for the whole change."""
    path = _state_path(site)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        data.setdefault("keys", {})
        data.setdefault("pending", [])
        yield data
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(out, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1)
        tmp.replace(path)
    finally:
        os.close(fd)


# ---- send ----------------------------------------------------------------------------------


def _send_one(url: str, event: Event) -> Sent:
    import apprise

    masked = _masked(url)
    kinds = {
        "info": apprise.NotifyType.INFO,
        "success": apprise.NotifyType.SUCCESS,
        "warning": apprise.NotifyType.WARNING,
        "failure": apprise.NotifyType.FAILURE,
    }
    sender = apprise.Apprise()
    if not sender.add(url):
        return Sent(masked, False, "not a valid Apprise URL")
    try:
        # Apprise sends nothing without a body: a title-only event repeats its title
        body = event.body or event.title
        done = sender.notify(title=event.title, body=body, notify_type=kinds[event.level])
    except Exception as exc:  # a plugin that raises must not fail the operation either
        return Sent(masked, False, f"{type(exc).__name__}: {exc}")
    return Sent(masked, bool(done), None if done else "the channel refused or did not answer")


def _deliver(urls: list[str], event: Event, *, quiet: bool = False) -> list[Sent]:
    sent = []
    for url in urls:
        result = _send_one(url, event)
        if not result.ok and not quiet:
            log.warning("notification %r to %s failed: %s", event.key, result.channel, result.error)
        sent.append(result)
    return sent


def _due(record: dict[str, Any] | None, event: Event, now: datetime) -> str | None:
    """Why the event is not sent (a duplicate), or None when it is due."""
    if event.resolved:
        if record is None or record.get("state") != "firing":
            return "nothing to recover from"
        return None
    if record is not None and record.get("state") == "firing":
        last = datetime.fromisoformat(str(record.get("sent")))
        if now - last < REPEAT:
            return f"already sent at {record.get('sent')}"
    return None


def _retry_pending(data: dict[str, Any], urls: list[str], now: datetime) -> list[Delivery]:
    by_id = {_id(url): url for url in urls}
    keep, out = [], []
    for item in data["pending"]:
        event = Event(**item["event"])
        targets = [by_id[i] for i in item["channels"] if i in by_id]
        if not targets:
            continue  # that channel was removed since: nothing to retry
        sent = _deliver(targets, event)
        failed = [_id(url) for url, s in zip(targets, sent, strict=True) if not s.ok]
        attempts = int(item.get("attempts", 0)) + 1
        if failed and attempts < MAX_ATTEMPTS:
            keep.append({**item, "channels": failed, "attempts": attempts})
        out.append(Delivery(event, "sent" if not failed else "failed", sent, "retried"))
    data["pending"] = keep
    return out


def notify(site: Site, event: Event, *, now: datetime | None = None) -> Delivery:
    """Send `event` to the site's channel, deduplicated and outside quiet hours; retries
    what earlier runs could not send. Never raises for a channel that fails (only for a
    settings mistake: BadInput)."""
    now = now or datetime.now(UTC)
    urls, _source = channel_urls(site)
    hours = quiet_hours(site)
    if not urls:
        return Delivery(event, "no-channel", reason="no channel is configured")
    with _state(site) as data:
        quiet = is_quiet(hours, now)
        if not quiet:
            _retry_pending(data, urls, now)
        why = _due(data["keys"].get(event.key), event, now)
        if why is not None:
            return Delivery(event, "duplicate", reason=why)
        data["keys"][event.key] = {
            "state": "resolved" if event.resolved else "firing",
            "sent": now.isoformat(),
        }
        if quiet:
            data["pending"].append(
                {"event": event.to_data(), "channels": [_id(u) for u in urls], "attempts": 0}
            )
            return Delivery(event, "held", reason="quiet hours")
        sent = _deliver(urls, event)
        failed = [_id(url) for url, s in zip(urls, sent, strict=True) if not s.ok]
        if failed:
            data["pending"].append({"event": event.to_data(), "channels": failed, "attempts": 1})
        outcome: Outcome = "sent"
        if failed:
            outcome = "failed" if len(failed) == len(urls) else "partly"
        return Delivery(event, outcome, sent, "kept to retry" if failed else "")


def flush(site: Site, *, now: datetime | None = None) -> list[Delivery]:
    """Send what quiet hours held or a down channel missed (outside quiet hours)."""
    now = now or datetime.now(UTC)
    urls, _source = channel_urls(site)
    if not urls or is_quiet(quiet_hours(site), now):
        return []
    with _state(site) as data:
        return _retry_pending(data, urls, now)


def send_test(site: Site) -> list[Sent]:
    """`homestack notify test`: one message to every channel, no dedup, no quiet hours."""
    urls, source = channel_urls(site)
    if not urls:
        raise BadInput(
            "no notification channel is configured",
            f"Enable ntfy (`homestack enable ntfy && homestack up essentials`) or put Apprise "
            f"URLs, one a line, in {urls_file(site)} (docs/alerts.md).",
        )
    event = Event(
        "test",
        "homestack: test notification",
        f"This channel works. Sent by `homestack notify test` from {site.root} "
        f"(channels from {source}).",
        "info",
    )
    return _deliver(urls, event, quiet=True)  # the command shows each failure itself


def check_channel(site: Site) -> Check:
    """`doctor`'s line: is there a channel for homestack's events at all?"""
    from ..errors import HomestackError
    from ..observe.checks import ok, warn

    try:
        urls, source = channel_urls(site)
    except HomestackError as exc:
        return warn("notify", "notify channel", exc.message, exc.hint)
    if not urls:
        return warn(
            "notify",
            "notify channel",
            "no notification channel is configured: a failed backup reaches nobody",
            f"Enable ntfy (`homestack enable ntfy && homestack up essentials`) or put Apprise "
            f"URLs, one a line, in {urls_file(site)}; then `homestack notify test` "
            "(docs/alerts.md).",
        )
    return ok("notify", "notify channel", f"{len(urls)} channel(s) from {source}")
