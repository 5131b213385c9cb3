"""Alerts: the buzzer settings for all faults and for each, and a test beep."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from station.config.loader import Config
from station.console.area import FRESH, Area, FormState
from station.console.forms import Field, fields_for, subtables
from station.console.routing import get, post
from station.events import FAULTS


class Alerts(Area):
    nav = ("/alerts", "Alerts")

    def _groups(
        self, config: Config, state: FormState = FRESH
    ) -> list[tuple[str, str, list[Field]]]:
        """(fault, or "" for all alerts; doc; fields): what the alerts page shows and saves."""
        tables = [("alerts", "All alerts")] + [
            (f"alerts.{name}", doc) for name, doc in subtables(self.c.schema, "alerts")
            if name in FAULTS
        ]  # fmt: skip
        return [
            (table.removeprefix("alerts.") if table != "alerts" else "", doc,
             fields_for(self.c.schema, config, table, errors=state.errors,
                        submitted=state.submitted, skip=("buzzer_pin",)))
            for table, doc in tables
        ]  # fmt: skip

    @get("/alerts")
    async def show(self, request: Request, state: FormState = FRESH) -> Response:
        config, version, problem = self.load()
        if config is None:
            return self.broken(request, problem)
        groups = self._groups(config, state)
        return self.render_form(request, "alerts.html", version, state, {"groups": groups})

    @post("/alerts")
    async def save(self, request: Request) -> Response:
        return await self.save_form(
            request,
            lambda config: [f for _fault, _doc, group in self._groups(config) for f in group],
            "alerts",
            "/alerts",
            lambda state: self.show(request, state),
        )

    @post("/alerts/test-beep")
    async def test_beep(self, request: Request) -> Response:
        form = await self.form(request)
        fault = form.get("fault", "")
        args = {"fault": fault} if fault in FAULTS else {}
        result = await self.command(request, "beep", args)
        self.command_flash(request, "Test beep", result)
        return RedirectResponse("/alerts", status_code=303)
