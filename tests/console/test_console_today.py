"""Which day is "today" on the console: the day of the console's own clock (`wall`), in the
station's local time, the calendar the session log and the fleet store cut days by. The pages
are read at a pinned instant just after local midnight, with the process in a time zone 13
hours ahead of UTC, so the date in UTC is still the day before, and the real date is another
day again: a page that took either would show the wrong day, and its counts would disagree
with its own sessions."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from console_helpers import PASSWORD, csrf_of, served

from station.console import auth
from station.console.app import create_app
from station.fleet import wire
from station.fleet.store import FleetStore, Item, parse_message
from station.storage.sessions import SessionLog

SITE = "gym-a"
STATION = "st-01"
# A fixed offset with no daylight saving (POSIX TZ: the sign is west-positive, so -13 is
# UTC+13), needing no tz database.
AHEAD_OF_UTC = "TST-13"


@pytest.fixture
def local_time_ahead_of_utc() -> Iterator[None]:
    """The process's local time 13 hours ahead of UTC for one test, restored after it."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = AHEAD_OF_UTC
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def _bars(html: str) -> list[str]:
    """The History chart's bars, oldest first, as their tooltips ("DAY: N sessions, J jumps")."""
    return re.findall(r'class="jumps"><title>([^<]+)</title>', html)


def test_today_is_the_console_clocks_local_day_on_history_and_gym(
    tmp_path: Path, local_time_ahead_of_utc: None
) -> None:
    midnight = datetime(2026, 3, 1).timestamp()  # local midnight starting 1 March
    assert datetime.fromtimestamp(midnight, UTC).date() == date(2026, 2, 28)  # UTC: a day behind
    pinned = midnight + 60.0

    # One station's log: a session a minute before local midnight and one just after.
    state = tmp_path / "state"
    with SessionLog.in_state_dir(state) as log:
        for started, jumps in ((midnight - 60.0, 70), (midnight + 30.0, 50)):
            sid = log.begin(started_at=started)
            log.finish(sid, {"jumps": jumps, "duration_s": 20.0}, ended_at=started + 20.0)
        records = log.sessions()

    # The same sessions as the fleet recorder stores them, for the Gym page.
    def sent(kind: str, payload: dict[str, object]) -> Item:
        return parse_message(wire.topic(SITE, STATION, kind), wire.encode(payload), pinned)

    fleet_db = tmp_path / "fleet.sqlite3"
    sessions = [
        sent("session", {"uuid": str(uuid.uuid4()), "site": SITE, "station_id": STATION,
                         "session": r.to_dict()})
        for r in records
    ]  # fmt: skip
    with FleetStore(fleet_db) as store:
        store.write([*sessions, sent("status", {"state": "idle"})])

    site = tmp_path / "station.toml"
    site.write_text(f'[fleet]\ndb = "{fleet_db}"\nsite = "{SITE}"\n')
    auth.set_password(state, PASSWORD)
    app = create_app(site, state, wall=lambda: pinned)
    with served(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        token = csrf_of(client.get("/login").text)
        client.post("/login", data={"csrf": token, "password": PASSWORD})

        history = client.get("/history?days=2").text
        assert _bars(history) == [
            "2026-02-28: 1 sessions, 70 jumps",
            "2026-03-01: 1 sessions, 50 jumps",
        ]
        today_only = client.get("/history?days=1").text
        assert _bars(today_only) == ["2026-03-01: 1 sessions, 50 jumps"]
        assert "1 sessions, 50 jumps in the last 1 days" in today_only

        gym = client.get("/gym").text
        assert "Sessions and jumps on 2026-03-01 (today)." in re.sub(r"\s+", " ", gym)
        assert "<h2>Sessions on 2026-03-01</h2>" in gym
        assert "1 sessions, 50 jumps across the floor" in gym
        # The session's start in the same calendar: half a minute past midnight, not 11:00 UTC
        # the day before.
        assert re.search(r'<table id="sessions">.*<tr><td>00:00</td><td>st-01</td>', gym, re.S)
        row = re.search(rf'<tr data-station="{STATION}">(.*?)</tr>', gym, re.S)
        assert row is not None
        cells = re.findall(r"<td>([^<]*)</td>", row.group(1))
        assert cells[-2:] == ["1", "50"]  # the station's sessions and jumps today
        csv_lines = client.get("/gym.csv").text.splitlines()
        assert len(csv_lines) == 2  # the header and today's one session

        yesterday = client.get("/gym?day=2026-02-28").text
        assert "<h2>Sessions on 2026-02-28</h2>" in yesterday
        assert "(today)" not in yesterday
        assert "1 sessions, 70 jumps across the floor" in yesterday
