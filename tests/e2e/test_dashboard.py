"""The dashboard in a real Chromium (Debian's, driven by Playwright) against a real engine.

A small stand-in site is brought up with the library's `up`; `homestack serve` runs as its
own process; the browser logs in and uses the pages. Screenshots of every page (desktop and
390x844) are written to test-artifacts/dashboard/ (HOMESTACK_ARTIFACTS overrides).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testkit.dashboard import HEALTHY, WEB, Netns, start_server, stop_server, write_site
from testkit.engine import IN_CI, REPO, free_port, remove_everything_named

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("HOMESTACK_ARTIFACTS", REPO / "test-artifacts")) / "dashboard"
PAGES = ["/", "/services/worker", "/catalog", "/backups", "/doctor", "/host", "/audit", "/api"]


def _playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not Path(CHROMIUM).exists():
        message = "Playwright for Python and Debian's chromium are needed (apt install chromium)"
        if IN_CI:
            pytest.fail(message + " (CI=true: the browser tests must run)")
        pytest.skip(message)
    return sync_playwright


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, standin_image: str) -> Iterator[dict[str, Any]]:
    from homestack.catalog import Site
    from homestack.deploy.up import raise_for, up
    from homestack.web.auth import new_password

    prefix = f"hst{uuid.uuid4().hex[:6]}_"
    root = write_site(
        tmp_path_factory.mktemp("dashboard") / "site",
        prefix,
        {
            "ai": {
                "web": (True, WEB, "web: {port: 8080}"),
                "worker": (True, HEALTHY, ""),
                "extra": (False, HEALTHY, "gpu: optional\ngpu_memory_mb: 2048"),
            },
            "media": {"player": (True, HEALTHY, "")},
        },
    )
    netns = Netns(prefix.rstrip("_"))
    try:
        raise_for(up(Site.load(root), None))
        password = new_password(Site.load(root))
        port = free_port()
        # loopback is not the proxy here: a Remote-User from 127.0.0.1 must be ignored
        server = start_server(root, port, "--trusted-proxy", "127.0.0.2", netns=netns)
        try:
            yield {
                "root": root,
                "prefix": prefix,
                "url": f"http://127.0.0.1:{port}",
                "password": password,
                "netns": netns,
            }
        finally:
            stop_server(server)
    finally:
        netns.remove()
        remove_everything_named(prefix)


@pytest.fixture(scope="module")
def browser(site: dict[str, Any]) -> Iterator[Any]:
    sync_playwright = _playwright()
    with sync_playwright() as driver:
        binary = site["netns"].chromium(site["root"].parent, CHROMIUM)
        chromium = driver.chromium.launch(executable_path=binary, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def session(browser: Any, site: dict[str, Any]) -> Iterator[Any]:
    """One logged-in browser context (logins are rate limited per address)."""
    context = browser.new_context()
    page = context.new_page()
    _goto(page, site["url"] + "/")
    assert "/login" in page.url  # an unauthenticated request is sent to log in
    page.fill("input[name=password]", site["password"])
    page.click("button[type=submit]")
    page.wait_for_url(site["url"] + "/")
    page.close()
    yield context
    context.close()


@pytest.fixture
def tab(session: Any, site: dict[str, Any]) -> Iterator[Any]:
    """A page of the logged-in session on the overview, closed afterwards: each open page
    holds event streams, and Chromium opens at most 6 connections to one HTTP/1.1 host."""
    page = session.new_page()
    _goto(page, site["url"] + "/")
    yield page
    page.close()


def _goto(page: Any, url: str) -> None:
    """page.goto, again when Chromium saw the machine's interfaces change meanwhile
    (ERR_NETWORK_CHANGED: other tests create Docker networks on this engine)."""
    for attempt in range(20):
        try:
            page.goto(url)
        except Exception as error:
            if "ERR_NETWORK_CHANGED" not in str(error) or attempt == 19:
                raise
            time.sleep(0.3)
        else:
            return


def _fetch(
    page: Any,
    path: str,
    method: str = "GET",
    body: str = "null",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A request from inside the page (its cookies, its network namespace)."""
    script = f"""async () => {{
        const r = await fetch({json.dumps(path)}, {{method: {json.dumps(method)},
            headers: {json.dumps(headers or {})}, body: {body}}});
        const text = await r.text();
        let body = text; try {{ body = JSON.parse(text); }} catch (e) {{}}
        return {{status: r.status, body: body}};
    }}"""
    return dict(page.evaluate(script))


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _homestack(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "homestack", "--site", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_wrong_password_then_login_and_overview_matches_status(
    browser: Any, site: dict[str, Any]
) -> None:
    context = browser.new_context()
    page = context.new_page()
    _goto(page, site["url"] + "/catalog")
    assert "/login" in page.url
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Wrong password")
    _shot(page, "login")
    page.fill("input[name=password]", site["password"])
    page.click("button[type=submit]")
    page.wait_for_url(site["url"] + "/catalog")  # back where it was going

    _goto(page, site["url"] + "/")
    status = json.loads(_homestack(site["root"], "status", "--json").stdout)
    expected = {row["service"]: row for row in status["services"]}
    rows = page.locator("tr.svc")
    shown = {
        rows.nth(i).get_attribute("data-service"): rows.nth(i).get_attribute("data-state")
        for i in range(rows.count())
    }
    assert set(shown) == set(expected)
    for name, row in expected.items():
        assert shown[name] == (row["health"] or row["state"]), name
    _shot(page, "overview")


def test_stop_and_start_by_button_update_the_row_live(tab: Any, site: dict[str, Any]) -> None:
    page = tab
    _goto(page, site["url"] + "/services/worker")
    row = page.locator("tr.svc[data-service=worker]")
    assert row.get_attribute("data-state") == "healthy"
    page.evaluate("window.notReloaded = true")
    page.click("form.act button[data-kind=stop]")
    # compose's stop takes its grace period (busybox sh ignores SIGTERM); once the action
    # is done the container is stopped, and the row says so within 2 s, without a reload
    page.wait_for_selector("#action-panel .action.ok", timeout=30_000)
    assert "stopped worker" in page.locator("#action-panel").inner_text()
    page.wait_for_selector("tr.svc[data-service=worker][data-state=exited]", timeout=2_000)
    page.click("form.act button[data-kind=start]")
    page.wait_for_selector("#action-panel .action.ok >> text=started worker", timeout=30_000)
    page.wait_for_selector("tr.svc[data-service=worker][data-state=healthy]", timeout=2_000)
    assert page.evaluate("window.notReloaded") is True
    audit = (site["root"] / "DATA" / ".homestack" / "audit.log").read_text().splitlines()
    entries = [json.loads(line) for line in audit]
    assert {
        "user": "admin",
        "action": "stop",
        "target": "worker",
        "result": "ok",
    }.items() <= entries[-2].items()
    assert entries[-1]["action"] == "start" and entries[-1]["result"] == "ok"


def test_an_action_streams_the_operations_typed_events(tab: Any, site: dict[str, Any]) -> None:
    """A restart by the API: its stream carries the operation's own events (the wave done,
    by name, with its data) beside the lines the page shows, and the action's JSON keeps
    them; the lines include the wave, rendered from the event."""
    page = tab
    token = _fetch(page, "/api/session")["body"]["csrf"]
    started = _fetch(page, "/api/actions/restart/worker", method="POST",
                     headers={"X-CSRF-Token": token})  # fmt: skip
    assert started["status"] == 200, started
    number = started["body"]["id"]
    stream = _fetch(page, f"/actions/{number}/events")["body"]  # ends once the action is done
    blocks = [block for block in stream.split("\n\n") if block.startswith("event: ")]
    names = [block.split("\n", 1)[0].removeprefix("event: ") for block in blocks]
    assert names[-1] == "done" and "line" in names, names
    waves = [json.loads(b.split("data: ", 1)[1]) for b in blocks if b.startswith("event: wave")]
    assert waves == [{"event": "wave", "command": "restart", "services": ["worker"]}], stream
    action = _fetch(page, f"/api/actions/{number}")["body"]
    assert action["ok"] is True, action
    assert {"event": "wave", "command": "restart", "services": ["worker"]} in action["events"]
    assert "restarted, healthy again: worker" in action["lines"]


def test_row_turns_stopped_within_two_seconds_of_docker_stop(
    tab: Any, site: dict[str, Any]
) -> None:
    page = tab
    page.wait_for_selector("tr.svc[data-service=player][data-state=healthy]")
    page.wait_for_timeout(500)  # the page's event stream is open
    container = f"{site['prefix']}media-player-1"
    subprocess.run(["docker", "kill", container], check=True, capture_output=True)
    killed = time.monotonic()
    page.wait_for_selector("tr.svc[data-service=player][data-state=exited]", timeout=2_000)
    assert time.monotonic() - killed < 2.0
    _shot(page, "overview-flagged")
    subprocess.run(["docker", "start", container], check=True, capture_output=True)
    page.wait_for_selector("tr.svc[data-service=player][data-state=healthy]", timeout=15_000)


def test_live_log_shows_a_line_written_after_the_page_opened(
    tab: Any, site: dict[str, Any]
) -> None:
    page = tab
    _goto(page, site["url"] + "/services/worker")
    page.wait_for_selector("#log span", timeout=10_000)  # the history arrived
    marker = f"marker-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        [
            "docker",
            "exec",
            f"{site['prefix']}ai-worker-1",
            "sh",
            "-c",
            f"echo {marker} > /proc/1/fd/1",
        ],
        check=True,
    )
    page.wait_for_selector(f"#log >> text={marker}", timeout=5_000)
    _shot(page, "service")


def test_second_action_waits_visibly_for_a_cli_holder_and_another_is_refused(
    tab: Any, site: dict[str, Any]
) -> None:
    from homestack.sitelock import site_lock

    page = tab
    _goto(page, site["url"] + "/services/worker")
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:  # a CLI command in another process would hold it the same way
        with site_lock(site["root"], "restart media"):
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(10)
        page.click("form.act button[data-kind=restart]")
        page.wait_for_selector("#action-panel >> text=waiting for the site lock", timeout=5_000)
        assert "homestack restart media" in page.locator("#action-panel").inner_text()
        # meanwhile a second browser action is refused, naming the one that runs
        page.click("form.act button[data-kind=stop]")
        page.wait_for_selector("#action-notice .refusal", timeout=5_000)
        assert "busy: restart worker" in page.locator("#action-notice").inner_text()
        # the running action's card and its progress stay on the page
        assert "waiting for the site lock" in page.locator("#action-panel").inner_text()
        _shot(page, "action-refused")
    finally:
        release.set()
        thread.join()
    log = site["root"] / "DATA" / ".homestack" / "audit.log"
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(e["action"] == "stop" and e["result"] == "refused" for e in entries)
    _goto(page, site["url"] + "/services/worker")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _fetch(page, "/api/lock")["body"]["action"]:
        time.sleep(0.3)
    page.wait_for_selector("tr.svc[data-service=worker][data-state=healthy]", timeout=30_000)


def test_catalog_enable_and_start_shows_progress(tab: Any, site: dict[str, Any]) -> None:
    page = tab
    _goto(page, site["url"] + "/catalog")
    card = page.locator("#app-extra")
    assert "GPU optional" in card.inner_text()
    _shot(page, "catalog")
    card.locator("button[data-kind=enable-start]").click()
    page.wait_for_selector("#action-panel >> text=extra: healthy", timeout=60_000)
    page.wait_for_selector("#action-panel .action.ok", timeout=60_000)
    text = (site["root"] / "ai-stack" / "stack.yaml").read_text()
    assert "\n  - extra\n" in text and "# the services this stack runs" in text  # comments kept
    status = json.loads(_homestack(site["root"], "status", "extra", "--json").stdout)
    assert status["services"][0]["health"] == "healthy"
    _goto(page, site["url"] + "/")
    assert "GPU optional" in page.locator("tr.svc[data-service=extra]").inner_text()


def test_backup_now_then_restore_needs_the_name_typed(tab: Any, site: dict[str, Any]) -> None:
    page = tab
    (site["root"] / "DATA" / "web" / "state.txt").write_text("before\n")
    _goto(page, site["url"] + "/services/web")
    page.click("form.act button[data-kind=backup]")
    page.wait_for_selector("#action-panel .action.ok", timeout=60_000)
    assert "backed up web: snapshot" in page.locator("#action-panel").inner_text()
    (site["root"] / "DATA" / "web" / "state.txt").write_text("after\n")
    _goto(page, site["url"] + "/services/web")
    restore = page.locator("ul.snapshots li").first
    restore.locator("summary").click()
    button = restore.locator("button[data-kind=restore]")
    button.click()  # the name is not typed: the browser refuses to send the form
    page.wait_for_timeout(500)
    assert page.locator("#action-panel [data-action]").count() == 0
    # nor does the server take it without the confirmation
    token = _fetch(page, "/api/session")["body"]["csrf"]
    unconfirmed = _fetch(page, "/api/actions/restore/web", method="POST",
                         headers={"X-CSRF-Token": token})  # fmt: skip
    assert unconfirmed["status"] == 400 and "confirmation" in unconfirmed["body"]["error"]
    restore.locator("input.confirm").fill("web")
    button.click()
    page.wait_for_selector("#action-panel .action.ok", timeout=120_000)
    assert "restored web from snapshot" in page.locator("#action-panel").inner_text()
    assert (site["root"] / "DATA" / "web" / "state.txt").read_text() == "before\n"
    _shot(page, "service-restored")


def test_post_without_csrf_token_is_forbidden(tab: Any, site: dict[str, Any]) -> None:
    page = tab
    form = "new URLSearchParams({kind: 'stop', target: 'web'})"
    refused = _fetch(page, "/actions", method="POST", body=form)
    assert refused["status"] == 403
    wrong = _fetch(page, "/api/actions/stop/web", method="POST", headers={"X-CSRF-Token": "x"})
    assert wrong["status"] == 403
    assert _fetch(page, "/api/lock")["body"]["action"] is None


FORGED = """
import json, httpx
url = %r
forged = {"Remote-User": "mallory", "Remote-Groups": "admins"}
out = {}
direct = httpx.get(url + "/", headers=forged, follow_redirects=False)
out["direct"] = [direct.status_code, direct.headers.get("location", "")]
out["direct_api"] = httpx.get(url + "/api/status", headers=forged).status_code
# the configured proxy address (127.0.0.2, a loopback address of its own) is believed
with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as proxy:
    answer = proxy.get(url + "/api/status", headers=forged)
    out["proxy"] = [answer.status_code, [r["service"] for r in answer.json()["services"]]]
    bob = {"Remote-User": "bob", "Remote-Groups": "users"}
    out["not_admin"] = proxy.get(url + "/api/status", headers=bob).status_code
print(json.dumps(out))
"""


def test_forged_remote_user_is_ignored_but_the_proxy_is_believed(site: dict[str, Any]) -> None:
    out = json.loads(site["netns"].python(FORGED % site["url"]))
    assert out["direct"][0] == 303 and "/login" in out["direct"][1]
    assert out["direct_api"] == 401
    assert out["proxy"][0] == 200 and {"web", "worker"} <= set(out["proxy"][1])
    assert out["not_admin"] == 401


def test_no_page_scrolls_sideways_at_390_wide(tab: Any, site: dict[str, Any]) -> None:
    page = tab
    page.set_viewport_size({"width": 390, "height": 844})
    for path in PAGES:
        _goto(page, site["url"] + path)
        page.wait_for_load_state("domcontentloaded")
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, f"{path} is {wide} px wide at 390"
        _shot(page, "phone-" + (path.strip("/").replace("/", "-") or "overview"))
    page.set_viewport_size({"width": 1280, "height": 800})
    for path in PAGES[1:]:
        if path in ("/catalog", "/services/worker"):
            continue  # shot by their own tests, mid-scenario
        _goto(page, site["url"] + path)
        page.wait_for_timeout(300)  # the log history, the first live rows
        _shot(page, path.strip("/").replace("/", "-"))


def test_login_is_rate_limited(browser: Any, site: dict[str, Any], session: Any) -> None:
    # `session` logs in first: the tries below lock this address out for a minute
    context = browser.new_context()
    page = context.new_page()
    _goto(page, site["url"] + "/login")
    for _ in range(6):
        page.fill("input[name=password]", "guess")
        page.click("button[type=submit]")
    page.wait_for_selector("text=Too many tries")
    page.fill("input[name=password]", site["password"])  # even the right one, for a minute
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.wait_for_selector("text=Too many tries")
    assert "/login" in page.url
    context.close()


def test_artifacts_folder_is_not_committed() -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "test-artifacts/x.png"], cwd=REPO, check=False
    )
    assert ignored.returncode == 0
