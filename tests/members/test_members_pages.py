"""The members' pages are stored by a session consumer, off the UI thread.

A simulated session runs through a real Station while another process-like connection holds
the members' SQLite database locked (a trainer's long export, a backup, a stuck console): the
summary still shows its QR code, the station never writes the members' database from its
own thread, and once the lock goes the page is stored with the very token the QR code showed.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from members_helpers import make_station, pages_stored
from starlette.testclient import TestClient

from station.console.app import create_app
from station.display.viewmodel import SummaryView
from station.members.pages import CONSUMER_NAME
from station.members.store import MemberStore
from station.runtime.loop import run_fast
from station.runtime.station import Station
from station.storage.sessions import SessionLog

BASE = "http://station.test:8080"
SITE = f'[members]\nbase_url = "{BASE}"\n'
SHORT = """
name = "short"
[[phase]]
kind = "step_on"
duration_s = 1.0
[[phase]]
kind = "stand"
duration_s = 2.5
[[phase]]
kind = "jump"
duration_s = 6.0
[[phase]]
kind = "step_off"
duration_s = 1.0
"""
WRITES = ("INSERT", "UPDATE", "DELETE", "BEGIN", "REPLACE")


def test_a_locked_members_database_delays_the_page_not_the_screen(tmp_path: Path) -> None:
    script = tmp_path / "short.toml"
    script.write_text(SHORT)
    station, hardware, desk = make_station(tmp_path, SITE, script=script)
    on_ui_thread: list[str] = []
    desk.store._db.set_trace_callback(on_ui_thread.append)  # the desk's (UI thread's) link
    locker = sqlite3.connect(desk.store.path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # every other writer now waits, then gives up
    shown: list[Any] = []

    def on_frame(st: Station, now: float) -> None:
        screen = st.view(now).screen
        if isinstance(screen, SummaryView) and not shown:
            shown.append(screen.take_home)

    sources = [s for s in (hardware.open_mat(), hardware.open_camera()) if s is not None]
    run_fast(station, sources, fps=30.0, on_frame=on_frame)
    try:
        assert station.sessions_done == 1 and station.summaries[0]["jumps"] > 0
        assert shown and shown[0] is not None  # the QR code was on the summary screen
        assert desk.take_home is not None
        token = desk.take_home.url.rsplit("/", 1)[1]
        assert station.consumers is not None and not station.consumers.drain(1.0)
        assert len(desk.handover) == 1  # waiting, not lost
        with SessionLog(tmp_path / "state" / "sessions.sqlite3") as log:
            assert len(log.undelivered(CONSUMER_NAME)) == 1
    finally:
        locker.execute("COMMIT")
        locker.close()
    pages_stored(station)
    assert len(desk.handover) == 0
    with MemberStore.in_state_dir(tmp_path / "state") as store:
        lookup = store.page(token, now=time.time())
    assert lookup.state == "ok" and lookup.summary is not None
    assert lookup.summary["jumps"] == station.summaries[0]["jumps"]
    with SessionLog(tmp_path / "state" / "sessions.sqlite3") as log:
        assert log.undelivered(CONSUMER_NAME) == []
    client = TestClient(create_app(tmp_path / "station.toml", tmp_path / "state"))
    assert client.get(f"/m/{token}").status_code == 200
    writes = [s for s in on_ui_thread if s.lstrip().upper().startswith(WRITES)]
    assert writes == []  # the UI thread only read (personal codes on the idle screen)


BACK_TO_SCAN = SHORT + "".join(
    f'[[phase]]\nkind = "{kind}"\nduration_s = {seconds}\n'
    for kind, seconds in (
        ("empty", 7.0),  # the summary goes up 5 s after they left
        ("step_on", 1.0),  # back on to scan their QR code, standing on
        ("stand", 9.0),  # still there when summary_s is up
        ("step_off", 1.0),
        ("empty", 2.0),
    )
)


def test_stepping_back_on_to_scan_keeps_the_qr_code_and_makes_no_session(tmp_path: Path) -> None:
    script = tmp_path / "back.toml"
    script.write_text(BACK_TO_SCAN)
    station, hardware, _ = make_station(tmp_path, SITE, script=script)
    shown: list[tuple[str, Any]] = []  # each frame from the summary on: screen, QR code

    def on_frame(st: Station, now: float) -> None:
        screen = st.view(now).screen
        if shown or isinstance(screen, SummaryView):
            shown.append((type(screen).__name__, getattr(screen, "take_home", None)))

    sources = [s for s in (hardware.open_mat(), hardware.open_camera()) if s is not None]
    run_fast(station, sources, fps=30.0, on_frame=on_frame, settle_s=30.0)
    pages_stored(station)
    with SessionLog(tmp_path / "state" / "sessions.sqlite3") as log:
        rows = log.sessions(every_row=True)
    assert [r.jumps > 0 for r in rows] == [True]  # standing there to scan is no session
    assert station.sessions_done == 1
    summary = [name for name, _ in shown].index("IdleView")
    assert summary > 30 * 17  # past summary_s: someone stood there, not jumping
    codes = {code for _, code in shown[:summary]}
    assert {name for name, _ in shown[:summary]} == {"SummaryView"}
    assert len(codes) == 1 and None not in codes  # one QR code, never wiped
