"""The session log as the running station uses it: a damaged, unwritable or full state folder
degrades to a trainer notice, never an exception; a damaged log is moved aside, never lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from station.storage.paths import SESSIONS_DB
from station.storage.resilient import ResilientLog, diagnose
from station.storage.sessions import SessionLog

SNAPSHOT = {"duration_s": 30.0, "jumps": 40, "count_source": "mat"}


def test_a_damaged_log_is_moved_aside_and_a_fresh_one_started(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    garbage = b"this is not a database, it is what a failing card returned" * 100
    (tmp_path / SESSIONS_DB).write_bytes(garbage)
    assert diagnose(tmp_path) is not None and "damaged" in diagnose(tmp_path)[0]  # type: ignore[index]
    log = ResilientLog(tmp_path)
    assert log.problem is None and log.moved_aside is not None
    assert log.moved_aside.read_bytes() == garbage  # kept for whoever wants to look
    assert "moved aside" in caplog.text and str(log.moved_aside) in caplog.text
    session = log.begin(started_at=1000.0, count_source="mat")
    assert session is not None
    log.checkpoint(session, SNAPSHOT, at=1030.0)
    log.close()
    with SessionLog(tmp_path / SESSIONS_DB) as db:
        assert db.sessions()[0].jumps == 40
    assert diagnose(tmp_path) is None


def test_a_log_with_damaged_pages_is_caught_at_start(tmp_path: Path) -> None:
    """The header is intact but a page is not: quick_check finds it, as a read would later."""
    with SessionLog(tmp_path / SESSIONS_DB) as db:
        for i in range(200):
            db.begin(started_at=1000.0 + i)
        db._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray((tmp_path / SESSIONS_DB).read_bytes())
    data[4096 * 2 : 4096 * 2 + 600] = b"\xa5" * 600  # a page of the sessions table
    (tmp_path / SESSIONS_DB).write_bytes(bytes(data))
    log = ResilientLog(tmp_path)
    assert log.moved_aside is not None and log.problem is None
    assert log.begin(started_at=5000.0) == 1  # a fresh log


def test_an_unwritable_state_folder_is_a_notice_not_a_crash(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.write_text("a file where the folder should be")
    log = ResilientLog(state)
    assert log.notice is not None and log.notice.startswith("Sessions are not being saved: ")
    assert log.close_interrupted() == []
    assert log.begin(started_at=1.0) is None
    log.finish(1, SNAPSHOT)  # nothing raised
    assert log.get(1) is None


def test_space_is_checked_before_each_checkpoint_and_saving_resumes(tmp_path: Path) -> None:
    log = ResilientLog(tmp_path)
    session = log.begin(started_at=1000.0)
    assert session is not None
    log.checkpoint(session, {**SNAPSHOT, "jumps": 10}, at=1010.0)
    log.min_free_bytes = 1 << 62  # the card is now "full"
    log.checkpoint(session, {**SNAPSHOT, "jumps": 20}, at=1020.0)
    assert log.notice is not None and "full" in log.notice
    with sqlite3.connect(tmp_path / SESSIONS_DB) as db:
        assert db.execute("SELECT jumps FROM sessions").fetchone()[0] == 10  # last good kept
    log.min_free_bytes = 0  # space freed: the next checkpoint saves, the notice goes
    log.checkpoint(session, {**SNAPSHOT, "jumps": 30}, at=1030.0)
    assert log.problem is None
    log.finish(session, {**SNAPSHOT, "jumps": 35}, ended_at=1035.0)
    record = log.get(session)
    assert record is not None and record.jumps == 35 and record.status == "finished"
