"""Members' pages on the console's web server, and the trainer's members page.

Public, read-only, no login and no cookie (a member's phone gets nothing but the page):

* ``GET /m/TOKEN`` — one session's page behind its take-home link (statistics, cadence chart,
  time per mistake, the one thing to work on and its fix); ``POST /m/TOKEN/keep`` makes a
  personal code holding this session ("keep my history"), once.
* ``GET /h/CODE`` — a personal code's history (charts over the weeks) and the code as a QR
  to save; ``POST /h/CODE/delete`` deletes it all.

An unknown, forged or truncated token gets one plain "not found" page, an expired one "this
link has expired": never an error page, never somebody else's session. The store lives in
:mod:`station.members.store`; this module only turns it into pages.

Trainers (logged in, CSRF-checked like every console change): ``GET /members`` shows the
``[members]`` settings and every code (as a digest prefix: a trainer never sees a code), and
``POST /members/delete`` deletes one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from station.config.loader import ConfigInvalid
from station.console.area import FRESH, Area, FormState, client_address
from station.console.forms import fields_for
from station.console.routing import Access, get, post
from station.display.cues import GOOD_SESSION_TIP, TIPS
from station.events import FAULT_NAMES, FAULTS
from station.members.charts import FAULT_COLOURS, cadence_chart, history_charts
from station.members.qr import make_svg
from station.members.store import MemberStore
from station.members.tokens import history_url

log = logging.getLogger("station.console")


class Members(Area):
    nav = ("/members", "Members")

    # --- plumbing ----------------------------------------------------------------------------

    async def _with_store(self, work: Callable[[MemberStore], Any]) -> Any:
        def run() -> Any:
            with MemberStore.in_state_dir(self.c.state_dir) as store:
                return work(store)

        return await asyncio.to_thread(run)

    def _settings(self) -> dict[str, Any] | None:
        """[members] from the site file; None while the file is broken."""
        try:
            config, _version = self.c.site.load()
        except ConfigInvalid:
            return None
        return dict(config["members"])

    def _page(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        """A public page: no session cookie, no caching, no referrer (SecurityHeaders)."""
        response = self.c.templates.TemplateResponse(
            request, f"members/{name}.html", context, status_code=status
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    def _gone(self, request: Request, state: str) -> Response:
        if state == "expired":
            return self._page(request, "gone", {"title": "This link has expired",
                                                "expired": True}, 410)  # fmt: skip
        return self._page(request, "gone", {"title": "No such page", "expired": False}, 404)

    def _off(self, request: Request) -> Response | None:
        settings = self._settings()
        if settings is None or not settings["enabled"]:
            return self._page(request, "gone", {"title": "Member pages are turned off",
                                                "expired": False, "off": True}, 404)  # fmt: skip
        return None

    # --- a session's page --------------------------------------------------------------------

    @get("/m/{token}", access=Access.PUBLIC)
    async def session_page(self, request: Request) -> Response:
        if off := self._off(request):
            return off
        token = request.path_params["token"]
        lookup = await self._with_store(lambda s: s.page(token, now=self.c.wall()))
        if lookup.state != "ok":
            return self._gone(request, lookup.state)
        summary = lookup.summary
        return self._page(
            request,
            "session",
            {
                "s": summary,
                "token": token,
                "kept": lookup.kept,
                "expires": _when(lookup.expires_at),
                "started": _when(summary["started_at"]),
                "duration": _duration(summary["duration_s"]),
                "cadence_svg": cadence_chart(summary["cadence_series"], summary["duration_s"]),
                "mistakes": _mistakes(summary["fault_seconds"], summary["duration_s"]),
                "tip_title": FAULT_NAMES.get(summary["top_fault"] or "", ""),
                "tip": TIPS.get(summary["top_fault"] or "", GOOD_SESSION_TIP),
            },
        )

    @post("/m/{token}/keep", access=Access.PUBLIC)
    async def keep(self, request: Request) -> Response:
        if off := self._off(request):
            return off
        token = request.path_params["token"]
        lookup, code = await self._with_store(lambda s: s.keep(token, now=self.c.wall()))
        if lookup.state != "ok":
            return self._gone(request, lookup.state)
        if code is None:  # already kept: a replayed request makes no second code
            already = {"title": "This session is already in a history", "expired": False,
                       "kept": True}  # fmt: skip
            return self._page(request, "gone", already, 409)
        return RedirectResponse(f"/h/{code}?new=1", status_code=303)

    # --- a personal code's history -----------------------------------------------------------

    @get("/h/{code}", access=Access.PUBLIC)
    async def history_page(self, request: Request) -> Response:
        if off := self._off(request):
            return off
        settings = self._settings()
        if settings is None:  # the site file broke between the two reads
            return self._gone(request, "unknown")
        code = request.path_params["code"]
        sessions = await self._with_store(lambda s: s.history(code))
        if sessions is None:
            return self._gone(request, "unknown")
        url = history_url(settings["base_url"], code)
        return self._page(
            request,
            "history",
            {
                "code": code,
                "new": request.query_params.get("new") == "1",
                "qr_svg": make_svg(url, scale=6),
                "url": url,
                "sessions": [
                    {**s, "when": _when(s["started_at"]), "duration": _duration(s["duration_s"])}
                    for s in reversed(sessions)
                ],
                "charts": history_charts(sessions),
                "colours": FAULT_COLOURS,
                "names": FAULT_NAMES,
                "keep_days": settings["keep_days"],
            },
        )

    @post("/h/{code}/delete", access=Access.PUBLIC)
    async def delete(self, request: Request) -> Response:
        code = request.path_params["code"]
        form = await request.form()
        if form.get("confirm") != "yes":
            return RedirectResponse(f"/h/{code}", status_code=303)
        deleted = await self._with_store(lambda s: s.delete_code(code))
        if not deleted:
            return self._gone(request, "unknown")
        return self._page(request, "gone", {"title": "Your history is deleted",
                                            "expired": False, "deleted": True})  # fmt: skip

    # --- trainers ----------------------------------------------------------------------------

    @get("/members")
    async def trainer_page(self, request: Request, state: FormState = FRESH) -> Response:
        config, version, problem = self.load()
        if config is None:
            return self.broken(request, problem)
        fields = fields_for(
            self.c.schema, config, "members", errors=state.errors, submitted=state.submitted
        )
        codes = await self._with_store(lambda s: s.codes())
        return self.render_form(
            request,
            "members.html",
            version,
            state,
            {"fields": fields, "codes": codes, "when": _when},
        )

    @post("/members")
    async def trainer_save(self, request: Request) -> Response:
        return await self.save_form(
            request,
            lambda config: fields_for(self.c.schema, config, "members"),
            "members",
            "/members",
            lambda state: self.trainer_page(request, state),
        )

    @post("/members/delete")
    async def trainer_delete(self, request: Request) -> Response:
        form = await self.form(request)
        code_hash = form.get("code_hash", "")
        deleted = await self._with_store(lambda s: s.delete_code_hash(code_hash))
        if deleted:
            log.info("a trainer deleted personal code %s from %s", code_hash[:10],
                     client_address(request))  # fmt: skip
        request.session["flash"] = (
            f"Code {code_hash[:10]} and its history deleted." if deleted else "No such code."
        )
        return RedirectResponse("/members", status_code=303)


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%d %b %Y, %H:%M")


def _duration(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 60}:{s % 60:02d}"


def _mistakes(fault_seconds: dict[str, float], duration_s: float) -> list[dict[str, Any]]:
    total = max(duration_s, 1e-9)
    return [
        {
            "name": FAULT_NAMES[f],
            "seconds": round(fault_seconds.get(f, 0.0)),
            "share": min(100.0, 100.0 * fault_seconds.get(f, 0.0) / total),
            "colour": FAULT_COLOURS[f],
        }
        for f in FAULTS
    ]
