"""History: sessions and jumps per day, each fault's share of the time, recent sessions,
the CSV export, and the console's change log."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import sqlite3
from datetime import date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from station.console.area import Area
from station.console.routing import get
from station.events import FAULTS
from station.storage.paths import SESSIONS_DB
from station.storage.sessions import CSV_FIELDS, SessionLog, SessionRecord

log = logging.getLogger("station.console")

AUDIT_PAGE = 15  # change-log entries per History page


class History(Area):
    nav = ("/history", "History")

    def _sessions(self, since: date | None) -> tuple[list[SessionRecord], str]:
        """(sessions, problem): a damaged or unreadable log is reported, never a 500."""
        if not (self.c.state_dir / SESSIONS_DB).exists():
            return [], ""
        try:
            with SessionLog.in_state_dir(self.c.state_dir) as db:
                return db.sessions(since=since), ""
        except (sqlite3.Error, OSError, ValueError, RuntimeError) as exc:
            log.error("cannot read the session log: %s", exc)
            return [], f"The session log cannot be read ({exc}); `station diag` says why."

    @get("/history")
    async def show(self, request: Request) -> Response:
        days = _int_param(request, "days", 14, 1, 366)
        first = self.c.today() - timedelta(days=days - 1)
        records, problem = await asyncio.to_thread(self._sessions, first)
        audit_page = _int_param(request, "audit_page", 0, 0, 100_000)
        audit = await asyncio.to_thread(
            self.c.site.audit_entries, AUDIT_PAGE + 1, audit_page * AUDIT_PAGE
        )
        more, audit = len(audit) > AUDIT_PAGE, audit[:AUDIT_PAGE]
        return self.render(
            request,
            "history.html",
            {
                "days": days,
                **history_summary(records, first, days),
                "recent": records[-20:][::-1],
                "audit": audit,
                "audit_page": audit_page,
                "audit_more": more,
                "problem": problem,
            },
        )

    @get("/history.csv")
    async def csv_export(self, request: Request) -> Response:
        since = request.query_params.get("since")
        try:
            first = date.fromisoformat(since) if since else None
        except ValueError:
            return PlainTextResponse("since must be a date like 2026-05-31", 400)
        records, problem = await asyncio.to_thread(self._sessions, first)
        if problem:
            return PlainTextResponse(problem, 503)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(r.csv_row() for r in records)
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="sessions.csv"',
                     "Cache-Control": "no-store"},
        )  # fmt: skip


def history_summary(records: list[SessionRecord], first: date, days: int) -> dict[str, Any]:
    """Sessions and jumps per day, and each fault's share of the time at fault."""
    per_day: dict[date, dict[str, int]] = {
        first + timedelta(days=i): {"sessions": 0, "jumps": 0} for i in range(days)
    }
    fault_s = dict.fromkeys(FAULTS, 0.0)
    active_s = 0.0
    for r in records:
        day = datetime.fromtimestamp(r.started_at).date()
        if day in per_day:
            per_day[day]["sessions"] += 1
            per_day[day]["jumps"] += r.jumps
        active_s += r.duration_s
        for fault in FAULTS:
            fault_s[fault] += float(r.faults.get(fault, {}).get("seconds", 0.0))
    rows: list[dict[str, Any]] = [{"day": d, **v} for d, v in per_day.items()]
    return {
        "per_day": rows,
        "max_sessions": max([1, *(v["sessions"] for v in per_day.values())]),
        "max_jumps": max([1, *(v["jumps"] for v in per_day.values())]),
        "fault_share": {f: (fault_s[f] / active_s if active_s else 0.0) for f in FAULTS},
        "max_share": max([1e-9, *(fault_s[f] / active_s if active_s else 0.0 for f in FAULTS)]),
        "total_sessions": len(records),
        "total_jumps": sum(r.jumps for r in records),
    }


def _int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    try:
        return min(hi, max(lo, int(request.query_params.get(name, default))))
    except ValueError:
        return default
