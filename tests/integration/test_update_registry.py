"""`outdated`, `update`, `lock`, `history` and `rollback` against a real registry (Debian's
docker-registry on a loopback port) and a real engine, restic and Compose.

Stand-in images are pushed under one name with tags 1.0.0, 1.0.1, 1.1.0, 2.0.0, a 1.2.0
whose health check fails and a 1.3.0 that rewrites its data on start then fails (see
testkit.registry). They are removed locally after the push, so every update pulls.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from homestack.catalog import Site
from homestack.cli.app import run
from homestack.engine.compose import ComposeProject
from homestack.errors import OperationFailed
from testkit.backupsites import manifest
from testkit.receiver import Receiver
from testkit.registry import LocalRegistry, docker, registry, remove_local_images

pytestmark = pytest.mark.integration
__all__ = ["registry"]

SERVICE = """services:
  app:
    x-homestack:
      title: App
      description: A stand-in for the update tests.
      backup:
        consistency: stop
{meta}
    # pinned: homestack update rewrites the tag below and keeps this comment
    image: {image}   # trailing comment stays too
    stop_grace_period: 2s
    volumes:
      - tst_app_data:/data
    labels:
      homestack.test: "1"

volumes:
  tst_app_data:
    name: ${{HOMESTACK_PREFIX:-}}tst_app_data
    driver: local
    driver_opts:
      type: none
      o: bind
      device: ${{DATA_ROOT:?}}/app
"""
BASE = "networks:\n  upd-test:\n    name: ${HOMESTACK_PREFIX:-}upd-test\n"


@dataclass
class UpdateSite:
    root: Path
    prefix: str

    @property
    def file(self) -> Path:
        return self.root / "tst-stack" / "services" / "app.docker-compose.yaml"

    @property
    def data(self) -> Path:
        return self.root / "DATA" / "app"

    def cli(self, *args: str) -> int:
        return run(["--site", str(self.root), *args])

    def lock(self) -> dict[str, dict[str, str]]:
        path = self.root / "homestack.lock"
        return json.loads(path.read_text())["services"] if path.exists() else {}

    def container(self) -> dict[str, object]:
        name = docker(
            "ps", "-a", "--filter", f"name=^/{self.prefix}tst-app-", "--format", "{{.Names}}"
        ).split()
        assert len(name) == 1, name
        return json.loads(docker("inspect", name[0]))[0]

    def healthy_on(self, image_id: str, wait: float = 20) -> bool:
        """The container runs `image_id` and is (or turns, within `wait`) healthy."""
        deadline = time.monotonic() + wait
        while True:
            info = self.container()
            state = info["State"]
            assert isinstance(state, dict)
            health = (state.get("Health") or {}).get("Status")
            if info["Image"] != image_id or health == "unhealthy":
                return False
            if health == "healthy":
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)


WEB = """services:
  web:
    x-homestack:
      title: Web
      description: Needs app, and works only with app 1.0.0 (it asks app's version).
      backup:
        consistency: none
        paths: []
    image: homestack/standin:local
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
    stop_grace_period: 2s
    depends_on:
      app:
        condition: service_healthy
    healthcheck:
      test: ["CMD", "sh", "-c", "wget -qO- http://app:8080/version | grep -qx 1.0.0"]
      interval: 1s
      timeout: 2s
      retries: 1
    labels:
      homestack.test: "1"
"""


def make_site(root: Path, prefix: str, image: str, meta: str = "", web: bool = False) -> UpdateSite:
    stack = root / "tst-stack"
    (stack / "services").mkdir(parents=True)
    (root / "base.docker-compose.yaml").write_text(BASE)
    (root / ".env").write_text(
        f"HOMESTACK_PREFIX={prefix}\nDATA_ROOT=./DATA\nSECRETS_DIR=./secrets\n"
    )
    listed = "  - app\n" + ("  - web\n" if web else "")
    (stack / "stack.yaml").write_text(f"description: update tests\nservices:\n{listed}")
    if web:
        (stack / "services" / "web.docker-compose.yaml").write_text(WEB)
    (stack / "services" / "app.docker-compose.yaml").write_text(
        SERVICE.format(image=image, meta=meta)
    )
    (root / "DATA" / "app").mkdir(parents=True)
    (root / "secrets").mkdir()
    return UpdateSite(root, prefix)


def teardown(site: UpdateSite) -> None:
    loaded = Site.load(site.root)
    ComposeProject(loaded, loaded.stacks["tst"]).run("down", "-v", "--timeout", "1", check=False)


@pytest.fixture
def app_site(
    tmp_path: Path, engine_cleanup: str, registry: LocalRegistry, monkeypatch: pytest.MonkeyPatch
) -> Iterator[UpdateSite]:
    """The site at 1.0.0, up and healthy, with a little data."""
    monkeypatch.setenv("HOMESTACK_REGISTRY_TTL", "0")
    site = make_site(tmp_path / "site", engine_cleanup, registry.image("1.0.0"))
    (site.data / "db.txt").write_text("written by 1.0.0\n")
    (site.data / "v1-only").write_text("a file 1.3.0 deletes\n")
    try:
        assert site.cli("up", "--timeout", "60") == 0
        yield site
    finally:
        teardown(site)


def image_id(registry: LocalRegistry, tag: str) -> str:
    docker("pull", "--quiet", f"{registry.repository}@{registry.digests[tag]}")
    return docker(
        "image", "inspect", "--format", "{{.Id}}", f"{registry.repository}@{registry.digests[tag]}"
    ).strip()


def cli_json(site: UpdateSite, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = site.cli(*args, "--json")
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_outdated_reports_each_level_from_the_registry(
    app_site: UpdateSite, registry: LocalRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = cli_json(app_site, capsys, "outdated")
    assert code == 1  # something can be updated
    (row,) = report["services"]
    assert (row["tag"], row["patch"], row["minor"], row["major"]) == (
        "1.0.0",
        "1.0.1",
        "1.3.0",
        "2.0.0",
    )
    assert row["digest"] == registry.digests["1.0.0"] and not row["repushed"]
    assert not report["warnings"]


@pytest.fixture
def receiver(app_site: UpdateSite) -> Iterator[Receiver]:
    """The site's notification channel (issue 20) pointed at a loopback receiver."""
    got = Receiver()
    port = got.start()
    (app_site.root / "secrets" / "homestack_notify_urls").write_text(
        f"json://127.0.0.1:{port}/hook\n"
    )
    yield got
    got.stop()


def test_daily_check_records_updates_for_status_and_the_timer_runs_it(
    app_site: UpdateSite,
    registry: LocalRegistry,
    receiver: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    assert app_site.cli("outdated", "--record") == 0  # the timer's run: findings are no error
    log = capsys.readouterr().err
    assert "app: 1.0.0 → patch 1.0.1, minor 1.3.0, major 2.0.0" in log
    assert receiver.titles() == ["Update available: app 1.0.1"]
    assert app_site.cli("outdated", "--record") == 0  # the next day: not sent again
    assert receiver.titles() == ["Update available: app 1.0.1"]
    code, status = cli_json(app_site, capsys, "status")
    assert code == 0 and status["updates"] == {"app": "1.0.0 → 1.0.1"}
    assert app_site.cli("status") == 0
    assert "updates available: app 1.0.0 → 1.0.1" in capsys.readouterr().out
    from homestack.backup.timer import render_cron, render_systemd

    site = Site.load(app_site.root)
    unit = render_systemd(site)["homestack-backup.service"]
    assert unit.index("prune --all") < unit.index("outdated --record")
    assert "outdated --record" in next(iter(render_cron(site).values()))


def test_update_to_the_patch_rewrites_file_and_lock_and_records_history(
    app_site: UpdateSite, registry: LocalRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    before = app_site.file.read_text()
    code, report = cli_json(app_site, capsys, "update", "app", "--yes", "--timeout", "60")
    assert code == 0, report
    (done,) = report["services"]
    assert done["ok"] and done["changed"] and not done["rolled_back"]
    assert done["to_image"] == registry.image("1.0.1")
    # one line changed, comments and layout kept
    after = app_site.file.read_text()
    assert after == before.replace(registry.image("1.0.0"), registry.image("1.0.1"))
    assert "# trailing comment stays too" in after
    assert app_site.lock()["app"] == {
        "image": registry.image("1.0.1"),
        "digest": registry.digests["1.0.1"],
    }
    assert app_site.healthy_on(image_id(registry, "1.0.1"))
    assert done["snapshot"]
    code, history = cli_json(app_site, capsys, "history", "app")
    images = [(e["image"], e["by"]) for e in history["entries"]]
    # `up` recorded the first deploy, the update the second
    assert images == [(registry.image("1.0.0"), "up"), (registry.image("1.0.1"), "update")]
    assert history["entries"][-1]["digest"] == registry.digests["1.0.1"]
    assert history["entries"][-1]["snapshot"] == done["snapshot"]
    # the pre-update snapshot is tagged so
    snaps = subprocess.run(
        ["restic", "snapshots", "--json", "--no-lock", "--tag", "pre-update"],
        env={
            **os.environ,
            "RESTIC_REPOSITORY": str(app_site.root / "DATA" / "backups" / "app"),
            "RESTIC_PASSWORD_FILE": str(app_site.root / "secrets" / "homestack_backup_password"),
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert [s["short_id"] for s in json.loads(snaps.stdout)] == [done["snapshot"]]
    # validate: the lock is in step; a hand edit of the tag makes it stale
    assert "lock.stale" not in json.dumps(cli_json(app_site, capsys, "validate", "--offline")[1])
    app_site.file.write_text(after.replace(":1.0.1", ":1.1.0"))
    code, found = cli_json(app_site, capsys, "validate", "--offline")
    assert code == 1
    assert any(f["rule"] == "lock.stale" for f in found["findings"])


def test_update_with_no_name_updates_every_service_with_a_newer_tag(
    app_site: UpdateSite, registry: LocalRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = cli_json(app_site, capsys, "update", "--minor", "--dry-run")
    assert code == 0
    (done,) = report["services"]
    assert done["dry_run"] and done["to_image"] == registry.image("1.3.0")  # newest minor
    assert registry.image("1.0.0") in app_site.file.read_text()
    code, report = cli_json(app_site, capsys, "update", "--yes", "--timeout", "60")
    assert code == 0 and report["services"][0]["to_image"] == registry.image("1.0.1")
    code, report = cli_json(app_site, capsys, "update", "--yes")
    assert code == 0 and report["services"] == []  # on the newest patch now


def test_update_to_an_unhealthy_version_rolls_back_to_the_old_container(
    app_site: UpdateSite,
    registry: LocalRegistry,
    receiver: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = app_site.file.read_text()
    lock_before = app_site.lock()
    code, report = cli_json(
        app_site, capsys, "update", "app", "--to", "1.2.0", "--yes", "--timeout", "30"
    )
    assert code == 1
    (done,) = report["services"]
    assert done["rolled_back"] and not done["ok"] and not done["data_restored"]
    assert "unhealthy" in done["reason"]
    assert app_site.file.read_text() == before
    assert app_site.lock() == lock_before
    assert app_site.healthy_on(image_id(registry, "1.0.0"))
    assert not list((app_site.root / "DATA" / ".homestack" / "update").glob("*.journal.json"))
    assert receiver.titles() == ["Update of app to 1.2.0 rolled back"]
    assert "Back on 1.0.0: app unhealthy" in str(receiver.got[0].body.get("message"))


def test_each_update_step_is_an_event_as_it_happens(
    app_site: UpdateSite, registry: LocalRegistry
) -> None:
    """The library's update sends each step to the context's sink as it is done (the
    snapshot, the pull when the image is not here, the file written, then, as 1.2.0 turns
    unhealthy, each step of the rollback): the lines the report keeps, in its order."""
    from homestack.context import Context
    from homestack.events import Collected, UpdateStep
    from homestack.update.apply import update

    events = Collected()
    site = Site.load(app_site.root)
    report = update(site, "app", to="1.2.0", timeout=30, ctx=Context.for_site(site, sink=events))
    assert report.rolled_back
    sent = events.of(UpdateStep)
    assert [e.text for e in sent] == report.steps and {e.service for e in sent} == {"app"}
    texts = " | ".join(report.steps)
    assert "snapshot" in texts and "wrote" in texts and "healthy again on" in texts, texts


def test_update_to_a_migrating_version_rolls_back_with_the_data_byte_identical(
    app_site: UpdateSite, registry: LocalRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    before = manifest(app_site.data)
    code, report = cli_json(
        app_site, capsys, "update", "app", "--to", "1.3.0", "--yes", "--timeout", "30"
    )
    assert code == 1
    (done,) = report["services"]
    assert done["rolled_back"] and done["data_restored"], done
    assert manifest(app_site.data) == before
    assert (app_site.data / "db.txt").read_text() == "written by 1.0.0\n"
    assert app_site.healthy_on(image_id(registry, "1.0.0"))


def test_a_dependent_turning_unhealthy_rolls_the_update_back(
    tmp_path: Path,
    engine_cleanup: str,
    registry: LocalRegistry,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = make_site(tmp_path / "site", engine_cleanup, registry.image("1.0.0"), web=True)
    try:
        # one at a time: two compose runs that both create the project's default network
        # at once can make two networks of one name (a race of `up`, not of update)
        assert site.cli("up", "app", "--timeout", "60") == 0
        assert site.cli("up", "web", "--timeout", "60") == 0
        before = site.file.read_text()
        code, report = cli_json(
            site, capsys, "update", "app", "--to", "1.1.0", "--yes", "--timeout", "30"
        )
        assert code == 1
        (done,) = report["services"]
        # seen by up's health gate (web was still recovering from the snapshot's stop of
        # app) or by the watch after it: either way web is named as the reason
        assert done["rolled_back"] and done["reason"].startswith("web ")
        assert "unhealthy" in done["reason"]
        assert done["data_restored"]  # 1.1.0 stamped its version on the data
        assert site.file.read_text() == before
        assert (site.data / "version").read_text() == "1.0.0\n"
        assert site.healthy_on(image_id(registry, "1.0.0"))
        web = docker("ps", "--filter", f"name=^/{site.prefix}tst-web-", "--format", "{{.Status}}")
        deadline = time.monotonic() + 20
        while "(healthy)" not in web and time.monotonic() < deadline:
            time.sleep(0.5)
            web = docker(
                "ps", "--filter", f"name=^/{site.prefix}tst-web-", "--format", "{{.Status}}"
            )
        assert "(healthy)" in web
    finally:
        teardown(site)


def test_major_jump_of_a_manual_service_needs_major(
    tmp_path: Path,
    engine_cleanup: str,
    registry: LocalRegistry,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = make_site(
        tmp_path / "site",
        engine_cleanup,
        registry.image("1.1.0"),
        meta="      update:\n        major: manual",
    )
    try:
        assert site.cli("up", "--timeout", "60") == 0
        before = site.file.read_text()
        capsys.readouterr()
        assert site.cli("update", "app", "--to", "2.0.0", "--yes") == 2
        assert "major: manual" in capsys.readouterr().err
        assert site.cli("update", "app", "--major", "--dry-run") == 0  # newest: 2.0.0
        assert "2.0.0" in capsys.readouterr().out
        assert site.file.read_text() == before and not site.lock()
        assert site.cli("update", "app", "--major", "--yes", "--timeout", "60") == 0
        assert registry.image("2.0.0") in site.file.read_text()
        assert site.healthy_on(image_id(registry, "2.0.0"))
    finally:
        teardown(site)


def test_registry_failing_mid_update_changes_nothing(
    app_site: UpdateSite, registry: LocalRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry answers the tag list and digest, then goes away before the pull."""
    from homestack.update import apply
    from homestack.update.outdated import registry_for

    before = app_site.file.read_text()
    for name in (registry.image("1.1.0"), f"{registry.repository}@{registry.digests['1.1.0']}"):
        subprocess.run(["docker", "rmi", "-f", name], capture_output=True, check=False)
    site = Site.load(app_site.root)
    client = registry_for(site)
    real = client.digest

    def digest_then_stop(*args: object, **kwargs: object) -> str:
        found = real(*args, **kwargs)  # type: ignore[arg-type]
        registry.stop()
        return found

    monkeypatch.setattr(client, "digest", digest_then_stop)
    try:
        with pytest.raises(OperationFailed, match=r"docker pull"):
            apply.update(site, "app", to="1.1.0", timeout=30, registry=client)
    finally:
        registry.start()
    assert app_site.file.read_text() == before
    assert not app_site.lock()
    assert not list((app_site.root / "DATA" / ".homestack" / "update").glob("*.journal.json"))
    assert app_site.healthy_on(image_id(registry, "1.0.0"))
    # and with the registry down from the start: a clear error, exit 1, nothing written
    registry.stop()
    try:
        assert app_site.cli("update", "app", "--yes") == 1
        assert app_site.cli("outdated") == 0  # a warning, not a crash: nothing to offer
    finally:
        registry.start()
    assert app_site.file.read_text() == before


@pytest.mark.parametrize(
    ("hold", "tag", "sig"),
    [
        ("update-pull", "1.1.0", signal.SIGKILL),  # snapshot taken, nothing written yet
        ("update-recreate", "1.1.0", signal.SIGKILL),  # file and lock written
        ("update-recreate", "1.1.0", signal.SIGINT),  # Ctrl-C there
        ("update-rollback", "1.2.0", signal.SIGKILL),  # the failed version is running
    ],
)
def test_interrupted_update_then_up_converges(
    app_site: UpdateSite, registry: LocalRegistry, hold: str, tag: str, sig: signal.Signals
) -> None:
    before = app_site.file.read_text()
    data = manifest(app_site.data)
    env = {
        **os.environ,
        "HOMESTACK_TEST_HOLD_AT": hold,
        "HOMESTACK_TEST_HOLD_FILE": str(app_site.root / ".held"),
    }
    # a background `pytest &` has SIGINT ignored, which the child would inherit (and Python then
    # installs no KeyboardInterrupt handler): give it the default, as a terminal's shell would
    code = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from homestack.cli.app import run; sys.exit(run(sys.argv[1:]))"
    )
    argv = ["--site", str(app_site.root), "update", "app", "--yes", "--to", tag, "--timeout", "30"]
    child = subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not (app_site.root / ".held").exists():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(child.pid, sig)
    child.communicate(timeout=60)
    journals = app_site.root / "DATA" / ".homestack" / "update"
    if sig == signal.SIGKILL or hold != "update-pull":
        assert list(journals.glob("*.journal.json")), "the interrupted update left its journal"
    if hold == "update-recreate":
        assert registry.image(tag) in app_site.file.read_text()  # stopped after the write

    assert app_site.cli("up", "--timeout", "60") == 0
    assert app_site.file.read_text() == before
    assert not app_site.lock()
    assert not list(journals.glob("*.journal.json"))
    assert app_site.healthy_on(image_id(registry, "1.0.0"))
    assert manifest(app_site.data) == data


def test_lockfile_makes_a_second_site_run_the_same_digest_and_repush_is_seen(
    tmp_path: Path,
    engine_cleanup: str,
    registry: LocalRegistry,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOMESTACK_REGISTRY_TTL", "0")
    repository = f"{registry.host}/h19/locked"
    first = registry.push("1.0.0", build="a", repository=repository)
    remove_local_images(repository)
    a = make_site(tmp_path / "a", engine_cleanup, f"{repository}:1.0.0")
    b_prefix = engine_cleanup + "b_"
    try:
        assert a.cli("lock") == 0
        assert a.lock()["app"]["digest"] == first
        # the tag is pushed again with other bytes, and this machine pulls the new ones
        second = registry.push("1.0.0", build="b", repository=repository)
        assert second != first
        _code, report = cli_json(a, capsys, "outdated")
        (row,) = report["services"]
        assert row["repushed"] and row["digest"] == second and row["known_digest"] == first
        # a second site (another prefix) with the same files and lock runs the locked bytes
        shutil.copytree(a.root, tmp_path / "b")
        b = UpdateSite(tmp_path / "b", b_prefix)
        env = (b.root / ".env").read_text().replace(engine_cleanup, b_prefix)
        (b.root / ".env").write_text(env)
        assert b.cli("up", "--timeout", "60") == 0
        info = b.container()
        wanted = docker("image", "inspect", "--format", "{{.Id}}", f"{repository}@{first}")
        assert info["Image"] == wanted.strip()
        # and `pull` keeps the locked digest too
        docker("pull", "--quiet", f"{repository}:1.0.0")  # the tag locally: the new bytes
        assert b.cli("pull") == 0
        local = docker("image", "inspect", "--format", "{{.Id}}", f"{repository}:1.0.0")
        assert local.strip() == wanted.strip()
    finally:
        teardown(a)
        if (tmp_path / "b").exists():
            teardown(UpdateSite(tmp_path / "b", b_prefix))
        from testkit.engine import remove_everything_named

        remove_everything_named(b_prefix)
        remove_local_images(repository)


def test_up_refuses_a_locked_digest_the_registry_does_not_have(
    app_site: UpdateSite, registry: LocalRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = {"image": registry.image("1.0.0"), "digest": "sha256:" + "0" * 64}
    (app_site.root / "homestack.lock").write_text(
        json.dumps({"version": 1, "services": {"app": lock}})
    )
    capsys.readouterr()
    assert app_site.cli("up", "--timeout", "30") == 1
    err = capsys.readouterr().err
    assert "cannot get the locked" in err and "homestack lock" in err
    assert app_site.healthy_on(image_id(registry, "1.0.0"))  # nothing was recreated


def test_rollback_by_hand_returns_to_an_earlier_entry_with_its_data(
    app_site: UpdateSite, registry: LocalRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    before = manifest(app_site.data)
    assert app_site.cli("update", "app", "--minor", "--to", "1.1.0", "--yes") == 0
    (app_site.data / "db.txt").write_text("written by 1.1.0\n")
    code, history = cli_json(app_site, capsys, "history", "app")
    first = next(e["n"] for e in history["entries"] if e["image"] == registry.image("1.0.0"))
    code, report = cli_json(app_site, capsys, "rollback", "app", "--to", str(first), "--data")
    assert code == 0, report
    (done,) = report["services"]
    assert done["ok"] and done["data_restored"]
    assert registry.image("1.0.0") in app_site.file.read_text()
    assert app_site.lock()["app"]["digest"] == registry.digests["1.0.0"]
    assert manifest(app_site.data) == before
    assert app_site.healthy_on(image_id(registry, "1.0.0"))
