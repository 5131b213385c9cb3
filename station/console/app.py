"""The trainers' web console: a Starlette app with Jinja2 pages, served by uvicorn.

:func:`create_app` builds it from the console's areas (:data:`station.console.areas.AREAS`,
one module per area: login, thresholds, live, alerts, mat, camera, history, members). Each
area declares its routes on its handlers, and every route passes the one login/CSRF guard of
:mod:`station.console.routing`. To add an area, follow :mod:`station.console.areas`.

Pages are rendered from the config schema (see :mod:`station.console.forms`); every change goes
through :class:`station.console.sitefile.SiteConfigFile` (validated, atomic, comment-keeping,
audited) and then the running station is asked to reload (SIGHUP via its pid file). The station
and the console only share files in the state directory (:mod:`station.storage.live`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from station.config.schema import Section
from station.console import auth
from station.console.area import COMMAND_TIMEOUT_S, Area, Console
from station.console.areas import AREAS
from station.console.forms import format_value
from station.console.routing import routes_of
from station.console.sitefile import SiteConfigFile
from station.events import FAULTS

log = logging.getLogger("station.console")

HERE = Path(__file__).parent


def create_app(
    site_path: Path,
    state_dir: Path,
    *,
    schema: Section | None = None,
    session_hours: float = 8.0,
    limiter: auth.LoginLimiter | None = None,
    command_timeout_s: float = COMMAND_TIMEOUT_S,
    https: bool = False,
    areas: Sequence[type[Area]] = AREAS,
    wall: Callable[[], float] = time.time,
) -> Starlette:
    """The console serving `areas` (every route behind the guard, menu in their order), editing
    the site config file `site_path`, its sessions and audit log kept in `state_dir`."""
    if schema is None:
        from station.config.sections import SCHEMA

        schema = SCHEMA
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a missing, read-only or full disk: serve anyway, say why
        log.error("cannot create the state folder %s: %s", state_dir, exc.strerror)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["format_value"] = format_value
    templates.env.globals["FAULTS"] = FAULTS
    templates.env.globals["nav"] = [area.nav for area in areas if area.nav is not None]
    templates.env.filters["localtime"] = lambda ts: datetime.fromtimestamp(ts).strftime(
        "%m-%d %H:%M"
    )
    # An ISO 8601 time with its zone (a fleet session's started_at) as the local hour and
    # minute: in the calendar the pages cut days by, so a row sits inside the day it is shown on.
    templates.env.filters["local_hm"] = lambda iso: (
        datetime.fromisoformat(iso).astimezone().strftime("%H:%M")
    )
    console = Console(
        SiteConfigFile(site_path, schema, state_dir),
        state_dir,
        schema,
        templates,
        session_hours,
        limiter or auth.LoginLimiter(),
        command_timeout_s,
        sessions=auth.SessionStore(clock=wall),
        wall=wall,
    )
    routes: list[BaseRoute] = [route for area in areas for route in routes_of(area(console))]
    routes.append(Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"))
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
