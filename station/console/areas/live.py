"""Live tuning: the station's metrics against their thresholds, streamed as server-sent
events, and sliders that save a threshold of the preset in force (``/api/set``)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from station.console.area import Area
from station.console.areas.thresholds import preset_groups
from station.console.forms import parse_text
from station.console.routing import get, post
from station.console.sitefile import PRESET_NAME, PRESET_RULE, key_spec
from station.storage import live

LIVE_POLL_S = 0.1
LIVE_STALE_S = 2.0


class Live(Area):
    nav = ("/live", "Live")

    @get("/live")
    async def show(self, request: Request) -> Response:
        config, version, problem = self.load()
        if config is None:
            return self.broken(request, problem)
        preset = str(config.get("posture.preset"))
        groups = preset_groups(self.c.schema, config, preset)
        return self.render(
            request, "live.html", {"preset": preset, "groups": groups, "version": version}
        )

    @get("/live/stream")
    async def stream(self, request: Request) -> Response:
        """Server-sent events: every new live status (the station writes ~4/s), and a
        heartbeat with the status's age once a second when the station has gone quiet."""
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
                    yield f"data: {json.dumps(live_payload(status))}\n\n"
                await asyncio.sleep(LIVE_POLL_S)

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @post("/api/set")
    async def set_threshold(self, request: Request) -> Response:
        """JSON: {"key": dotted, "value": text, "version": v} for the live-tuning sliders.
        Only threshold keys (presets.*) may be set this way."""
        try:
            body = await request.json()
            key, raw, version = str(body["key"]), str(body["value"]), str(body["version"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"ok": False, "message": "bad request"}, status_code=400)
        if not key.startswith("presets."):
            return JSONResponse({"ok": False, "message": "not a threshold"}, status_code=400)
        if not PRESET_NAME.match(key.split(".")[1]):
            return JSONResponse({"ok": False, "message": PRESET_RULE}, status_code=400)
        try:
            value = parse_text(key_spec(self.c.schema, key), raw)
        except (ValueError, KeyError) as exc:
            return JSONResponse({"ok": False, "message": str(exc)}, status_code=400)
        changes, errors, banner, status = self.write(request, {key: value}, version, "live")
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


def live_payload(status: live.LiveStatus | None) -> dict[str, Any]:
    """The live status as the page's script reads it, with whether the station is running."""
    if status is None:
        return {"running": False, "message": "The station is not running (no live status)."}
    age = status.age_s()
    payload = {k: getattr(status, k) for k in status.__dataclass_fields__}
    payload["age_s"] = round(age, 2)
    payload["running"] = age < LIVE_STALE_S
    if not payload["running"]:
        payload["message"] = f"No news from the station for {age:.0f} s: is it running?"
    return payload
