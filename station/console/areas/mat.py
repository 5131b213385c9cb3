"""Mat: live force per zone, the mat's health, and calibration measured by the station: zero,
scale with one known load, and multi-point calibration with several known loads (each read by
the station in turn, then each zone's model fitted with station.mat.calibration, the same
maths as `station mat calibrate`)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from station.console.area import Area, Console
from station.console.forms import fields_for
from station.console.routing import get, post
from station.storage import live

SHOWN = ("zones", "offset", "scale", "sensor", "model", "exponent")
"""The [mat] keys whose names contain one of these are shown (read-only) on the page."""


@dataclass(frozen=True)
class Outcome:
    """How one calibration step went, as the page (a flash) or its script (JSON) says it."""

    ok: bool
    message: str
    status: int = 200
    saved: bool = False  # new figures were written to the site file
    version: str = ""  # the file's version after that write (the page's next save sends it)


class Mat(Area):
    nav = ("/mat", "Mat")

    def __init__(self, console: Console) -> None:
        super().__init__(console)
        # The calibration running now (what, since when by the monotonic clock), if any: the
        # console is one process and its handlers share one event loop, so this is the lock.
        self._running: tuple[str, float] | None = None

    @get("/mat")
    async def show(self, request: Request, banner: str = "", status: int = 200) -> Response:
        config, version, problem = self.load()
        if config is None:
            return self.broken(request, problem)
        fields = [f for f in fields_for(self.c.schema, config, "mat")
                  if any(w in f.name for w in SHOWN)]  # fmt: skip
        zones = list(config.get("mat.zones")) if "zones" in config["mat"] else []
        context = {
            "fields": fields,
            "zones": zones,
            "version": version,
            "banner": banner,
            "health": request.session.get("mat_health"),
            "fit": request.session.get("mat_fit"),
            "model": config.get("mat.model"),
            "timeout_s": self.c.command_timeout_s,
        }
        return self.render(request, "mat.html", context, status)

    @post("/mat/health")
    async def health(self, request: Request) -> Response:
        """The station judges each zone (station.mat.health); the page shows it until the
        next check."""
        result = await self.command(request, "mat_health", {})
        self.command_flash(request, "Mat health", result)
        if result is not None and result.ok and isinstance(result.data.get("health"), Mapping):
            request.session["mat_health"] = dict(result.data["health"])
        return RedirectResponse("/mat", status_code=303)

    @post("/mat/fit/read")
    async def fit_read(self, request: Request) -> Response:
        """One step of the multi-point calibration: the known load on one zone, read now."""
        form = await self.form(request)
        zone, known = form.get("zone", ""), _known_load(form.get("known_n", ""))
        config, _v, _problem = self.load()
        zones = list(config.get("mat.zones")) if config is not None else []
        if known is None or zone not in zones:
            request.session["flash"] = (
                "Calibration: choose a zone and give the known load in newtons (10 to 5000 N)."
            )
            return RedirectResponse("/mat", status_code=303)

        async def read() -> Outcome:
            result = await self.command(request, "mat_read", {})
            readings = result.data.get("force_n") if result is not None and result.ok else None
            if isinstance(readings, Mapping) and zone in readings:
                fit = request.session.get("mat_fit") or {}
                points = list(fit.get("points", [])) if fit.get("zone") == zone else []
                points.append([known, float(readings[zone])])
                request.session["mat_fit"] = {"zone": zone, "points": points}
            return _outcome("Calibration reading", result)

        return await self._one_at_a_time(request, "calibration reading", read)

    @post("/mat/fit/clear")
    async def fit_clear(self, request: Request) -> Response:
        request.session.pop("mat_fit", None)
        return RedirectResponse("/mat", status_code=303)

    @post("/mat/fit")
    async def fit(self, request: Request) -> Response:
        """Fit the zone's model to the loads read so far, and save it."""
        fit = request.session.get("mat_fit") or {}
        points = fit.get("points", [])
        if not points:
            return await self._answer(
                request, Outcome(False, "Calibration: read at least one known load first.", 400)
            )
        args = {
            "zone": fit.get("zone"),
            "loads_n": [p[0] for p in points],
            "readings_n": [p[1] for p in points],
        }

        async def fit_and_save() -> Outcome:
            outcome = await self._calibrate(request, "mat_fit", args)
            if outcome.saved:
                request.session.pop("mat_fit", None)
            return outcome

        return await self._one_at_a_time(request, "calibration fit", fit_and_save)

    @post("/mat/zero")
    async def zero(self, request: Request) -> Response:
        """Zero offsets from the empty mat (JSON for the page's script, else a page)."""
        return await self._one_at_a_time(
            request, "zero", lambda: self._calibrate(request, "mat_zero", {})
        )

    @post("/mat/scale")
    async def scale(self, request: Request) -> Response:
        """Rescale with a known load on the mat (JSON for the page's script, else a page)."""
        form = await self.form(request)
        try:
            known = float(form.get("known_n", ""))
            if not 10.0 <= known <= 5000.0:
                raise ValueError
        except ValueError:
            no_load = "Scale: give the known load in newtons (10 to 5000 N)."
            return await self._answer(request, Outcome(False, no_load, 400))
        args: dict[str, Any] = {"known_n": known}
        if form.get("zone"):
            config, _v, _problem = self.load()
            zones = list(config.get("mat.zones")) if config is not None else []
            if form["zone"] not in zones:
                no_zone = f"Scale: there is no zone {form['zone']!r} (zones: {', '.join(zones)})."
                return await self._answer(request, Outcome(False, no_zone, 400))
            args["zone"] = form["zone"]
        return await self._one_at_a_time(
            request, "scale", lambda: self._calibrate(request, "mat_scale", args)
        )

    async def _one_at_a_time(
        self, request: Request, what: str, step: Callable[[], Awaitable[Outcome]]
    ) -> Response:
        """Run one calibration step, or refuse it (409) while another is running: two at once
        would both measure the same mat and race to save what they measured."""
        if self._running is not None:
            running, since = self._running
            ago = time.monotonic() - since
            busy = (
                f"Not started: the mat's {running} is still running (started {ago:.0f} s ago, "
                "from this phone or another). Wait for its result, then try again."
            )
            return await self._answer(request, Outcome(False, busy, 409))
        self._running = (what, time.monotonic())  # no await since the check: nothing between
        try:
            outcome = await step()
        finally:
            self._running = None
        return await self._answer(request, outcome)

    async def _answer(self, request: Request, outcome: Outcome) -> Response:
        """JSON for the page's script (it asks with Accept: application/json), else the page:
        a redirect with the outcome as its flash, or for a refusal the page with a banner."""
        if "application/json" in request.headers.get("accept", ""):
            body = {"ok": outcome.ok, "message": outcome.message, "saved": outcome.saved,
                    "version": outcome.version}  # fmt: skip
            return JSONResponse(body, status_code=outcome.status)
        if outcome.status == 409:
            return await self.show(request, outcome.message, 409)
        request.session["flash"] = outcome.message
        return RedirectResponse("/mat", status_code=303)

    async def _calibrate(self, request: Request, name: str, args: dict[str, Any]) -> Outcome:
        result = await self.command(request, name, args)
        what = {"mat_zero": "Mat zero", "mat_scale": "Mat scale"}.get(name, "Mat calibration")
        outcome = _outcome(what, result)
        if result is None or not result.ok or not isinstance(result.data.get("config"), Mapping):
            return outcome
        # The station measures; the console keeps the figures in the site file.
        form = await self.form(request)
        written = self.write_versioned(
            request, dict(result.data["config"]), form.get("version", ""), "mat"
        )
        if written.changes is None:
            why = "; ".join(f"{k}: {v}" for k, v in written.errors.items()) or written.banner
            return Outcome(False, f"{what} measured but not saved: {why}")
        if written.changes:
            live.request_reload(self.c.state_dir)
            saved = outcome.message + " Saved to the config file."
            return Outcome(True, saved, saved=True, version=written.version)
        return outcome


def _outcome(what: str, result: live.CommandResult | None) -> Outcome:
    """The station's answer in words (the same as Area.command_flash)."""
    if result is None:
        return Outcome(False, f"{what}: the station did not answer (is it running?).")
    if result.ok:
        return Outcome(True, f"{what}: {result.message or 'done'}.")
    return Outcome(False, f"{what} failed: {result.message}.")


def _known_load(text: str) -> float | None:
    try:
        known = float(text)
    except ValueError:
        return None
    return known if 10.0 <= known <= 5000.0 else None
