"""The console's Gym page against a real Mosquitto and `station fleet record`: every station's
state, live count and device health, the day's sessions with the CSV export, and a preset
pushed to a group and to the site, with each station's config/state answer shown.

The stations here are MQTT clients speaking the wire format (the uplink's config handling is
its own work): each answers a config/set on config/state, one of them with a key-path error."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from loopback import served
from servers import (
    SITE,
    RecorderProcess,
    StationClient,
    station_day,
    stations_held,
    wait_sessions,
    wait_until,
)

from station.console import auth
from station.console.app import create_app
from station.fleet import wire
from station.fleet.testbed import Mosquitto

PASSWORD = "jump-coach-42"


class AnsweringStation(StationClient):
    """Answers every config/set addressed to it (itself or the whole site) on config/state;
    `reject` answers with a key-path error instead, as a station whose schema refuses it."""

    def __init__(self, port: int, station_id: str, *, reject: bool = False) -> None:
        super().__init__(port, station_id)
        self.reject = reject
        self.changes: list[dict[str, Any]] = []
        self.client.on_message = self._on_set
        for target in (station_id, wire.ALL):
            self.client.subscribe(wire.topic(SITE, target, "config/set"), qos=1)

    def _on_set(self, client: Any, _u: Any, message: Any) -> None:
        change = wire.decode(message.payload)
        self.changes.append(change)
        errors = [{"key": "presets.intermediate.back.warn", "message": "must be ≤ 45"}]
        answer = {
            "config_version": "v1" if self.reject else "v2",
            "change_id": change["change_id"],
            "ok": not self.reject,
            "errors": errors if self.reject else [],
        }
        client.publish(
            wire.topic(SITE, self.station_id, "config/state"), wire.encode(answer), 1, True
        )


class Wall:
    """The console's wall clock: real time until a test pins it (the Gym page shows a live
    count only while fresh, LIVE_FRESH_S after it arrived: pinned, no load can age it)."""

    def __init__(self) -> None:
        self.pinned: float | None = None

    def __call__(self) -> float:
        return time.time() if self.pinned is None else self.pinned


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture
def console(tmp_path: Path, broker: Mosquitto, wall: Wall) -> Iterator[httpx.Client]:
    site = tmp_path / "station.toml"
    site.write_text(
        '[posture]\npreset = "intermediate"\n\n'
        f'[fleet]\ndb = "{tmp_path / "fleet.sqlite3"}"\nbroker = "127.0.0.1:{broker.port}"\n'
        f'site = "{SITE}"\n'
    )
    state = tmp_path / "state"
    auth.set_password(state, PASSWORD)
    with (
        served(create_app(site, state, wall=wall)) as url,
        httpx.Client(base_url=url, follow_redirects=False, timeout=30) as client,
    ):
        token = _csrf(client.get("/login").text)
        reply = client.post("/login", data={"csrf": token, "password": PASSWORD, "next": "/gym"})
        assert reply.status_code == 303, reply.text
        yield client


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match
    return match.group(1)


def _row(html: str, station: str) -> str:
    match = re.search(rf'<tr data-station="{station}">(.*?)</tr>', html, re.S)
    assert match, f"no row for {station}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_gym_page_shows_the_floor_and_pushes_a_preset(
    console: httpx.Client,
    broker: Mosquitto,
    tmp_path: Path,
    wall: Wall,
) -> None:
    recorder = RecorderProcess(tmp_path, broker.port, str(tmp_path / "fleet.sqlite3"))
    recorder.wait_connected()
    days = [station_day(tmp_path / "logs", f"st-0{i}", 4, seed=40 + i) for i in range(3)]
    stations = [
        AnsweringStation(broker.port, d.station_id, reject=i == 1) for i, d in enumerate(days)
    ]
    for i, (s, d) in enumerate(zip(stations, days, strict=True)):
        devices = {"mat": "failed" if i == 2 else "real", "camera": "real"}
        s.status("in_session" if i == 0 else "idle", devices=devices)
        for topic, payload in d.messages:
            s.publish(topic, payload)
        s.wait_all_acked()
    stations[0].publish(
        wire.topic(SITE, "st-00", "live"), wire.encode({"jumps": 57, "elapsed_s": 30.0}), qos=0
    )
    db = str(tmp_path / "fleet.sqlite3")
    assert wait_sessions(db, 12) == 12, recorder.log()
    # The live count is QoS 0, in no order with the sessions: wait until the recorder holds it.
    wait_until(
        lambda: any((s["live"] or {}).get("jumps") == 57 for s in stations_held(db)),
        "st-00's live count recorded",
    )
    # the page is read 1 s after the live count arrived, however long the machine takes
    (live_at,) = [s["live_at"] for s in stations_held(db) if s["station_id"] == "st-00"]
    wall.pinned = live_at + 1.0

    started = [
        datetime.fromisoformat(s["started_at"]).timestamp()
        for d in days
        for s in (wire.decode(p)["session"] for _t, p in d.messages)
    ]
    day = datetime.fromtimestamp(started[0]).date()
    on_day = sum(datetime.fromtimestamp(t).date() == day for t in started)
    page = console.get(f"/gym?day={day}")
    assert page.status_code == 200, page.text
    assert _row(page.text, "st-00").startswith("st-00 in session 57")
    assert "mat FAILED" in _row(page.text, "st-02")
    assert f"{on_day} sessions" in page.text

    export = console.get(f"/gym.csv?day={day}")
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == on_day and {r["station_id"] for r in rows} <= {"st-00", "st-01", "st-02"}
    assert console.get("/gym.csv?day=yesterday").status_code == 400

    # A group: st-00 and st-01. st-01 refuses with the key path; st-02 was not addressed.
    token = _csrf(page.text)
    reply = console.post(
        "/gym/apply",
        data={
            "csrf": token,
            "preset": "intermediate",
            "target": "stations",
            "stations": "st-00, st-01",
        },
    )
    assert reply.status_code == 303
    # both answers, in whatever order they arrive (st-00's can come after st-01's)
    page = _wait_page(
        console, lambda html: all("waiting" not in _row(html, f"st-0{i}") for i in range(2))
    )
    assert "applied" in _row(page, "st-00")
    assert "rejected: presets.intermediate.back.warn must be ≤ 45" in _row(page, "st-01")
    assert "applied" not in _row(page, "st-02") and not stations[2].changes
    change = stations[0].changes[-1]
    assert change["layer"]["posture"] == {"preset": "intermediate"}
    assert "back" in change["layer"]["presets"]["intermediate"]
    assert datetime.fromisoformat(change["issued_at"]).tzinfo is not None

    # The whole site: every station answers the one retained site-wide message.
    reply = console.post("/gym/apply", data={"csrf": token, "preset": "beginner", "target": "site"})
    assert reply.status_code == 303
    page = _wait_page(
        console, lambda html: all("waiting" not in _row(html, f"st-0{i}") for i in range(3))
    )
    assert "applied" in _row(page, "st-02") and stations[2].changes[-1]["layer"]["posture"] == {
        "preset": "beginner"
    }
    # Without a CSRF token nothing is pushed.
    assert (
        console.post("/gym/apply", data={"preset": "beginner", "target": "site"}).status_code == 403
    )
    for s in stations:
        s.close()
    assert recorder.stop() == 0


def _wait_page(console: httpx.Client, ready: Any, timeout_s: float = 120.0) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        html = console.get("/gym").text
        if ready(html) or time.monotonic() > deadline:
            return html
        time.sleep(0.2)


def test_gym_page_says_when_there_is_no_fleet_database(tmp_path: Path) -> None:
    site = tmp_path / "station.toml"
    site.write_text(f'[fleet]\ndb = "{tmp_path / "none.sqlite3"}"\n')
    state = tmp_path / "state"
    auth.set_password(state, PASSWORD)
    with (
        served(create_app(site, state)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        token = _csrf(client.get("/login").text)
        client.post("/login", data={"csrf": token, "password": PASSWORD})
        page = client.get("/gym")
    assert page.status_code == 200
    assert "No fleet database" in page.text and "Set <code>[fleet] broker</code>" in page.text
