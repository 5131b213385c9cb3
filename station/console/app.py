"""The trainers' web console: a Starlette app with Jinja2 pages, served by uvicorn.

Pages are rendered from the config schema (see :mod:`station.console.forms`); every change goes
through :class:`station.console.sitefile.SiteConfigFile` (validated, atomic, comment-keeping,
audited) and then the running station is asked to reload (SIGHUP via its pid file). The station
and the console only share files in the state directory (:mod:`station.storage.live`).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from station.config.loader import Config, ConfigInvalid
from station.config.schema import Section
from station.console import auth
from station.console.forms import (
    Field,
    FormError,
    fields_for,
    format_value,
    parse_fields,
    subtables,
)
from station.console.members import member_routes
from station.console.sitefile import PRESET_NAME, PRESET_RULE, ConcurrentEdit, SiteConfigFile
from station.events import FAULTS
from station.storage import live
from station.storage.paths import SESSIONS_DB

log = logging.getLogger("station.console")

HERE = Path(__file__).parent
LIVE_POLL_S = 0.1
LIVE_STALE_S = 2.0
COMMAND_TIMEOUT_S = 4.0
AUDIT_PAGE = 15  # change-log entries per History page


@dataclass
class Console:
    """Everything a request handler needs; one per app."""

    site: SiteConfigFile
    state_dir: Path
    schema: Section
    session_hours: float = 8.0
    limiter: auth.LoginLimiter = field(default_factory=auth.LoginLimiter)
    command_timeout_s: float = COMMAND_TIMEOUT_S
    sessions: auth.SessionStore = field(default_factory=auth.SessionStore)
    # Password checks at once, whoever asks: each is 32 MiB and ~0.3 s of a core (scrypt).
    checking: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))


Handler = Callable[[Request], Awaitable[Response]]


def create_app(
    site_path: Path,
    state_dir: Path,
    *,
    schema: Section | None = None,
    session_hours: float = 8.0,
    limiter: auth.LoginLimiter | None = None,
    command_timeout_s: float = COMMAND_TIMEOUT_S,
    https: bool = False,
) -> Starlette:
    if schema is None:
        from station.config.sections import SCHEMA

        schema = SCHEMA
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a missing, read-only or full disk: serve anyway, say why
        log.error("cannot create the state folder %s: %s", state_dir, exc.strerror)
    console = Console(
        SiteConfigFile(site_path, schema, state_dir),
        state_dir,
        schema,
        session_hours,
        limiter or auth.LoginLimiter(),
        command_timeout_s,
    )
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["format_value"] = format_value
    templates.env.globals["FAULTS"] = FAULTS
    templates.env.filters["localtime"] = lambda ts: datetime.fromtimestamp(ts).strftime(
        "%m-%d %H:%M"
    )
    pages = Pages(console, templates)
    routes = [
        Route("/", pages.home),
        Route("/login", pages.login_form, methods=["GET"]),
        Route("/login", pages.login, methods=["POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/thresholds", pages.thresholds, methods=["GET"]),
        Route("/thresholds", pages.thresholds_save, methods=["POST"]),
        Route("/thresholds/preset", pages.preset_select, methods=["POST"]),
        Route("/presets/new", pages.preset_new, methods=["POST"]),
        Route("/live", pages.live_page, methods=["GET"]),
        Route("/live/stream", pages.live_stream, methods=["GET"]),
        Route("/api/set", pages.api_set, methods=["POST"]),
        Route("/alerts", pages.alerts, methods=["GET"]),
        Route("/alerts", pages.alerts_save, methods=["POST"]),
        Route("/alerts/test-beep", pages.test_beep, methods=["POST"]),
        Route("/mat", pages.mat, methods=["GET"]),
        Route("/mat/zero", pages.mat_zero, methods=["POST"]),
        Route("/mat/scale", pages.mat_scale, methods=["POST"]),
        Route("/camera", pages.camera, methods=["GET"]),
        Route("/camera", pages.camera_save, methods=["POST"]),
        Route("/camera/snapshot", pages.camera_snapshot, methods=["POST"]),
        Route("/history", pages.history, methods=["GET"]),
        Route("/history.csv", pages.history_csv, methods=["GET"]),
        *member_routes(pages),  # members' public pages and the trainer's members page
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=auth.cookie_secret(state_dir),
            session_cookie="station_console",
            # The cookie outlives the login by a minute at most; the login's own expiry is
            # checked on the server (login_at), so a replayed old cookie is refused anyway.
            max_age=max(60, int(session_hours * 3600)),
            same_site="strict",
            https_only=https,  # Secure: over HTTPS the cookie never travels in clear
        ),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.console = console
    return app


class SecurityHeaders:
    """No framing (clickjacking a config page), scripts only from our own /static, no
    MIME sniffing, no referrer leaving the station. Pure ASGI, so streams pass untouched."""

    HEADERS: tuple[tuple[bytes, bytes], ...] = (
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (
            b"content-security-policy",
            b"default-src 'self'; script-src 'self'; img-src 'self' blob: data:; "
            b"style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
        ),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), *self.HEADERS]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except ClientDisconnect:
            return  # the client went (or was dropped as a slow loris): nobody to answer
        except Exception:
            # Answered here, not by Starlette's outer error handler, so a 500 page carries
            # the same headers as every other page.
            log.exception("error serving %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await send_with_headers(
                {"type": "http.response.start", "status": 500,
                 "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                             (b"cache-control", b"no-store")]}
            )  # fmt: skip
            await send({"type": "http.response.body", "body": b"Internal error; it is logged."})


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class Pages:
    def __init__(self, console: Console, templates: Jinja2Templates) -> None:
        self.c = console
        self.templates = templates

    # --- plumbing ------------------------------------------------------------------------------

    def render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        session = request.session
        if "csrf" not in session:
            session["csrf"] = auth.new_csrf_token()
        context = {
            "csrf": session["csrf"],
            "flash": session.pop("flash", None),
            "logged_in": self._logged_in(request),
            "page": name.removesuffix(".html"),
            **context,
        }
        response = self.templates.TemplateResponse(request, name, context, status_code=status)
        response.headers["Cache-Control"] = "no-store"
        return response

    def _logged_in(self, request: Request) -> bool:
        session = request.session
        if not session.get("sid"):
            return False
        try:
            creds = auth.load_credentials(self.c.state_dir)
        except auth.ConsoleDisabled:
            return False
        return self.c.sessions.valid(
            session.get("sid"), creds.fingerprint, self.c.session_hours * 3600
        )

    async def _guard(self, request: Request, *, change: bool) -> Response | None:
        """None if the request may go on; else the response that refuses it."""
        if not self._logged_in(request):
            if request.method == "GET" and not request.url.path.startswith(("/live/", "/api/")):
                return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
            return PlainTextResponse("not logged in", status_code=401)
        if change and not await self._csrf_ok(request):
            return self._csrf_refusal(request)
        return None

    async def _csrf_ok(self, request: Request) -> bool:
        given = request.headers.get("x-csrf-token")
        if given is None:
            form = await request.form()
            value = form.get("csrf")
            given = value if isinstance(value, str) else None
        return auth.csrf_ok(request.session.get("csrf"), given)

    def _csrf_refusal(self, request: Request) -> Response:
        log.warning("CSRF token missing or wrong from %s on %s", client_address(request),
                    request.url.path)  # fmt: skip
        return PlainTextResponse(
            "The form's security token is missing or out of date: reload the page and try again.",
            status_code=403,
        )

    async def _form(self, request: Request) -> dict[str, str]:
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def _broken(self, request: Request, problem: str) -> Response:
        """The page shown instead of a form while the config file on disk is invalid."""
        # 503, not 500: the console works, the station's config does not (yet).
        return self.render(request, "broken.html", {"problem": problem}, 503)

    def _load(self) -> tuple[Config | None, str, str]:
        """(config, file version, problem). A broken file on disk is shown, not hidden."""
        version = self.c.site.remember_current()
        try:
            config, version = self.c.site.load()
        except ConfigInvalid as exc:
            return None, version, str(exc)
        return config, version, ""

    def _saved(self, request: Request, changes: list[Any], back: str) -> Response:
        if not changes:
            request.session["flash"] = "Nothing changed."
        else:
            sent, why = live.request_reload(self.c.state_dir)
            words = ", ".join(f"{c.key} = {format_value(c.new)}" for c in changes)
            request.session["flash"] = f"Saved {words}. " + (
                "The station is reloading." if sent else why[0].upper() + why[1:] + "."
            )
        return RedirectResponse(back, status_code=303)

    def _save(
        self,
        request: Request,
        values: Mapping[str, Any],
        version: str,
        page: str,
    ) -> tuple[list[Any] | None, dict[str, str], str, int]:
        """Returns (changes or None, field errors, banner, status)."""
        try:
            changes = self.c.site.save(values, version, address=client_address(request), page=page)
        except ConcurrentEdit as exc:
            return None, {}, str(exc), 409
        except ConfigInvalid as exc:
            errors = {e.path: e.message for e in exc.errors if e.path}
            general = [str(e) for e in exc.errors if not e.path]
            banner = "Nothing was saved: " + (
                "; ".join(general) if general else "fix the values marked below."
            )
            return None, errors, banner, 400
        return changes, {}, "", 200

    # --- login ---------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/thresholds", status_code=303)

    async def login_form(self, request: Request, error: str = "", status: int = 200) -> Response:
        try:
            auth.load_credentials(self.c.state_dir)
            disabled = ""
        except auth.ConsoleDisabled as exc:
            disabled, status = str(exc), 503
        nxt = request.query_params.get("next", "/thresholds")
        return self.render(
            request, "login.html", {"error": error, "disabled": disabled, "next": nxt}, status
        )

    async def login(self, request: Request) -> Response:
        address = client_address(request)
        try:
            creds = auth.load_credentials(self.c.state_dir)
        except auth.ConsoleDisabled:
            return await self.login_form(request)
        if not await self._csrf_ok(request):
            return self._csrf_refusal(request)
        refusal = self.c.limiter.begin(address)
        if refusal is not None:
            log.warning("login refused from %s: %s", address, refusal.reason)
            if refusal.first:  # once per lock-out: refused requests cannot flood the log
                self.c.site.audit(address, "login-refused", note=refusal.reason)
            wait = int(refusal.wait_s) + 1
            response = await self.login_form(
                request, f"{refusal.reason[0].upper()}{refusal.reason[1:]}. Try again in "
                f"{wait} s.", 429,
            )  # fmt: skip
            response.headers["Retry-After"] = str(wait)
            return response
        try:
            form = await self._form(request)
            # The hash is deliberately slow; keep the event loop free for the live stream.
            async with self.c.checking:
                ok = await asyncio.to_thread(
                    auth.check_password, creds, form.get("password", "")[:1024]
                )
        except BaseException:
            self.c.limiter.failed(address)
            raise
        if not ok:
            self.c.limiter.failed(address)
            log.warning("failed console login from %s", address)
            self.c.site.audit(address, "login-failed")
            return await self.login_form(request, "Wrong password.", 401)
        self.c.limiter.succeeded(address)
        self.c.sessions.revoke(request.session.get("sid"))
        request.session.clear()
        request.session.update(
            {
                "sid": self.c.sessions.create(creds.fingerprint),
                "csrf": auth.new_csrf_token(),  # a fresh token for the logged-in session
            }
        )
        log.info("console login from %s", address)
        self.c.site.audit(address, "login")
        nxt = form.get("next", "/thresholds")
        if not nxt.startswith("/") or nxt.startswith("//"):
            nxt = "/thresholds"
        return RedirectResponse(nxt, status_code=303)

    async def logout(self, request: Request) -> Response:
        if not await self._csrf_ok(request):
            return self._csrf_refusal(request)
        if self._logged_in(request):
            self.c.site.audit(client_address(request), "logout")
        # Server-side: a copy of this cookie is worthless from now on.
        self.c.sessions.revoke(request.session.get("sid"))
        request.session.clear()
        request.session["flash"] = "Logged out."
        return RedirectResponse("/login", status_code=303)

    # --- thresholds ----------------------------------------------------------------------------

    def _preset_groups(
        self,
        config: Config,
        preset: str,
        errors: Mapping[str, str] | None = None,
        submitted: Mapping[str, Any] | None = None,
    ) -> list[tuple[str, str, list[Field]]]:
        """(fault, doc, fields) for each fault of one preset: what its pages show and save."""
        return [
            (fault, doc, fields_for(self.c.schema, config, f"presets.{preset}.{fault}",
                                    errors=errors, submitted=submitted))
            for fault, doc in subtables(self.c.schema, f"presets.{preset}")
        ]  # fmt: skip

    async def thresholds(
        self,
        request: Request,
        errors: Mapping[str, str] | None = None,
        submitted: Mapping[str, Any] | None = None,
        banner: str = "",
        status: int = 200,
        preset: str | None = None,
    ) -> Response:
        if (refusal := await self._guard(request, change=False)) and status == 200:
            return refusal
        config, version, problem = self._load()
        if config is None:
            return self._broken(request, problem)
        presets = list(config["presets"])
        in_force = str(config.get("posture.preset"))
        chosen = preset or request.query_params.get("preset") or in_force
        if chosen not in presets:
            chosen = in_force
        groups = self._preset_groups(config, chosen, errors, submitted)
        return self.render(
            request,
            "thresholds.html",
            {
                "presets": presets,
                "in_force": in_force,
                "chosen": chosen,
                "groups": groups,
                "version": version,
                "banner": banner,
                "errors": errors or {},
            },
            status,
        )

    async def thresholds_save(self, request: Request) -> Response:
        if refusal := await self._guard(request, change=True):
            return refusal
        form = await self._form(request)
        config, _version, problem = self._load()
        if config is None:
            return self._broken(request, problem)
        preset = form.get("preset", "")
        if preset not in config["presets"]:
            return PlainTextResponse(f"no preset {preset!r}", status_code=400)
        fields = [f for _fault, _doc, group in self._preset_groups(config, preset) for f in group]
        return await self._apply(
            request, fields, form, "thresholds", f"/thresholds?preset={preset}",
            lambda e, s, b, st: self.thresholds(request, e, s, b, st, preset),
        )  # fmt: skip

    async def _apply(
        self,
        request: Request,
        fields: list[Field],
        form: Mapping[str, str],
        page: str,
        back: str,
        rerender: Callable[[dict[str, str], dict[str, Any], str, int], Awaitable[Response]],
    ) -> Response:
        submitted = {f.path: form.get(f.path, "") for f in fields}
        present = (await request.form()).getlist("present")
        try:
            values = parse_fields(fields, form, [p for p in present if isinstance(p, str)])
        except FormError as exc:
            return await rerender(exc.errors, submitted, "Nothing was saved: fix the values "
                                  "marked below.", 400)  # fmt: skip
        changes, errors, banner, status = self._save(request, values, form.get("version", ""), page)
        if changes is None:
            return await rerender(errors, submitted if status == 400 else {}, banner, status)
        return self._saved(request, changes, back)

    async def preset_select(self, request: Request) -> Response:
        if refusal := await self._guard(request, change=True):
            return refusal
        form = await self._form(request)
        changes, errors, banner, status = self._save(
            request, {"posture.preset": form.get("preset", "")}, form.get("version", ""),
            "thresholds",
        )  # fmt: skip
        if changes is None:
            banner = banner if status == 409 else "; ".join(errors.values()) or banner
            return await self.thresholds(request, banner=banner, status=status)
        return self._saved(request, changes, "/thresholds")

    async def preset_new(self, request: Request) -> Response:
        """Save the values shown for one preset under a new trainer-chosen name."""
        if refusal := await self._guard(request, change=True):
            return refusal
        form = await self._form(request)
        config, _v, problem = self._load()
        if config is None:
            return self._broken(request, problem)
        source, name = form.get("preset", ""), form.get("name", "").strip().lower()
        if not PRESET_NAME.match(name):
            return await self.thresholds(
                request, banner=PRESET_RULE, status=400, preset=source,
            )  # fmt: skip
        if name in config["presets"]:
            return await self.thresholds(
                request, banner=f"There is already a preset called {name!r}.", status=400,
                preset=source,
            )  # fmt: skip
        if source not in config["presets"]:
            return PlainTextResponse(f"no preset {source!r}", status_code=400)
        values = {}
        for fault, _doc, group in self._preset_groups(config, source):
            for f in group:
                values[f"presets.{name}.{fault}.{f.name}"] = _thaw(f.value)
        changes, _errors, banner, status = self._save(
            request, values, form.get("version", ""), "thresholds"
        )
        if changes is None:
            return await self.thresholds(request, banner=banner, status=status, preset=source)
        request.session["flash"] = f"Saved preset {name!r} (a copy of {source!r})."
        live.request_reload(self.c.state_dir)
        return RedirectResponse(f"/thresholds?preset={name}", status_code=303)

    # --- live tuning ---------------------------------------------------------------------------

    async def live_page(self, request: Request) -> Response:
        if refusal := await self._guard(request, change=False):
            return refusal
        config, version, problem = self._load()
        if config is None:
            return self._broken(request, problem)
        preset = str(config.get("posture.preset"))
        groups = self._preset_groups(config, preset)
        return self.render(
            request, "live.html", {"preset": preset, "groups": groups, "version": version}
        )

    async def live_stream(self, request: Request) -> Response:
        """Server-sent events: every new live status (the station writes ~4/s), and a
        heartbeat with the status's age once a second when the station has gone quiet."""
        if refusal := await self._guard(request, change=False):
            return refusal
        state_dir = self.c.state_dir

        async def events() -> AsyncIterator[str]:
            last_seq, last_sent = -1, 0.0
            yield "retry: 1000\n\n"
            while not await request.is_disconnected():
                status = live.read_live_status(state_dir)
                now = time.monotonic()
                seq = status.seq if status else -1
                if seq != last_seq or now - last_sent >= 1.0:
                    last_seq, last_sent = seq, now
                    yield f"data: {json.dumps(_live_payload(status))}\n\n"
                await asyncio.sleep(LIVE_POLL_S)

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def api_set(self, request: Request) -> Response:
        """JSON: {"key": dotted, "value": text, "version": v} for the live-tuning sliders.
        Only threshold keys (presets.*) may be set this way."""
        if refusal := await self._guard(request, change=True):
            return refusal
        try:
            body = await request.json()
            key, raw, version = str(body["key"]), str(body["value"]), str(body["version"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"ok": False, "message": "bad request"}, status_code=400)
        if not key.startswith("presets."):
            return JSONResponse({"ok": False, "message": "not a threshold"}, status_code=400)
        if not PRESET_NAME.match(key.split(".")[1]):
            return JSONResponse({"ok": False, "message": PRESET_RULE}, status_code=400)
        from station.console.forms import parse_text
        from station.console.sitefile import key_spec

        try:
            value = parse_text(key_spec(self.c.schema, key), raw)
        except (ValueError, KeyError) as exc:
            return JSONResponse({"ok": False, "message": str(exc)}, status_code=400)
        changes, errors, banner, status = self._save(request, {key: value}, version, "live")
        if changes is None:
            message = errors.get(key) or "; ".join(errors.values()) or banner
            return JSONResponse(
                {"ok": False, "message": message, "version": self.c.site.remember_current()},
                status_code=status,
            )
        reloaded, why = live.request_reload(self.c.state_dir) if changes else (False, "")
        return JSONResponse(
            {
                "ok": True,
                "version": self.c.site.remember_current(),
                "message": ("saved; station reloading" if reloaded else f"saved; {why}")
                if changes
                else "unchanged",
            }
        )

    # --- alerts --------------------------------------------------------------------------------

    def _alert_groups(
        self,
        config: Config,
        errors: Mapping[str, str] | None = None,
        submitted: Mapping[str, Any] | None = None,
    ) -> list[tuple[str, str, list[Field]]]:
        """(fault, or "" for all alerts; doc; fields): what the alerts page shows and saves."""
        tables = [("alerts", "All alerts")] + [
            (f"alerts.{name}", doc) for name, doc in subtables(self.c.schema, "alerts")
            if name in FAULTS
        ]  # fmt: skip
        return [
            (table.removeprefix("alerts.") if table != "alerts" else "", doc,
             fields_for(self.c.schema, config, table, errors=errors, submitted=submitted,
                        skip=("buzzer_pin",)))
            for table, doc in tables
        ]  # fmt: skip

    async def alerts(
        self,
        request: Request,
        errors: Mapping[str, str] | None = None,
        submitted: Mapping[str, Any] | None = None,
        banner: str = "",
        status: int = 200,
    ) -> Response:
        if (refusal := await self._guard(request, change=False)) and status == 200:
            return refusal
        config, version, problem = self._load()
        if config is None:
            return self._broken(request, problem)
        groups = self._alert_groups(config, errors, submitted)
        return self.render(
            request,
            "alerts.html",
            {"groups": groups, "version": version, "banner": banner, "errors": errors or {}},
            status,
        )

    async def alerts_save(self, request: Request) -> Response:
        if refusal := await self._guard(request, change=True):
            return refusal
        form = await self._form(request)
        config, _v, problem = self._load()
        if config is None:
            return self._broken(request, problem)
        fields = [f for _fault, _doc, group in self._alert_groups(config) for f in group]
        return await self._apply(
            request, fields, form, "alerts", "/alerts",
            lambda e, s, b, st: self.alerts(request, e, s, b, st),
        )  # fmt: skip

    async def _command(
        self, request: Request, name: str, args: Mapping[str, Any] | None = None
    ) -> live.CommandResult | None:
        try:
            command_id = live.send_command(self.c.state_dir, name, args)
        except OSError as exc:  # full or read-only runtime folder: say so, do not crash
            return live.CommandResult("", False, f"cannot send it to the station: {exc.strerror}")
        self.c.site.audit(client_address(request), f"command:{name}", note=json.dumps(args or {}))
        return await asyncio.to_thread(
            live.wait_result, self.c.state_dir, command_id, self.c.command_timeout_s
        )

    def _command_flash(
        self, request: Request, what: str, result: live.CommandResult | None
    ) -> None:
        if result is None:
            request.session["flash"] = f"{what}: the station did not answer (is it running?)."
        elif result.ok:
            request.session["flash"] = f"{what}: {result.message or 'done'}."
        else:
            request.session["flash"] = f"{what} failed: {result.message}."

    async def test_beep(self, request: Request) -> Response:
        if refusal := await self._guard(request, change=True):
            return refusal
        form = await self._form(request)
        fault = form.get("fault", "")
        args = {"fault": fault} if fault in FAULTS else {}
        result = await self._command(request, "beep", args)
        self._command_flash(request, "Test beep", result)
        return RedirectResponse("/alerts", status_code=303)

    # --- mat -----------------------------------------------------------------------------------

    async def mat(self, request: Request) -> Response:
        if refusal := await self._guard(request, change=False):
            return refusal
        config, version, problem = self._load()
        if config is None:
            return self._broken(request, problem)
        fields = [f for f in fields_for(self.c.schema, config, "mat")
                  if any(w in f.name for w in ("zones", "offset", "scale", "sensor", "model",
                                               "exponent"))]  # fmt: skip
        zones = list(config.get("mat.zones")) if "zones" in config["mat"] else []
        return self.render(
            request, "mat.html", {"fields": fields, "zones": zones, "version": version}
        )

    async def _calibrate(self, request: Request, name: str, args: dict[str, Any]) -> Response:
        result = await self._command(request, name, args)
        what = "Zero" if name == "mat_zero" else "Scale"
        self._command_flash(request, f"Mat {what.lower()}", result)
        if result is not None and result.ok and isinstance(result.data.get("config"), Mapping):
            # The station measures; the console keeps the figures in the site file.
            form = await self._form(request)
            changes, errors, banner, _st = self._save(
                request, dict(result.data["config"]), form.get("version", ""), "mat"
            )
            if changes is None:
                request.session["flash"] = f"Mat {what.lower()} measured but not saved: " + (
                    "; ".join(f"{k}: {v}" for k, v in errors.items()) or banner
                )
            elif changes:
                live.request_reload(self.c.state_dir)
                request.session["flash"] += " Saved to the config file."
        return RedirectResponse("/mat", status_code=303)

    async def mat_zero(self, request: Request) -> Response:
        if refusal := await self._guard(request, change=True):
            return refusal
        return await self._calibrate(request, "mat_zero", {})

    async def mat_scale(self, request: Request) -> Response:
        if refusal := await self._guard(request, change=True):
            return refusal
        form = await self._form(request)
        try:
            known = float(form.get("known_n", ""))
            if not 10.0 <= known <= 5000.0:
                raise ValueError
        except ValueError:
            request.session["flash"] = "Scale: give the known load in newtons (10 to 5000 N)."
            return RedirectResponse("/mat", status_code=303)
        args: dict[str, Any] = {"known_n": known}
        if form.get("zone"):
            config, _v, _problem = self._load()
            zones = list(config.get("mat.zones")) if config is not None else []
            if form["zone"] not in zones:
                request.session["flash"] = (
                    f"Scale: there is no zone {form['zone']!r} (zones: {', '.join(zones)})."
                )
                return RedirectResponse("/mat", status_code=303)
            args["zone"] = form["zone"]
        return await self._calibrate(request, "mat_scale", args)

    # --- camera --------------------------------------------------------------------------------

    def _camera_fields(
        self,
        config: Config,
        errors: Mapping[str, str] | None = None,
        submitted: Mapping[str, Any] | None = None,
    ) -> list[Field]:
        """The camera settings a trainer sets on the camera page (and only those are saved)."""
        return [
            f
            for f in fields_for(self.c.schema, config, "camera", errors=errors, submitted=submitted)
            if f.name in ("placement", "roi")
        ]

    async def camera(
        self,
        request: Request,
        errors: Mapping[str, str] | None = None,
        submitted: Mapping[str, Any] | None = None,
        banner: str = "",
        status: int = 200,
    ) -> Response:
        if (refusal := await self._guard(request, change=False)) and status == 200:
            return refusal
        config, version, problem = self._load()
        if config is None:
            return self._broken(request, problem)
        fields = self._camera_fields(config, errors, submitted)
        return self.render(
            request,
            "camera.html",
            {"fields": fields, "version": version, "banner": banner, "errors": errors or {}},
            status,
        )

    async def camera_save(self, request: Request) -> Response:
        if refusal := await self._guard(request, change=True):
            return refusal
        form = await self._form(request)
        config, _v, problem = self._load()
        if config is None:
            return self._broken(request, problem)
        fields = self._camera_fields(config)
        return await self._apply(
            request, fields, form, "camera", "/camera",
            lambda e, s, b, st: self.camera(request, e, s, b, st),
        )  # fmt: skip

    async def camera_snapshot(self, request: Request) -> Response:
        """One frame, straight from RAM to the browser, then deleted: never stored."""
        if refusal := await self._guard(request, change=True):
            return refusal
        result = await self._command(request, "snapshot")
        if result is None:
            return PlainTextResponse("The station did not answer (is it running?)", 504)
        if not result.ok:
            return PlainTextResponse(f"No snapshot: {result.message}", 502)
        path = live.snapshot_path()
        try:
            image = path.read_bytes()
        except OSError as exc:
            return PlainTextResponse(f"No snapshot: {exc.strerror}", 502)
        finally:
            with contextlib.suppress(OSError):
                path.unlink()
        return Response(image, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    # --- history -------------------------------------------------------------------------------

    def _sessions(self, since: date | None) -> tuple[list[Any], str]:
        """(sessions, problem): a damaged or unreadable log is reported, never a 500."""
        import sqlite3

        from station.storage.sessions import SessionLog

        if not (self.c.state_dir / SESSIONS_DB).exists():
            return [], ""
        try:
            with SessionLog.in_state_dir(self.c.state_dir) as db:
                return db.sessions(since=since), ""
        except (sqlite3.Error, OSError, ValueError, RuntimeError) as exc:
            log.error("cannot read the session log: %s", exc)
            return [], f"The session log cannot be read ({exc}); `station diag` says why."

    async def history(self, request: Request) -> Response:
        if refusal := await self._guard(request, change=False):
            return refusal
        days = _int_param(request, "days", 14, 1, 366)
        first = date.today() - timedelta(days=days - 1)
        records, problem = await asyncio.to_thread(self._sessions, first)
        audit_page = _int_param(request, "audit_page", 0, 0, 100_000)
        audit = await asyncio.to_thread(
            self.c.site.audit_entries, AUDIT_PAGE + 1, audit_page * AUDIT_PAGE
        )
        more, audit = len(audit) > AUDIT_PAGE, audit[:AUDIT_PAGE]
        return self.render(
            request,
            "history.html",
            {
                "days": days,
                **history_summary(records, first, days),
                "recent": records[-20:][::-1],
                "audit": audit,
                "audit_page": audit_page,
                "audit_more": more,
                "problem": problem,
            },
        )

    async def history_csv(self, request: Request) -> Response:
        from station.storage.sessions import CSV_FIELDS

        if refusal := await self._guard(request, change=False):
            return refusal
        since = request.query_params.get("since")
        try:
            first = date.fromisoformat(since) if since else None
        except ValueError:
            return PlainTextResponse("since must be a date like 2026-05-31", 400)
        records, problem = await asyncio.to_thread(self._sessions, first)
        if problem:
            return PlainTextResponse(problem, 503)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(r.csv_row() for r in records)
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="sessions.csv"',
                     "Cache-Control": "no-store"},
        )  # fmt: skip


def history_summary(records: list[Any], first: date, days: int) -> dict[str, Any]:
    """Sessions and jumps per day, and each fault's share of the time at fault."""
    per_day: dict[date, dict[str, int]] = {
        first + timedelta(days=i): {"sessions": 0, "jumps": 0} for i in range(days)
    }
    fault_s = dict.fromkeys(FAULTS, 0.0)
    active_s = 0.0
    for r in records:
        day = datetime.fromtimestamp(r.started_at).date()
        if day in per_day:
            per_day[day]["sessions"] += 1
            per_day[day]["jumps"] += r.jumps
        active_s += r.duration_s
        for fault in FAULTS:
            fault_s[fault] += float(r.faults.get(fault, {}).get("seconds", 0.0))
    rows: list[dict[str, Any]] = [{"day": d, **v} for d, v in per_day.items()]
    return {
        "per_day": rows,
        "max_sessions": max([1, *(v["sessions"] for v in per_day.values())]),
        "max_jumps": max([1, *(v["jumps"] for v in per_day.values())]),
        "fault_share": {f: (fault_s[f] / active_s if active_s else 0.0) for f in FAULTS},
        "max_share": max([1e-9, *(fault_s[f] / active_s if active_s else 0.0 for f in FAULTS)]),
        "total_sessions": len(records),
        "total_jumps": sum(r.jumps for r in records),
    }


def _live_payload(status: live.LiveStatus | None) -> dict[str, Any]:
    if status is None:
        return {"running": False, "message": "The station is not running (no live status)."}
    age = status.age_s()
    payload = {k: getattr(status, k) for k in status.__dataclass_fields__}
    payload["age_s"] = round(age, 2)
    payload["running"] = age < LIVE_STALE_S
    if not payload["running"]:
        payload["message"] = f"No news from the station for {age:.0f} s: is it running?"
    return payload


def _int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    try:
        return min(hi, max(lo, int(request.query_params.get(name, default))))
    except ValueError:
        return default


def _thaw(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
