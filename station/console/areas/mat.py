"""Mat: live force per zone, the mat's health, and calibration measured by the station: zero,
scale with one known load, and multi-point calibration with several known loads (each read by
the station in turn, then each zone's model fitted with station.mat.calibration, the same
maths as `station mat calibrate`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from station.console.area import Area
from station.console.forms import fields_for
from station.console.routing import get, post
from station.storage import live

SHOWN = ("zones", "offset", "scale", "sensor", "model", "exponent")
"""The [mat] keys whose names contain one of these are shown (read-only) on the page."""


class Mat(Area):
    nav = ("/mat", "Mat")

    @get("/mat")
    async def show(self, request: Request) -> Response:
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
            "health": request.session.get("mat_health"),
            "fit": request.session.get("mat_fit"),
            "model": config.get("mat.model"),
        }
        return self.render(request, "mat.html", context)

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
        result = await self.command(request, "mat_read", {})
        self.command_flash(request, "Calibration reading", result)
        readings = result.data.get("force_n") if result is not None and result.ok else None
        if isinstance(readings, Mapping) and zone in readings:
            fit = request.session.get("mat_fit") or {}
            points = list(fit.get("points", [])) if fit.get("zone") == zone else []
            points.append([known, float(readings[zone])])
            request.session["mat_fit"] = {"zone": zone, "points": points}
        return RedirectResponse("/mat", status_code=303)

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
            request.session["flash"] = "Calibration: read at least one known load first."
            return RedirectResponse("/mat", status_code=303)
        args = {
            "zone": fit.get("zone"),
            "loads_n": [p[0] for p in points],
            "readings_n": [p[1] for p in points],
        }
        response = await self._calibrate(request, "mat_fit", args)
        if str(request.session.get("flash", "")).endswith("Saved to the config file."):
            request.session.pop("mat_fit", None)
        return response

    @post("/mat/zero")
    async def zero(self, request: Request) -> Response:
        return await self._calibrate(request, "mat_zero", {})

    @post("/mat/scale")
    async def scale(self, request: Request) -> Response:
        form = await self.form(request)
        try:
            known = float(form.get("known_n", ""))
            if not 10.0 <= known <= 5000.0:
                raise ValueError
        except ValueError:
            request.session["flash"] = "Scale: give the known load in newtons (10 to 5000 N)."
            return RedirectResponse("/mat", status_code=303)
        args: dict[str, Any] = {"known_n": known}
        if form.get("zone"):
            config, _v, _problem = self.load()
            zones = list(config.get("mat.zones")) if config is not None else []
            if form["zone"] not in zones:
                request.session["flash"] = (
                    f"Scale: there is no zone {form['zone']!r} (zones: {', '.join(zones)})."
                )
                return RedirectResponse("/mat", status_code=303)
            args["zone"] = form["zone"]
        return await self._calibrate(request, "mat_scale", args)

    async def _calibrate(self, request: Request, name: str, args: dict[str, Any]) -> Response:
        result = await self.command(request, name, args)
        what = {"mat_zero": "Zero", "mat_scale": "Scale"}.get(name, "Calibration")
        self.command_flash(request, f"Mat {what.lower()}", result)
        if result is not None and result.ok and isinstance(result.data.get("config"), Mapping):
            # The station measures; the console keeps the figures in the site file.
            form = await self.form(request)
            changes, errors, banner, _st = self.write(
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


def _known_load(text: str) -> float | None:
    try:
        known = float(text)
    except ValueError:
        return None
    return known if 10.0 <= known <= 5000.0 else None
