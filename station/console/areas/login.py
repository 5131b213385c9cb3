"""Login and logout: a password check that is slow on purpose and rationed per address."""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from station.console import auth
from station.console.area import Area, client_address
from station.console.routing import Access, get, post

log = logging.getLogger("station.console")

LANDING = "/thresholds"
"""Where a trainer lands after logging in (unless the login page was asked for another page)."""


class Login(Area):
    @get("/", access=Access.ANYONE)
    async def home(self, request: Request) -> Response:
        return RedirectResponse(LANDING, status_code=303)

    @get("/login", access=Access.ANYONE)
    async def login_form(
        self, request: Request, error: str = "", status: int = 200, nxt: str | None = None
    ) -> Response:
        try:
            auth.load_credentials(self.c.state_dir)
            disabled = ""
        except auth.ConsoleDisabled as exc:
            disabled, status = str(exc), 503
        nxt = nxt or request.query_params.get("next", LANDING)
        return self.render(
            request, "login.html", {"error": error, "disabled": disabled, "next": nxt}, status
        )

    @post("/login", access=Access.ANYONE)
    async def login(self, request: Request) -> Response:
        address = client_address(request)
        try:
            creds = auth.load_credentials(self.c.state_dir)
        except auth.ConsoleDisabled:
            return await self.login_form(request)
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
            form = await self.form(request)
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
            # the page to go back to survives a mistyped password
            return await self.login_form(request, "Wrong password.", 401, form.get("next"))
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
        nxt = form.get("next", LANDING)
        # Only back inside the console: browsers read "/\\host" like "//host", another site.
        if not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt:
            nxt = LANDING
        return RedirectResponse(nxt, status_code=303)

    @post("/logout", access=Access.ANYONE)
    async def logout(self, request: Request) -> Response:
        if self.c.logged_in(request):
            self.c.site.audit(client_address(request), "logout")
        # Server-side: a copy of this cookie is worthless from now on.
        self.c.sessions.revoke(request.session.get("sid"))
        request.session.clear()
        request.session["flash"] = "Logged out."
        return RedirectResponse("/login", status_code=303)
