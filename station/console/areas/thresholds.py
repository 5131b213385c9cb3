"""Thresholds: each fault's levels in a preset, the preset in force, and new presets."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from station.config.loader import Config
from station.config.schema import Section
from station.console.area import FRESH, Area, FormState
from station.console.forms import Field, fields_for, format_value, subtables
from station.console.routing import get, post
from station.console.sitefile import PRESET_NAME, PRESET_RULE
from station.storage import live


def preset_groups(
    schema: Section, config: Config, preset: str, state: FormState = FRESH
) -> list[tuple[str, str, list[Field]]]:
    """(fault, doc, fields) for each fault of one preset: what its pages show and save."""
    return [
        (fault, doc, fields_for(schema, config, f"presets.{preset}.{fault}",
                                errors=state.errors, submitted=state.submitted))
        for fault, doc in subtables(schema, f"presets.{preset}")
    ]  # fmt: skip


class Thresholds(Area):
    nav = ("/thresholds", "Thresholds")

    @get("/thresholds")
    async def show(
        self, request: Request, state: FormState = FRESH, preset: str | None = None
    ) -> Response:
        config, version, problem = self.load()
        if config is None:
            return self.broken(request, problem)
        presets = list(config["presets"])
        in_force = str(config.get("posture.preset"))
        chosen = preset or request.query_params.get("preset") or in_force
        if chosen not in presets:
            chosen = in_force
        groups = [
            (fault, doc, fields, brief(fields))
            for fault, doc, fields in preset_groups(self.c.schema, config, chosen, state)
        ]
        return self.render_form(
            request,
            "thresholds.html",
            version,
            state,
            {"presets": presets, "in_force": in_force, "chosen": chosen, "groups": groups},
        )

    @post("/thresholds")
    async def save(self, request: Request) -> Response:
        form = await self.form(request)
        config, _version, problem = self.load()
        if config is None:
            return self.broken(request, problem)
        preset = form.get("preset", "")
        if preset not in config["presets"]:
            return PlainTextResponse(f"no preset {preset!r}", status_code=400)
        groups = preset_groups(self.c.schema, config, preset)
        fields = [f for _fault, _doc, group in groups for f in group]
        return await self.apply(
            request, fields, form, "thresholds", f"/thresholds?preset={preset}",
            lambda state: self.show(request, state, preset),
        )  # fmt: skip

    @post("/thresholds/preset")
    async def select_preset(self, request: Request) -> Response:
        form = await self.form(request)
        changes, errors, banner, status = self.write(
            request, {"posture.preset": form.get("preset", "")}, form.get("version", ""),
            "thresholds",
        )  # fmt: skip
        if changes is None:
            banner = banner if status == 409 else "; ".join(errors.values()) or banner
            return await self.show(request, FormState(banner=banner, status=status))
        return self.written(request, changes, "/thresholds")

    @post("/presets/new")
    async def new_preset(self, request: Request) -> Response:
        """Save the values shown for one preset under a new trainer-chosen name."""
        form = await self.form(request)
        config, _v, problem = self.load()
        if config is None:
            return self.broken(request, problem)
        source, name = form.get("preset", ""), form.get("name", "").strip().lower()
        if not PRESET_NAME.match(name):
            return await self.show(request, FormState(banner=PRESET_RULE, status=400), source)
        if name in config["presets"]:
            taken = FormState(banner=f"There is already a preset called {name!r}.", status=400)
            return await self.show(request, taken, source)
        if source not in config["presets"]:
            return PlainTextResponse(f"no preset {source!r}", status_code=400)
        values = {}
        for fault, _doc, group in preset_groups(self.c.schema, config, source):
            for f in group:
                values[f"presets.{name}.{fault}.{f.name}"] = _thaw(f.value)
        changes, _errors, banner, status = self.write(
            request, values, form.get("version", ""), "thresholds"
        )
        if changes is None:
            return await self.show(request, FormState(banner=banner, status=status), source)
        request.session["flash"] = f"Saved preset {name!r} (a copy of {source!r})."
        live.request_reload(self.c.state_dir)
        return RedirectResponse(f"/thresholds?preset={name}", status_code=303)


def brief(fields: list[Field]) -> str:
    """A light's levels in a few words, for its closed section: off, or its warn and fault
    levels (the first two numbers when it names them otherwise) with their unit."""
    by_name = {f.name: f for f in fields}
    enabled = by_name.get("enabled")
    if enabled is not None and enabled.value in (False, "false", ""):
        return "off"
    levels = [f for f in fields if f.name in ("warn", "fault")] or [
        f for f in fields if f.widget == "number"
    ][:2]
    words = [f"{f.label} {format_value(f.value)}" for f in levels]
    unit = levels[0].key.unit if levels else ""
    return " · ".join(words) + (f" {unit}" if unit else "")


def _thaw(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
