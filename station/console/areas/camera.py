"""Camera: placement and region of interest, drawn on a snapshot that is never stored."""

from __future__ import annotations

import contextlib

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from station.config.loader import Config
from station.console.area import FRESH, Area, FormState
from station.console.forms import Field, fields_for
from station.console.routing import get, post
from station.storage import live

FORM_KEYS = ("placement", "roi")
"""The [camera] keys a trainer sets on this page (and the only ones its form saves)."""


class Camera(Area):
    nav = ("/camera", "Camera")

    def _fields(self, config: Config, state: FormState = FRESH) -> list[Field]:
        shown = fields_for(
            self.c.schema, config, "camera", errors=state.errors, submitted=state.submitted
        )
        return [f for f in shown if f.name in FORM_KEYS]

    @get("/camera")
    async def show(self, request: Request, state: FormState = FRESH) -> Response:
        config, version, problem = self.load()
        if config is None:
            return self.broken(request, problem)
        fields = self._fields(config, state)
        return self.render_form(request, "camera.html", version, state, {"fields": fields})

    @post("/camera")
    async def save(self, request: Request) -> Response:
        return await self.save_form(
            request, self._fields, "camera", "/camera", lambda state: self.show(request, state)
        )

    @post("/camera/snapshot")
    async def snapshot(self, request: Request) -> Response:
        """One frame, straight from RAM to the browser, then deleted: never stored."""
        result = await self.command(request, "snapshot")
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
