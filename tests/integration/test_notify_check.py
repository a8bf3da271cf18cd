"""`homestack notify check`, as the nightly timer runs it: the real doctor, the real disk, the
backup records; Apprise posts json:// to a loopback receiver."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homestack.backup_record import last_path
from homestack.catalog import Site
from homestack.cli.app import run
from homestack.stackfile import toggle
from testkit.receiver import Receiver
from testkit.sites import copy_catalog

pytestmark = pytest.mark.integration


def test_notify_check_reports_an_old_backup_once_unless_prometheus_watches_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    docker_engine: str,
    engine_cleanup: str,
) -> None:
    for key in ("DATA_ROOT", "SECRETS_DIR", "DOMAIN", "HOMESTACK_SITE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOMESTACK_PREFIX", engine_cleanup)
    site = Site.load(copy_catalog(tmp_path / "site"))
    receiver = Receiver()
    receiver.start()
    try:
        site.secrets_dir.mkdir(exist_ok=True)
        (site.secrets_dir / "homestack_notify_urls").write_text(
            f"json://127.0.0.1:{receiver.port}/\n"
        )
        record = last_path(site, "grafana")
        record.parent.mkdir(parents=True)
        old = "2026-01-01T03:30:00+00:00"
        record.write_text(json.dumps({"service": "grafana", "ok": True, "time": old,
                                      "last_success": old}))  # fmt: skip
        root = str(site.root)
        # Prometheus and Alertmanager are on: BackupTooOld is theirs, not sent twice
        assert run(["--site", root, "notify", "check", "--json"]) == 0
        capsys.readouterr()
        assert "The newest backup of grafana is too old" not in receiver.titles()

        toggle(site, ["alertmanager"], enable=False)
        assert run(["--site", root, "notify", "check", "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert any(d["event"]["key"] == "backup-age:grafana" for d in shown)
        assert receiver.titles().count("The newest backup of grafana is too old") == 1
        assert run(["--site", root, "notify", "check"]) == 0  # the next night: not again
        assert receiver.titles().count("The newest backup of grafana is too old") == 1
    finally:
        receiver.stop()
