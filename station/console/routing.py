"""Routes declared on their handlers, and the one guard every route goes through.

An area marks each handler with :func:`get` or :func:`post`; :func:`routes_of` turns an area's
marked handlers into Starlette routes, each wrapped in :func:`guard`. The guard is the only
place that checks access, so an area cannot forget it:

- ``Access.TRAINER`` (the default): a logged-in session, and on a POST the session's CSRF
  token (form field ``csrf`` or header ``X-CSRF-Token``). Without a session a page (GET)
  redirects to the login page; a script's request (``/live/...``, ``/api/...``) and every POST
  get 401 (a form's POST as a page saying nothing was saved, with the login form: see
  :func:`login_needed`). A wrong or missing token gets 403. Either way the handler never runs.
- ``Access.ANYONE``: no login (the login form itself, logout), but a POST still needs the
  session's CSRF token.
- ``Access.PUBLIC``: nothing is checked and nothing is asked of the session (the members' own
  pages, opened from a take-home link on a phone with no login). Declare it only for pages
  that show nothing a stranger may not see; ``tests/console/test_console_routes.py`` lists
  them and fails when one appears that it does not know.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from station.console import auth
from station.console.area import Area, Console, client_address, render_page

log = logging.getLogger("station.console")

Handler = Callable[[Request], Awaitable[Response]]
H = TypeVar("H", bound=Callable[..., Awaitable[Response]])

_ROUTES_ATTR = "_console_routes"
SCRIPT_PATHS = ("/live/", "/api/")
"""Requests made by the pages' script, not by a person: refused with 401, never redirected."""


class Access(enum.Enum):
    TRAINER = "trainer"
    ANYONE = "anyone"
    PUBLIC = "public"


@dataclass(frozen=True)
class RouteSpec:
    path: str
    method: str
    access: Access


def _mark(path: str, method: str, access: Access) -> Callable[[H], H]:
    def mark(handler: H) -> H:
        specs = getattr(handler, _ROUTES_ATTR, ())
        setattr(handler, _ROUTES_ATTR, (*specs, RouteSpec(path, method, access)))
        return handler

    return mark


def get(path: str, *, access: Access = Access.TRAINER) -> Callable[[H], H]:
    """Serve GET `path` (and HEAD) with the marked method."""
    return _mark(path, "GET", access)


def post(path: str, *, access: Access = Access.TRAINER) -> Callable[[H], H]:
    """Serve POST `path` with the marked method; it changes something, so it needs CSRF."""
    return _mark(path, "POST", access)


def routes_of(area: Area) -> list[Route]:
    """The area's marked handlers as guarded routes, in the order the class defines them."""
    routes = []
    for name, function in vars(type(area)).items():
        for spec in getattr(function, _ROUTES_ATTR, ()):
            handler: Handler = getattr(area, name)
            routes.append(
                Route(
                    spec.path,
                    guard(area.c, spec, handler),
                    methods=[spec.method],
                    name=f"{type(area).__name__}.{name}",
                )
            )
    return routes


def guard(console: Console, spec: RouteSpec, handler: Handler) -> Handler:
    """`handler`, run only when the request passes `spec`'s access rule (module docstring)."""
    if spec.access is Access.PUBLIC:
        return handler

    async def guarded(request: Request) -> Response:
        if spec.access is Access.TRAINER and not console.logged_in(request):
            return login_needed(console, request)
        if spec.method == "POST" and not await csrf_ok(request):
            return csrf_refusal(request)
        return await handler(request)

    guarded.__doc__ = handler.__doc__
    return guarded


def login_needed(console: Console, request: Request) -> Response:
    """The answer to a trainer's request without a live login.

    A page (GET) redirects to the login page. A form posted after the login ended (it lasts
    `session_hours`; a console restart or a new password also ends it) gets a page that says
    so, that nothing was saved, with the login form right there: the page's script keeps what
    was typed on the phone and puts it back once logged in (see static/console.js, drafts).
    A script's request gets 401 with the reason, as JSON when it asked for JSON."""
    script = request.url.path.startswith(SCRIPT_PATHS)
    if request.method == "GET" and not script:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    if "application/json" in request.headers.get("accept", ""):
        body = {"ok": False, "login": True, "message": login_ended(console) + " Nothing was done."}
        return JSONResponse(body, status_code=401)
    if script:
        return PlainTextResponse("not logged in", status_code=401)
    context = {
        "error": "",
        "disabled": "",
        "expired": login_ended(console),
        "next": back_to(request),
    }
    return render_page(console, request, "login.html", context, 401)


def login_ended(console: Console) -> str:
    return (
        f"Your login has ended (a login lasts {console.session_hours:g} hours; a console "
        "restart or a new password also ends it)."
    )


def back_to(request: Request) -> str:
    """The console page a form was posted from (its Referer, same host only), to return to
    after logging in again; the landing page when the browser did not say."""
    parts = urlsplit(request.headers.get("referer", ""))
    if parts.netloc != request.url.netloc or not parts.path.startswith("/"):
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def csrf_ok(request: Request) -> bool:
    given = request.headers.get("x-csrf-token")
    if given is None:
        form = await request.form()  # Starlette keeps it: the handler reads the same form
        value = form.get("csrf")
        given = value if isinstance(value, str) else None
    return auth.csrf_ok(request.session.get("csrf"), given)


def csrf_refusal(request: Request) -> Response:
    log.warning("CSRF token missing or wrong from %s on %s", client_address(request),
                request.url.path)  # fmt: skip
    return PlainTextResponse(
        "The form's security token is missing or out of date: reload the page and try again.",
        status_code=403,
    )
