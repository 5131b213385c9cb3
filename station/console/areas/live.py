"""Live tuning: the station's metrics against their thresholds, streamed as server-sent
events, and sliders that save a threshold of the preset in force (``/api/set``)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from station import faults
from station.console.area import Area, Written
from station.console.areas.thresholds import preset_groups
from station.console.forms import parse_text
from station.console.routing import get, post
from station.console.sitefile import PRESET_NAME, PRESET_RULE, key_spec
from station.mat.settings import LANDING_GAUGES
from station.storage import live

LIVE_POLL_S = 0.1
LIVE_STALE_S = 2.0


@dataclass(frozen=True)
class Gauge:
    """One metric of the live status drawn as a meter against its warn and fault levels,
    with the direction in which it is a fault."""

    metric: str
    higher_is_worse: bool = True
    name: str = ""
    unit: str = ""


@dataclass(frozen=True)
class Meter:
    """How the live page draws one preset table's section: the light it belongs to and the
    gauges judged against its levels (none: nothing streamed is judged on them)."""

    light: str
    gauges: tuple[Gauge, ...] = ()


def meters() -> dict[str, Meter]:
    """Preset table -> Meter, from the fault registry (station.faults): a fault's camera
    levels live in its spec's threshold section, and its metric says which way is worse; a
    fault the mat judges (its spec names the mat) has the mat's table of the same name,
    whose gauges are the last landing's figures (station.mat.settings.LANDING_GAUGES)."""
    out = {name: Meter(light=name) for name in faults.FAULTS}
    for spec in faults.specs():
        metric = spec.metric
        gauge = Gauge(spec.name, metric.higher_is_worse, metric.name)
        out[spec.thresholds.section] = Meter(spec.name, (gauge,))
        if "mat" in spec.sensors:
            mat = tuple(Gauge(g.metric, True, g.name, g.unit) for g in LANDING_GAUGES)
            out[spec.name] = Meter(spec.name, mat)
    return out


class Live(Area):
    nav = ("/live", "Live")

    @get("/live")
    async def show(self, request: Request) -> Response:
        config, version, problem = self.load()
        if config is None:
            return self.broken(request, problem)
        preset = str(config.get("posture.preset"))
        groups = preset_groups(self.c.schema, config, preset)
        by_table = meters()
        sections = [
            (fault, doc, fields, by_table.get(fault, Meter(light=fault)))
            for fault, doc, fields in groups
        ]
        return self.render(
            request, "live.html", {"preset": preset, "sections": sections, "version": version}
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
        saved = self.write_versioned(request, {key: value}, version, "live")
        if saved.changes is None:
            return self._refused(key, saved)
        reloaded, why = live.request_reload(self.c.state_dir) if saved.changes else (False, "")
        return JSONResponse(
            {
                "ok": True,
                # the version this save wrote: the page's next save sends it
                "version": saved.version,
                "message": ("saved; station reloading" if reloaded else f"saved; {why}")
                if saved.changes
                else "unchanged",
            }
        )

    def _refused(self, key: str, saved: Written) -> Response:
        """A slider's save that was refused: why, and the values now in the file for every
        field of the key's preset (so the page shows what is really in force), with the
        file's version to send next."""
        reply: dict[str, Any] = {"ok": False, "conflict": saved.status == 409}
        if saved.status == 409:
            who = f" ({', '.join(saved.changed)})" if saved.changed else ""
            reply["changed"] = saved.changed or []
            reply["message"] = (
                f"NOT saved: the thresholds were changed by someone else meanwhile{who}. The "
                "sliders now show the values in force; move it again to change it."
            )
        else:
            reply["message"] = (
                saved.errors.get(key) or "; ".join(saved.errors.values()) or saved.banner
            )
        config, version, _problem = self.load()
        reply["version"] = version
        if config is not None:
            preset = key.split(".")[1]
            if preset in config["presets"]:
                reply["values"] = {
                    f.path: f.value
                    for _fault, _doc, fields in preset_groups(self.c.schema, config, preset)
                    for f in fields
                    if not isinstance(f.value, tuple)
                }
        return JSONResponse(reply, status_code=saved.status)


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
