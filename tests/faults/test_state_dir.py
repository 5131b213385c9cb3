"""A read-only, full or damaged state folder, at start and mid-session, under a real running
station: it keeps counting and coaching, the trainer notice says sessions are not being saved,
and what was saved before the fault is still there, intact, afterwards.

Read-only and full file systems are real tmpfs mounts, where the test may mount (root with
CAP_SYS_ADMIN, as on the dev VM); elsewhere those two tests skip. (A file-size limit is no
stand-in: SQLite's write-ahead log rewrites its file in place, so RLIMIT_FSIZE never trips.)"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from faults_helpers import (
    PASSWORD,
    Station,
    csrf_of,
    fill,
    login,
    remount,
    running,
    tally,
)
from loopback import served
from tmpfs_mount import can_mount, tmpfs

from station.storage.paths import SESSIONS_DB

NOT_SAVED = "Sessions are not being saved"
FAST = "[session]\ncheckpoint_s = 1.0\n"


def notice(station: Station) -> str:
    status = station.status()
    return (status.config_problem or "") if status else ""


def integrity(db: Path) -> str:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        result = str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    conn.close()
    return result


def sessions_in(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        count = int(conn.execute("SELECT count(*) FROM sessions").fetchone()[0])
    conn.close()
    return count


def finish(station: Station) -> None:
    code = station.stop()
    tally(traceback=station.tracebacks() > 0)
    assert code == 0, station.log()[-3000:]
    assert station.tracebacks() == 0, station.log()[-3000:]


def test_an_unwritable_state_folder_at_start(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.write_text("a file where the folder should be")
    with running(tmp_path, FAST, state=state) as station:
        station.counting()
        station.wait_for("the trainer notice", lambda: NOT_SAVED in notice(station))
        finish(station)
    assert "sessions are not being saved" in station.log()


def test_a_damaged_log_at_start_is_moved_aside(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    garbage = b"\x00\xffnot sqlite" * 5000
    (state / SESSIONS_DB).write_bytes(garbage)
    with running(tmp_path, FAST, state=state) as station:
        station.counting()
        assert NOT_SAVED not in notice(station)  # a fresh log: sessions are saved
        finish(station)
    aside = list(state.glob(f"{SESSIONS_DB}.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == garbage
    assert "moved aside" in station.log() and str(aside[0]) in station.log()
    assert integrity(state / SESSIONS_DB) == "ok" and sessions_in(state / SESSIONS_DB) >= 1


needs_mount = pytest.mark.skipif(not can_mount(), reason="cannot mount a tmpfs here")


@needs_mount
def test_a_read_only_state_folder_at_start(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "state", "16m") as state:
        remount(state, "ro")
        with running(tmp_path, FAST, state=state) as station:
            station.counting()
            station.wait_for("the trainer notice", lambda: "read-only" in notice(station))
            finish(station)


@needs_mount
def test_a_disk_filling_mid_session(tmp_path: Path) -> None:
    """(Read-only mid-session cannot be staged: a remount refuses while the station has the
    log open for writing; only the kernel's own error handling forces it.)"""
    with tmpfs(tmp_path / "state", "16m") as state, running(tmp_path, FAST, state=state) as st:
        st.counting()
        db = state / SESSIONS_DB
        st.wait_for("a checkpoint", lambda: db.exists() and sessions_in(db) >= 1)
        saved = sessions_in(db)
        fill(state)
        st.wait_for("the disk-full notice", lambda: "full" in notice(st), 90)
        st.counting()
        (state / "ballast").unlink()
        st.wait_for("saving to resume", lambda: NOT_SAVED not in notice(st), 90)
        finish(st)
        ok, now = integrity(db), sessions_in(db)
    tally(lost=ok != "ok" or now < saved)
    assert ok == "ok" and now >= saved


def test_a_log_damaged_mid_session(tmp_path: Path) -> None:
    """Someone (a failing card) overwrites the log under the running station: it counts on,
    and the next start moves the damaged file aside instead of failing."""
    with running(tmp_path, FAST) as station:
        station.counting()
        db = station.state / SESSIONS_DB
        station.wait_for("a checkpoint", lambda: db.exists() and sessions_in(db) >= 1)
        size = db.stat().st_size
        with db.open("r+b") as fh:
            fh.write(b"\xa5" * max(size, 8192))
        station.counting()
        finish(station)
    with running(tmp_path, FAST) as again:
        again.counting()
        finish(again)
    ok = integrity(db)
    assert ok == "ok", again.log()[-2000:]


@needs_mount
def test_the_console_answers_on_a_full_disk(tmp_path: Path) -> None:
    """Login, every page and a save, with the state folder's disk full to the last byte."""
    import httpx

    from station.console import auth
    from station.console.app import create_app

    site = tmp_path / "station.toml"
    site.write_text('[posture]\npreset = "intermediate"\n')
    with tmpfs(tmp_path / "state", "1m") as state:
        auth.set_password(state, PASSWORD)
        app = create_app(site, state)
        fill(state)
        with served(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            login(client)  # its audit line cannot be written: the login still works
            pages = ["/thresholds", "/alerts", "/mat", "/camera", "/history", "/live"]
            statuses = [client.get(page).status_code for page in pages]
            html = client.get("/thresholds").text
            form = {"csrf": csrf_of(html), "preset": "intermediate",
                    "version": html.split('name="version" value="')[1].split('"')[0],
                    "presets.intermediate.back.warn": "13"}  # fmt: skip
            saved = client.post("/thresholds", data=form).status_code
    tally(traceback=500 in statuses or saved == 500)
    assert statuses == [200] * len(pages) and saved == 303
    assert "warn = 13" in site.read_text()
