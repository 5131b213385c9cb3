"""Gym: every station of the gym at a glance (state, live count, device health, config
answer), the day's sessions across the floor with a CSV export, and "apply this preset to…"
one station, a group or the whole site.

It reads the fleet database that `station fleet record` fills ([fleet] db) and pushes presets
as retained ``config/set`` messages through the broker ([fleet] broker); each station's answer
comes back on ``config/state``, which the recorder stores and this page shows. See
docs/fleet-recorder.md.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from datetime import date
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from station.config.loader import Config
from station.console.area import Area, client_address
from station.console.routing import get, post

log = logging.getLogger("station.console")

SITE_TARGET = "site"


class Gym(Area):
    nav = ("/gym", "Gym")

    def _read(self, config: Config, day: date) -> tuple[list[dict[str, Any]], list[Any], str]:
        """(stations, the day's sessions, problem): a missing or unreadable database is said,
        never a 500."""
        from station.fleet.cli import station_rows
        from station.fleet.store import FleetStore, StoreError, day_range, is_postgres

        target = str(config.get("fleet.db"))
        site = str(config.get("fleet.site")) or None
        if not is_postgres(target) and not Path(target).exists():
            return [], [], f"No fleet database at {target} yet: is `station fleet record` running?"
        try:
            with FleetStore(target, readonly=True) as store:
                rows = station_rows(store, site=site, day=day, now=self.c.wall())
                since, until = day_range(day)
                sessions = store.sessions(site=site, since=since, until=until)
        except StoreError as exc:
            log.error("gym page: %s", exc)
            return [], [], str(exc)
        return rows, sessions, ""

    @get("/gym")
    async def show(self, request: Request) -> Response:
        from station.fleet.cli import devices_text

        config, _version, problem = self.load()
        if config is None:
            return self.broken(request, problem)
        today = self.c.today()  # read once: the default day and "(today)" must agree
        day = _day(request, today)
        if day is None:
            return PlainTextResponse("day must be a date like 2026-05-31", 400)
        stations, sessions, problem = await asyncio.to_thread(self._read, config, day)
        change = request.session.get("gym_change") or {}
        return self.render(
            request,
            "gym.html",
            {
                "day": day,
                "today": today,
                "stations": stations,
                "sessions": sessions[::-1],
                "total_jumps": sum(s["session"]["jumps"] for s in sessions),
                "problem": problem,
                "presets": sorted(config["presets"]),
                "current_preset": config.get("posture.preset"),
                "can_push": bool(config.get("fleet.broker") and config.get("fleet.site")),
                "change": change,
                "devices_text": devices_text,
            },
        )

    @get("/gym.csv")
    async def csv_export(self, request: Request) -> Response:
        from station.fleet.store import FLEET_CSV_FIELDS, csv_row

        config, _version, problem = self.load()
        if config is None:
            return PlainTextResponse(problem, 503)
        day = _day(request, self.c.today())
        if day is None:
            return PlainTextResponse("day must be a date like 2026-05-31", 400)
        _stations, sessions, problem = await asyncio.to_thread(self._read, config, day)
        if problem:
            return PlainTextResponse(problem, 503)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=FLEET_CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(csv_row(s) for s in sessions)
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="gym-sessions-{day}.csv"'},
        )

    @post("/gym/apply")
    async def apply_preset(self, request: Request) -> Response:
        from station.fleet.cli import broker_from_config
        from station.fleet.presets import PushError, preset_layer, push
        from station.fleet.wire import ALL, WireError

        form = await self.form(request)
        config, _version, problem = self.load()
        if config is None:
            return self.broken(request, problem)
        name = form.get("preset", "")
        if name not in config["presets"]:
            request.session["flash"] = f"No preset {name!r} here: nothing was sent."
            return RedirectResponse("/gym", status_code=303)
        scope = form.get("target", "")
        if scope == SITE_TARGET:
            targets = [ALL]
        else:
            targets = sorted({t.strip() for t in form.get("stations", "").split(",") if t.strip()})
        site = str(config.get("fleet.site"))
        layer = preset_layer(name, _plain(config["presets"][name]))
        try:
            broker = broker_from_config(config)
            change_id = await asyncio.to_thread(push, broker, site, targets, layer)
        except (PushError, WireError, ValueError, OSError) as exc:
            request.session["flash"] = f"Nothing was sent: {exc}."
            return RedirectResponse("/gym", status_code=303)
        who = "every station of the site" if targets == [ALL] else ", ".join(targets)
        self.c.site.audit(client_address(request), "gym:apply-preset", note=f"{name} -> {who}")
        request.session["gym_change"] = {"id": change_id, "preset": name, "targets": targets}
        request.session["flash"] = (
            f"Sent preset {name!r} to {who}. Each station's answer shows below as it arrives."
        )
        return RedirectResponse("/gym", status_code=303)


def _day(request: Request, today: date) -> date | None:
    """The day asked for (`?day=`), else `today`; None if the parameter is not a date."""
    text = request.query_params.get("day")
    if not text:
        return today
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _plain(value: Any) -> Any:
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
