"""Mat: live force per zone, and zero and scale calibration measured by the station."""

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
        return self.render(
            request, "mat.html", {"fields": fields, "zones": zones, "version": version}
        )

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
        what = "Zero" if name == "mat_zero" else "Scale"
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
