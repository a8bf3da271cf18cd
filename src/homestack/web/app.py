"""The FastAPI application: pages, the JSON API under /api, SSE streams and actions.

Thin on purpose: every route calls the library (the same calls the CLI makes) and renders
the result; access is checked once per request (auth.Access), every POST needs the session's
CSRF token, and actions go through actions.Runner (one at a time, site lock, audit log).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import StreamingResponse

from ..catalog import Site
from ..errors import BadInput, HomestackError
from . import audit, views
from .actions import DESTRUCTIVE, OPERATIONS, Busy, Runner
from .auth import COOKIE, SESSION_MAX_AGE_S, Access, User
from .live import Hub

HERE = Path(__file__).parent
LOGIN_COOKIE = "homestack_login"
FRESH_S = 2.0  # the hub's status this young serves a page without sampling again
PAGES = [
    ("/", "Overview"),
    ("/catalog", "Catalog"),
    ("/backups", "Backups"),
    ("/doctor", "Doctor"),
    ("/host", "Host"),
    ("/audit", "Audit"),
    ("/api", "API"),
]


@dataclass
class Settings:
    root: Path
    trusted_proxy: str | None = None  # the peer whose Remote-User is believed (Caddy)
    secure_cookies: bool = False  # behind TLS (the proxy): cookies marked Secure


class NeedLogin(Exception):
    pass


def create_app(settings: Settings, *, access: Access | None = None) -> FastAPI:  # noqa: PLR0915 - the routes are closures over one app's hub, runner and access
    site = Site.load(settings.root)
    access = access or Access(site, proxy=settings.trusted_proxy)
    hub = Hub(settings.root)
    runner = Runner(settings.root)
    templates = Environment(
        loader=PackageLoader("homestack.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )

    published: dict[str, str] = {}  # row id → the HTML last sent: only changes are sent

    def on_rows(result: Any) -> None:
        current = Site.load(settings.root)
        standins = views.standin_containers(current)
        gpus = views.gpu_needs(current)
        for row in result.rows:
            view = views.row_view(row, hub, standins, gpus)
            html = " ".join(templates.get_template("_row.html").render(r=view).split())
            if published.get(view["id"]) != html:
                published[view["id"]] = html
                hub.publish("row", {"id": view["id"], "html": html})
        holders = runner.holders()
        if published.get("#lock") != repr(holders):
            published["#lock"] = repr(holders)
            hub.publish("lock", {"holders": holders})

    def on_subscribe() -> None:
        published.clear()  # a new page: send every row once more

    def on_action_change() -> None:
        hub._wake.set()  # an action ended: take a sample now

    hub.on_rows = on_rows
    hub.on_subscribe = on_subscribe
    runner.on_change = on_action_change

    app = FastAPI(
        title="homestack",
        summary="The homestack dashboard's JSON API: the same data as the CLI's --json.",
        docs_url=None,  # Swagger UI and ReDoc load from a CDN; /api lists the routes instead
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.hub = hub
    app.state.runner = runner
    app.state.access = access
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    # ---- access ------------------------------------------------------------------------
    def user_of(request: Request) -> User | None:
        peer = request.client.host if request.client else None
        return access.from_proxy(peer, request.headers) or access.from_cookie(
            request.cookies.get(COOKIE)
        )

    def need_user(request: Request) -> User:
        user = user_of(request)
        if user is None:
            if request.url.path.startswith("/api/"):
                raise HTTPException(401, "log in first (POST /login) or come through the proxy")
            raise NeedLogin
        return user

    async def need_csrf(request: Request, user: User) -> dict[str, str]:
        """The form fields of a POST, once its CSRF token (field or header) is the session's."""
        form = {k: str(v) for k, v in (await request.form()).items()}
        token = request.headers.get("x-csrf-token") or form.get("csrf", "")
        if not token or not secrets.compare_digest(token, user.csrf):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page")
        return form

    @app.exception_handler(NeedLogin)
    async def _to_login(request: Request, _: NeedLogin) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?next=" + _quote(target), status_code=303)

    @app.exception_handler(HomestackError)
    async def _error(request: Request, error: HomestackError) -> Response:
        status = 409 if isinstance(error, Busy) else 400 if isinstance(error, BadInput) else 500
        data = {"error": error.message, "hint": error.hint}
        if request.url.path.startswith("/api/") or request.headers.get("hx-request"):
            if request.headers.get("hx-request"):
                html = templates.get_template("_error.html").render(e=data)
                # beside the running action's card, not in its place
                headers = {"HX-Retarget": "#action-notice", "HX-Reswap": "innerHTML"}
                return HTMLResponse(html, status_code=200, headers=headers)
            return JSONResponse(data, status_code=status)
        return page(request, "error.html", None, status_code=status, e=data)

    def page(
        request: Request, name: str, user: User | None, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        html = templates.get_template(name).render(
            user=user,
            pages=PAGES,
            path=request.url.path,
            holders=runner.holders(),
            running=runner.current,
            **context,
        )
        return HTMLResponse(html, status_code=status_code)

    # ---- login -------------------------------------------------------------------------
    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login_form(request: Request, next: str = "/", failed: str = "") -> Response:
        token = secrets.token_urlsafe(24)
        response = page(request, "login.html", None, next=_safe_next(next), token=token,
                        failed=failed)  # fmt: skip
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                            secure=settings.secure_cookies, max_age=600)  # fmt: skip
        return response

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not secrets.compare_digest(form.get("csrf", ""), expected):
            raise HTTPException(403, "missing or wrong CSRF token: reload the login page")
        client = request.client.host if request.client else "?"
        nxt = _safe_next(form.get("next", "/"))
        if not access.allowed_to_try(client):
            audit.record(Site.load(settings.root), user="?", action="login", target=client,
                         result="refused", detail="too many tries")  # fmt: skip
            return RedirectResponse(f"/login?failed=slow&next={_quote(nxt)}", status_code=303)
        ok = await asyncio.to_thread(access.check_password, form.get("password", ""))
        if not ok:
            audit.record(Site.load(settings.root), user="?", action="login", target=client,
                         result="failed", detail="wrong password")  # fmt: skip
            return RedirectResponse(f"/login?failed=1&next={_quote(nxt)}", status_code=303)
        response = RedirectResponse(nxt, status_code=303)
        response.set_cookie(COOKIE, access.session_cookie("admin"), httponly=True,
                            samesite="strict", secure=settings.secure_cookies,
                            max_age=SESSION_MAX_AGE_S)  # fmt: skip
        response.delete_cookie(LOGIN_COOKIE)
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        await need_csrf(request, need_user(request))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    # ---- data --------------------------------------------------------------------------
    def status_now(*, full: bool = True) -> Any:
        """The hub's status when it is fresh; else a new sample. A page asks for a quick one
        (states, no CPU/memory sample or backup ages): its event stream then brings the
        full rows within a moment, as the page subscribing wakes the sampler."""
        if hub.result is not None and time.time() - hub.taken < FRESH_S:
            return hub.result
        return hub.sample(full=full)

    # ---- pages -------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def overview(request: Request) -> Response:
        user = need_user(request)
        result = await asyncio.to_thread(lambda: status_now(full=False))
        current = Site.load(settings.root)
        standins = await asyncio.to_thread(views.standin_containers, current)
        gpus = views.gpu_needs(current)
        rows = [views.row_view(row, hub, standins, gpus) for row in result.rows]
        return page(request, "overview.html", user, rows=rows, result=result)

    @app.get("/services/{name}", response_class=HTMLResponse, include_in_schema=False)
    async def service_page(request: Request, name: str) -> Response:
        user = need_user(request)
        current = Site.load(settings.root)
        service = current.service(name)
        info = views.service_view(current, service)
        result = await asyncio.to_thread(status_now)
        standins = await asyncio.to_thread(views.standin_containers, current)
        gpus = views.gpu_needs(current)
        rows = [views.row_view(r, hub, standins, gpus) for r in result.rows if r.service == name]
        snapshots = await asyncio.to_thread(_snapshots, current, name)
        return page(request, "service.html", user, s=info, rows=rows, snapshots=snapshots)

    @app.get("/catalog", response_class=HTMLResponse, include_in_schema=False)
    async def catalog_page(request: Request) -> Response:
        user = need_user(request)
        return page(
            request, "catalog.html", user, apps=views.catalog_view(Site.load(settings.root))
        )

    @app.get("/backups", response_class=HTMLResponse, include_in_schema=False)
    async def backups_page(request: Request) -> Response:
        user = need_user(request)
        data = await asyncio.to_thread(_backups, Site.load(settings.root))
        return page(request, "backups.html", user, **data)

    @app.get("/doctor", response_class=HTMLResponse, include_in_schema=False)
    async def doctor_page(request: Request) -> Response:
        user = need_user(request)
        data = await asyncio.to_thread(_doctor, Site.load(settings.root))
        name = "_doctor.html" if request.headers.get("hx-request") else "doctor.html"
        return page(request, name, user, **data)

    @app.get("/host", response_class=HTMLResponse, include_in_schema=False)
    async def host_page(request: Request) -> Response:
        user = need_user(request)
        facts = await asyncio.to_thread(views.host_view, Site.load(settings.root))
        return page(request, "host.html", user, facts=facts)

    @app.get("/audit", response_class=HTMLResponse, include_in_schema=False)
    async def audit_page(request: Request) -> Response:
        user = need_user(request)
        return page(request, "audit.html", user, entries=audit.read(Site.load(settings.root)))

    @app.get("/actions/{number}", response_class=HTMLResponse, include_in_schema=False)
    async def action_page(request: Request, number: int) -> Response:
        user = need_user(request)
        action = runner.actions.get(number)
        if action is None:
            raise HTTPException(404, "no such action (the dashboard keeps them until restart)")
        return page(request, "action.html", user, a=action)

    @app.get("/api", response_class=HTMLResponse, include_in_schema=False)
    async def api_page(request: Request) -> Response:
        user = need_user(request)
        return page(request, "api.html", user, spec=app.openapi())

    # ---- actions -----------------------------------------------------------------------
    @app.post("/actions", include_in_schema=False)
    async def act(request: Request) -> Response:
        user = need_user(request)
        form = await need_csrf(request, user)
        kind, target = form.get("kind", ""), form.get("target", "")
        action = runner.submit(kind, target, user.name, form)
        if request.headers.get("hx-request"):
            html = templates.get_template("_action.html").render(a=action)
            return HTMLResponse(html)
        return RedirectResponse(f"/actions/{action.id}", status_code=303)

    # ---- live streams ------------------------------------------------------------------
    @app.get("/events", include_in_schema=False)
    async def events(request: Request) -> Response:
        need_user(request)
        queue = hub.subscribe()

        async def stream() -> AsyncIterator[str]:
            try:
                yield "retry: 2000\n\n"
                while True:
                    try:
                        event, data = await asyncio.wait_for(queue.get(), timeout=15)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    yield f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"
            finally:
                hub.unsubscribe(queue)

        return StreamingResponse(stream(), media_type="text/event-stream", headers=_SSE)

    @app.get("/actions/{number}/events", include_in_schema=False)
    async def action_events(request: Request, number: int) -> Response:
        need_user(request)
        action = runner.actions.get(number)
        if action is None:
            raise HTTPException(404, "no such action")

        async def stream() -> AsyncIterator[str]:
            # each progress line (`line`, what the page shows) and each typed event of the
            # operation under its own name (`service`, `wave`, `backed-up` …), in order
            sent = 0
            while True:
                done = action.done  # read first: a feed read after it is complete
                feed = list(action.feed)
                for name, data in feed[sent:]:
                    yield f"event: {name}\ndata: {json.dumps(data, default=str)}\n\n"
                sent = len(feed)
                if done:
                    yield f"event: done\ndata: {json.dumps(action.to_data())}\n\n"
                    return
                await asyncio.sleep(0.2)

        return StreamingResponse(stream(), media_type="text/event-stream", headers=_SSE)

    @app.get("/services/{name}/logs", include_in_schema=False)
    async def logs_stream(
        request: Request, name: str, grep: str = "", level: str = "", tail: int = 100
    ) -> Response:
        need_user(request)
        from ..observe.logs import LogQuery, follow_logs

        current = Site.load(settings.root)
        current.service(name)
        query = LogQuery.build([name], grep=grep or None, level=level or None, tail=tail)
        stop = threading.Event()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=5000)

        def reader() -> None:
            try:
                for line in follow_logs(current, query, stop=stop):
                    loop.call_soon_threadsafe(queue.put_nowait, line.to_data())
                    if stop.is_set():
                        return
            except Exception as error:
                message = {"line": f"[logs stopped: {error}]", "level": "error"}
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(queue.put_nowait, message)

        threading.Thread(target=reader, daemon=True).start()

        async def stream() -> AsyncIterator[str]:
            try:
                while True:
                    try:
                        line = await asyncio.wait_for(queue.get(), timeout=15)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    yield f"event: line\ndata: {json.dumps(line)}\n\n"
            finally:
                stop.set()

        return StreamingResponse(stream(), media_type="text/event-stream", headers=_SSE)

    # ---- JSON API ----------------------------------------------------------------------
    @app.get("/api/status", summary="Every service: as `homestack status --json`")
    async def api_status(request: Request) -> dict[str, Any]:
        need_user(request)
        result = await asyncio.to_thread(status_now)
        return views.status_data(result)

    @app.get("/api/services/{name}", summary="One service's facts, rows and snapshots")
    async def api_service(request: Request, name: str) -> dict[str, Any]:
        need_user(request)
        current = Site.load(settings.root)
        info = views.service_view(current, current.service(name))
        result = await asyncio.to_thread(status_now)
        rows = [r for r in views.status_data(result)["services"] if r["service"] == name]
        return info | {
            "rows": rows,
            "snapshots": await asyncio.to_thread(_snapshots, current, name),
        }

    @app.get("/api/catalog", summary="The disabled services, as apps to enable")
    async def api_catalog(request: Request) -> list[dict[str, Any]]:
        need_user(request)
        return views.catalog_view(Site.load(settings.root))

    @app.get("/api/backups", summary="Per service: snapshots, repository, the timer")
    async def api_backups(request: Request) -> dict[str, Any]:
        need_user(request)
        data = await asyncio.to_thread(_backups, Site.load(settings.root))
        return {"services": data["services"], "schedule": data["schedule"]}

    @app.get("/api/doctor", summary="Every check with its fix: as `homestack doctor --json`")
    async def api_doctor(request: Request) -> dict[str, Any]:
        need_user(request)
        return await asyncio.to_thread(_doctor_data, Site.load(settings.root))

    @app.get("/api/host", summary="GPUs, the disk where DATA lives, engine and Compose")
    async def api_host(request: Request) -> dict[str, Any]:
        need_user(request)
        return await asyncio.to_thread(views.host_view, Site.load(settings.root))

    @app.get("/api/lock", summary="Who holds the site lock now, and the running action")
    async def api_lock(request: Request) -> dict[str, Any]:
        need_user(request)
        current = runner.current
        return {"holders": runner.holders(), "action": current.to_data() if current else None}

    @app.post(
        "/api/actions/{kind}/{target}",
        summary="Run an action (start, stop, restart, up, down, down-volumes, enable, "
        "disable, enable-start, backup, restore, verify); needs the X-CSRF-Token header; "
        "down-volumes and restore need confirm=<target>",
    )
    async def api_act(request: Request, kind: str, target: str) -> dict[str, Any]:
        user = need_user(request)
        form = await need_csrf(request, user)
        return runner.submit(kind, target, user.name, form).to_data()

    @app.get("/api/actions/{number}", summary="An action's progress lines, typed events and result")
    async def api_action(request: Request, number: int) -> dict[str, Any]:
        need_user(request)
        action = runner.actions.get(number)
        if action is None:
            raise HTTPException(404, "no such action")
        return action.to_data()

    @app.get("/api/session", summary="Who you are, and the CSRF token your POSTs carry")
    async def api_session(request: Request) -> dict[str, Any]:
        user = need_user(request)
        return {"user": user.name, "via": user.via, "csrf": user.csrf}

    @app.on_event("shutdown")
    async def _stop() -> None:
        hub.close()

    templates.globals.update(
        destructive=DESTRUCTIVE, operations=list(OPERATIONS), csrf_of=lambda u: u.csrf if u else ""
    )
    return app


_SSE = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="/")


def _safe_next(target: str) -> str:
    """Only a path on this site: never `//evil` or `https://…` (an open redirect)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _snapshots(site: Site, name: str) -> list[dict[str, Any]]:
    from ..backup.manage import list_backups

    try:
        listing = list_backups(site, [site.service(name)], sizes=False)
    except HomestackError as error:
        return [{"error": error.message}]
    found = []
    for entry in listing.services:
        if entry.error:
            found.append({"error": entry.error})
        found += [s.to_data() for s in entry.snapshots]
    return found[::-1]


def _backups(site: Site) -> dict[str, Any]:
    from ..backup.manage import list_backups
    from ..observe import hooks

    services = [s for s in site.services(enabled_only=True) if s.meta and s.meta.backup]
    rows: list[dict[str, Any]] = []
    try:
        listing = list_backups(site, services, sizes=True)
        by_id = {entry.service: entry for entry in listing.services}
    except HomestackError as error:
        by_id = {}
        rows.append({"service": "", "error": error.message})
    for service in services:
        entry = by_id.get(service.id)
        last = entry.snapshots[-1] if entry and entry.snapshots else None
        state = hooks.last_backup(site, service.id)
        rows.append(
            {
                "service": service.id,
                "stack": service.stack,
                "repository": entry.repository if entry else "",
                "snapshots": len(entry.snapshots) if entry else 0,
                "last": last.time if last else None,
                "age": _age(last.time) if last else "never",
                "size": last.size if last else None,
                "failed": bool(state.failed),
                "error": entry.error if entry else None,
            }
        )
    calendar = site.root_env.get("BACKUP_ON_CALENDAR", "").strip() or "*-*-* 03:30:00"
    return {"services": rows, "schedule": _schedule(calendar)}


def _schedule(calendar: str) -> dict[str, Any]:
    from ..backup.timer import SYSTEMD_DIR, UNIT

    installed = (SYSTEMD_DIR / f"{UNIT}.timer").is_file()
    return {"on_calendar": calendar, "timer_installed": installed}


def _age(when: str) -> str:
    from ..observe.render import backup_age

    return backup_age(when)


def _doctor(site: Site) -> dict[str, Any]:
    from ..observe.doctor import run_doctor

    result = run_doctor(site)
    return {"checks": result.checks, "failed": result.failed}


def _doctor_data(site: Site) -> dict[str, Any]:
    from ..observe.doctor import run_doctor

    return views.doctor_data(run_doctor(site))
