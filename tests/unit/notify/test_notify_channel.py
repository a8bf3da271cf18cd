"""The channel's promises with real Apprise posting json:// to a loopback receiver:
dedup, recovery only after a failure, quiet hours held then flushed, where `notify test`
went, `doctor`'s line when no channel is configured, and the ntfy default."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.deploy.secrets import generate
from homestack.models import SecretSpec
from homestack.notify import events
from homestack.notify.channel import Event, channel_urls, check_channel, flush, notify
from testkit.receiver import Receiver
from testkit.sites import copy_catalog

NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver()
    got.start()
    yield got
    got.stop()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    for key in ("DATA_ROOT", "SECRETS_DIR", "DOMAIN", "HOMESTACK_SITE", "TZ"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TZ", "UTC")
    root = copy_catalog(tmp_path / "site")
    (root / "secrets").mkdir(exist_ok=True)
    return Site.load(root)


def _use(site: Site, receiver: Receiver, env: str = "") -> Site:
    (site.secrets_dir / "homestack_notify_urls").write_text(
        f"json://127.0.0.1:{receiver.port}/hook\n"
    )
    if env:
        (site.root / ".env").write_text(env + "\n")
    return Site.load(site.root)


def test_a_firing_event_is_sent_once_until_repeat_and_its_recovery_once(
    site: Site, receiver: Receiver
) -> None:
    site = _use(site, receiver)
    fail = Event("backup:x", "Backup of x failed", "disk full", "failure")
    assert notify(site, fail, now=NOON).outcome == "sent"
    assert notify(site, fail, now=NOON + timedelta(hours=1)).outcome == "duplicate"
    assert notify(site, fail, now=NOON + timedelta(hours=25)).outcome == "sent"  # REPEAT
    back = Event("backup:x", "Backup of x works again", "", "success", resolved=True)
    assert notify(site, back, now=NOON + timedelta(hours=26)).outcome == "sent"
    assert notify(site, back, now=NOON + timedelta(hours=27)).outcome == "duplicate"
    never = Event("backup:y", "Backup of y works again", "", "success", resolved=True)
    assert notify(site, never, now=NOON).outcome == "duplicate"  # it never failed
    assert receiver.titles() == [
        "Backup of x failed",
        "Backup of x failed",
        "Backup of x works again",
    ]
    assert receiver.got[0].body["message"] == "disk full"


def test_quiet_hours_hold_events_until_the_first_run_after_them(
    site: Site, receiver: Receiver
) -> None:
    site = _use(site, receiver, "NOTIFY_QUIET_HOURS=22:00-07:00")
    night = datetime(2026, 12, 7, 3, 30, tzinfo=UTC)
    event = Event("doctor", "homestack doctor: 1 failure(s)", "- disk: full", "failure")
    assert notify(site, event, now=night).outcome == "held"
    assert flush(site, now=night) == []
    assert receiver.got == []
    sent = flush(site, now=night.replace(hour=7, minute=5))
    assert [d.outcome for d in sent] == ["sent"]
    assert receiver.titles() == ["homestack doctor: 1 failure(s)"]
    assert flush(site, now=night.replace(hour=8)) == []  # sent once


def test_a_bad_quiet_hours_setting_never_fails_the_operation(
    site: Site, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    site = _use(site, receiver, "NOTIFY_QUIET_HOURS=late")
    assert events.send(site, "k", "t", "b") is None
    assert "NOTIFY_QUIET_HOURS='late'" in caplog.text
    assert run(["--site", str(site.root), "notify", "flush"]) == 2  # the command says so


def test_notify_test_says_where_it_went_without_the_secret(
    site: Site, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    (site.secrets_dir / "homestack_notify_urls").write_text(
        f"json://user:hunter2@127.0.0.1:{receiver.port}/hook\n"
    )
    assert run(["--site", str(site.root), "notify", "test"]) == 0
    out = capsys.readouterr().out
    assert f"127.0.0.1:{receiver.port}/hook" in out and "sent" in out
    assert "hunter2" not in out
    assert receiver.titles() == ["homestack: test notification"]


def test_notify_test_fails_for_a_channel_that_is_down(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    down = Receiver()
    port = down.start()
    down.stop()
    (site.secrets_dir / "homestack_notify_urls").write_text(f"json://127.0.0.1:{port}/\n")
    assert run(["--site", str(site.root), "notify", "test"]) == 1
    assert "failed" in capsys.readouterr().out


def test_doctor_line_says_when_no_channel_is_configured(site: Site) -> None:
    check = check_channel(site)  # ntfy is on, but its token was never made
    assert check.status == "warn"
    assert "no notification channel" in check.detail
    assert "homestack_notify_urls" in (check.fix or "")
    assert run(["--site", str(site.root), "notify", "test"]) == 2


def test_the_default_channel_is_the_catalogs_ntfy_topic(site: Site) -> None:
    token = generate(SecretSpec("publisher_token", length=29, prefix="tk_"))
    assert token.startswith("tk_") and len(token) == 32
    (site.secrets_dir / "ntfy_publisher_token").write_text(token)
    urls, source = channel_urls(site)
    assert urls == [f"ntfy://{token}@127.0.0.1:2586/homestack"]
    assert "ntfy" in source
    assert check_channel(site).status == "ok"


def test_update_events_for_issue_19_are_sent_once_per_version(
    site: Site, receiver: Receiver
) -> None:
    site = _use(site, receiver)
    events.update_available(site, "jellyfin", "10.10.7", "10.11.0")
    events.update_available(site, "jellyfin", "10.10.7", "10.11.0")
    events.update_rolled_back(site, "jellyfin", "10.11.0", "10.10.7", "health check failed")
    assert receiver.titles() == [
        "Update available: jellyfin 10.11.0",
        "Update of jellyfin to 10.11.0 rolled back",
    ]
    state = json.loads((site.data_root / ".homestack/notify/state.json").read_text())
    assert state["pending"] == []


def test_the_timer_runs_notify_check_whether_or_not_the_backups_worked(site: Site) -> None:
    from homestack.backup.timer import render_cron, render_systemd

    service = next(v for k, v in render_systemd(site).items() if k.endswith(".service"))
    assert "ExecStopPost=" in service and service.rstrip().count("notify check") == 1
    line = next(iter(render_cron(site).values())).splitlines()[-1]
    assert "prune --all; " in line and line.index("prune --all") < line.index("notify check")


def test_alerts_say_when_alertmanager_does_not_answer_and_refuse_a_bad_duration(
    site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    down = Receiver()
    port = down.start()
    down.stop()
    monkeypatch.setenv("ALERTMANAGER_URL", f"http://127.0.0.1:{port}")
    assert run(["--site", str(site.root), "alerts"]) == 1
    err = capsys.readouterr().err
    assert "Alertmanager does not answer" in err and "Traceback" not in err
    assert run(["--site", str(site.root), "alerts", "silence", "grafana", "--for", "2x"]) == 2
    assert "--for '2x' is not a duration" in capsys.readouterr().err
    assert run(["--site", str(site.root), "alerts", "silence", "nosuch", "--for", "2h"]) == 2


def test_a_backup_older_than_the_daily_schedule_is_notified_once_and_its_catch_up(
    site: Site, receiver: Receiver
) -> None:
    from homestack.backup_record import last_path

    site = _use(site, receiver)
    record = last_path(site, "grafana")
    record.parent.mkdir(parents=True, exist_ok=True)
    old = (NOON - timedelta(days=2)).isoformat()
    record.write_text(
        json.dumps({"service": "grafana", "ok": True, "time": old, "last_success": old})
    )
    events.backup_age_outcome(site, ["grafana", "loki"], now=NOON)  # loki: never backed up
    events.backup_age_outcome(site, ["grafana"], now=NOON + timedelta(hours=1))
    assert receiver.titles() == ["The newest backup of grafana is too old"]
    fresh = (NOON + timedelta(hours=2)).isoformat()
    record.write_text(
        json.dumps({"service": "grafana", "ok": True, "time": fresh, "last_success": fresh})
    )
    events.backup_age_outcome(site, ["grafana"], now=NOON + timedelta(hours=3))
    assert receiver.titles()[-1] == "Backups of grafana are current again"
    assert len(receiver.got) == 2


def test_the_disk_threshold_is_notified_from_the_real_filesystem(
    site: Site, receiver: Receiver
) -> None:
    site = _use(site, receiver)
    assert events.disk_outcome(site, percent=0) is not None  # any disk is 0 % full or more
    assert receiver.titles()[0].startswith("The disk holding DATA is ")
    events.disk_outcome(site, percent=101)  # below the threshold: recovered
    assert receiver.titles()[1] == "Disk space is fine again"


def test_install_secrets_makes_ntfys_publisher_token_in_ntfys_format(site: Site) -> None:
    import re

    from homestack.deploy.secrets import ensure_secrets

    report = ensure_secrets(site, [site.service("ntfy")])
    token = (site.secrets_dir / "ntfy_publisher_token").read_text()
    assert re.fullmatch(r"tk_[A-Za-z0-9]{29}", token), token
    assert "29 alnum characters after tk_" in json.dumps(report.to_data())
    urls, _ = channel_urls(Site.load(site.root))
    assert urls == [f"ntfy://{token}@127.0.0.1:2586/homestack"]


def test_the_ntfy_default_publishes_with_the_token_as_ntfy_expects(
    site: Site, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    token = "tk_" + "N" * 29
    (site.secrets_dir / "ntfy_publisher_token").write_text(token)
    # the service's own layer, where Compose reads the port it publishes from
    (site.root / "essentials-stack/services/ntfy/.env").write_text(f"NTFY_PORT={receiver.port}\n")
    assert run(["--site", str(site.root), "notify", "test"]) == 0
    assert token not in capsys.readouterr().out
    [post] = receiver.got
    assert post.authorization == f"Bearer {token}"
    assert post.body["topic"] == "homestack"
    assert post.body["title"] == "homestack: test notification"
