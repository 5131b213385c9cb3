"""What every console area shares: the app's state (:class:`Console`) and the :class:`Area`
base class, whose helpers render a page, load the site file, save a form through it and send
a command to the station.

An area never checks the login or the CSRF token itself: :mod:`station.console.routing` does,
once, for every route it declares.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from station.config.loader import Config, ConfigInvalid
from station.config.schema import Section
from station.console import auth
from station.console.forms import Field, FormError, format_value, parse_fields
from station.console.sitefile import Change, ConcurrentEdit, SiteConfigFile
from station.storage import live

log = logging.getLogger("station.console")

COMMAND_TIMEOUT_S = 4.0


@dataclass(frozen=True)
class FormState:
    """How a form page is shown: fresh (the default), or again after a refused save with each
    field's error, the text the trainer typed, a banner saying why, and the HTTP status."""

    errors: Mapping[str, str] = field(default_factory=dict)
    submitted: Mapping[str, Any] = field(default_factory=dict)
    banner: str = ""
    status: int = 200


FRESH = FormState()


@dataclass(frozen=True)
class Written:
    """How a save went: `changes` (None: refused), each field's error, a banner saying why,
    the HTTP status, the file's version after a save, and on a refused concurrent edit the
    keys someone else changed (None: not known)."""

    changes: list[Change] | None
    errors: dict[str, str]
    banner: str
    status: int
    version: str = ""
    changed: list[str] | None = None


Rerender = Callable[[FormState], Awaitable[Response]]
"""Shows a form page again in the given state (after a refused save)."""


@dataclass
class Console:
    """Everything a request handler needs; one per app."""

    site: SiteConfigFile
    state_dir: Path
    schema: Section
    templates: Jinja2Templates
    session_hours: float = 8.0
    limiter: auth.LoginLimiter = field(default_factory=auth.LoginLimiter)
    command_timeout_s: float = COMMAND_TIMEOUT_S
    sessions: auth.SessionStore = field(default_factory=auth.SessionStore)
    # Password checks at once, whoever asks: each is 32 MiB and ~0.3 s of a core (scrypt).
    checking: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))
    wall: Callable[[], float] = time.time
    """Unix time for what goes by the calendar (logins, the members' links, "today" on the
    History and Gym pages); injected in tests."""

    def today(self) -> date:
        """The day it is now by :attr:`wall`, in the station's local time: the calendar the
        session log and the fleet store cut days by (local midnight), so a page's "today" is
        the day its own data calls today, and a trainer's "today" at the gym."""
        return date.fromtimestamp(self.wall())

    def logged_in(self, request: Request) -> bool:
        """The request carries a live session: not logged out, not expired, and made with the
        password in force now (a new password, even set from the shell, ends every session)."""
        sid = request.session.get("sid")
        if not sid:
            return False
        try:
            creds = auth.load_credentials(self.state_dir)
        except auth.ConsoleDisabled:
            return False
        return self.sessions.valid(sid, creds.fingerprint, self.session_hours * 3600)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def render_page(
    console: Console, request: Request, name: str, context: Mapping[str, Any], status: int = 200
) -> Response:
    """A page (templates/NAME) with the session's CSRF token, flash message and menu; never
    cached."""
    session = request.session
    if "csrf" not in session:
        session["csrf"] = auth.new_csrf_token()
    context = {
        "csrf": session["csrf"],
        "flash": session.pop("flash", None),
        "logged_in": console.logged_in(request),
        "page": name.removesuffix(".html"),
        **context,
    }
    response = console.templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


class Area:
    """One area of the console (a page or a few): its handlers are methods marked with
    :func:`station.console.routing.get` / :func:`~station.console.routing.post`.

    `nav` is its (path, label) in the menu bar, or None for an area with no menu entry.
    """

    nav: ClassVar[tuple[str, str] | None] = None

    def __init__(self, console: Console) -> None:
        self.c = console

    # --- pages ---------------------------------------------------------------------------------

    def render(
        self, request: Request, name: str, context: Mapping[str, Any], status: int = 200
    ) -> Response:
        """A trainer's page (templates/NAME) with the session's CSRF token, flash message and
        menu; never cached."""
        return render_page(self.c, request, name, context, status)

    def render_form(
        self,
        request: Request,
        name: str,
        version: str,
        state: FormState,
        context: Mapping[str, Any],
    ) -> Response:
        """A page holding a form made from the site file at `version`, shown in `state`."""
        return self.render(
            request,
            name,
            {"version": version, "banner": state.banner, "errors": state.errors, **context},
            state.status,
        )

    def broken(self, request: Request, problem: str) -> Response:
        """The page shown instead of a form while the config file on disk is invalid."""
        # 503, not 500: the console works, the station's config does not (yet).
        return self.render(request, "broken.html", {"problem": problem}, 503)

    # --- the site file ---------------------------------------------------------------------------

    def load(self) -> tuple[Config | None, str, str]:
        """(config, file version, problem). A broken file on disk is shown, not hidden."""
        version = self.c.site.remember_current()
        try:
            config, version = self.c.site.load()
        except ConfigInvalid as exc:
            return None, version, str(exc)
        return config, version, ""

    async def form(self, request: Request) -> dict[str, str]:
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def write(
        self, request: Request, values: Mapping[str, Any], version: str, page: str
    ) -> tuple[list[Change] | None, dict[str, str], str, int]:
        """Save `values` to the site file: (changes or None, field errors, banner, status)."""
        saved = self.write_versioned(request, values, version, page)
        return saved.changes, saved.errors, saved.banner, saved.status

    def write_versioned(
        self, request: Request, values: Mapping[str, Any], version: str, page: str
    ) -> Written:
        """:meth:`write`, also saying the file's version after the save and, for a refused
        concurrent edit, which keys someone else changed."""
        try:
            changes, new_version = self.c.site.save_versioned(
                values, version, address=client_address(request), page=page
            )
        except ConcurrentEdit as exc:
            return Written(None, {}, str(exc), 409, changed=exc.changed_keys)
        except ConfigInvalid as exc:
            errors = {e.path: e.message for e in exc.errors if e.path}
            general = [str(e) for e in exc.errors if not e.path]
            banner = "Nothing was saved: " + (
                "; ".join(general) if general else "fix the values marked below."
            )
            return Written(None, errors, banner, 400)
        return Written(changes, {}, "", 200, version=new_version)

    def written(self, request: Request, changes: list[Change], back: str) -> Response:
        """After a save: ask the station to reload, say what changed, go `back`."""
        if not changes:
            request.session["flash"] = "Nothing changed."
        else:
            sent, why = live.request_reload(self.c.state_dir)
            words = ", ".join(f"{c.key} = {format_value(c.new)}" for c in changes)
            request.session["flash"] = f"Saved {words}. " + (
                "The station is reloading." if sent else why[0].upper() + why[1:] + "."
            )
        return RedirectResponse(back, status_code=303)

    async def apply(
        self,
        request: Request,
        fields: list[Field],
        form: Mapping[str, str],
        page: str,
        back: str,
        rerender: Rerender,
    ) -> Response:
        """Parse a posted form of `fields` and save it; a refusal shows the form again."""
        submitted = {f.path: form.get(f.path, "") for f in fields}
        present = (await request.form()).getlist("present")
        try:
            values = parse_fields(fields, form, [p for p in present if isinstance(p, str)])
        except FormError as exc:
            banner = "Nothing was saved: fix the values marked below."
            return await rerender(FormState(exc.errors, submitted, banner, 400))
        changes, errors, banner, status = self.write(request, values, form.get("version", ""), page)
        if changes is None:
            kept = submitted if status == 400 else {}
            return await rerender(FormState(errors, kept, banner, status))
        return self.written(request, changes, back)

    async def save_form(
        self,
        request: Request,
        fields_of: Callable[[Config], list[Field]],
        page: str,
        back: str,
        rerender: Rerender,
    ) -> Response:
        """Save the posted form of a page whose fields are `fields_of(config)`, then go `back`
        (or show the page again, via `rerender`, saying what was wrong)."""
        form = await self.form(request)
        config, _version, problem = self.load()
        if config is None:
            return self.broken(request, problem)
        return await self.apply(request, fields_of(config), form, page, back, rerender)

    # --- commands to the station -------------------------------------------------------------

    async def command(
        self, request: Request, name: str, args: Mapping[str, Any] | None = None
    ) -> live.CommandResult | None:
        """Send a command to the running station and wait for its answer (None: no answer)."""
        try:
            command_id = live.send_command(self.c.state_dir, name, args)
        except OSError as exc:  # full or read-only runtime folder: say so, do not crash
            return live.CommandResult("", False, f"cannot send it to the station: {exc.strerror}")
        self.c.site.audit(client_address(request), f"command:{name}", note=json.dumps(args or {}))
        return await asyncio.to_thread(
            live.wait_result, self.c.state_dir, command_id, self.c.command_timeout_s
        )

    def command_flash(self, request: Request, what: str, result: live.CommandResult | None) -> None:
        if result is None:
            request.session["flash"] = f"{what}: the station did not answer (is it running?)."
        elif result.ok:
            request.session["flash"] = f"{what}: {result.message or 'done'}."
        else:
            request.session["flash"] = f"{what} failed: {result.message}."
