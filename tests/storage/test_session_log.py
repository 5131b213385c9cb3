"""The session log on real SQLite files: lifecycle, crash safety, schema version, exports."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import date, datetime
from pathlib import Path

import pytest

from station.cli import main
from station.events import FAULTS
from station.session.model import Observation, Session, SessionSummary
from station.storage.paths import SESSIONS_DB
from station.storage.sessions import CSV_FIELDS, SCHEMA_VERSION, SessionLog, UnsafeSummary

SETTINGS = {"calibrate_s": 2.0, "end_after_off_s": 5.0, "summary_s": 15.0, "checkpoint_s": 5.0}


def real_summary() -> SessionSummary:
    """A summary produced by the real session state machine (20 jumps, a back fault)."""
    s = Session(SETTINGS)
    t = 0.0
    s.observe(Observation(t, on_mat=True, mat_still=True))
    t = 2.5
    s.observe(Observation(t, on_mat=True, mat_still=True))
    assert s.phase == "active"
    for i in range(20):
        t = 3.0 + 0.4 * i
        s.add_jump(t)
        s.add_landing(3.0 + 0.1 * (i % 3), 90.0, hard=False)
        back = "fault" if 5 <= i < 10 else "ok"
        s.update_lights(t, {f: (back if f == "back" else "ok") for f in FAULTS})
    s.observe(Observation(t + 0.5, on_mat=False))
    s.observe(Observation(t + 6.0, on_mat=False))
    assert s.last_summary is not None
    return s.last_summary


def test_begin_checkpoint_finish_roundtrip(tmp_path: Path) -> None:
    summary = real_summary()
    with SessionLog.in_state_dir(tmp_path) as log:
        sid = log.begin(started_at=1_700_000_000.0)
        log.checkpoint(sid, {"jumps": 5, "duration_s": 2.0}, at=1_700_000_005.0)
        (rec,) = log.sessions()
        assert (rec.status, rec.jumps, rec.checkpointed_at) == ("open", 5, 1_700_000_005.0)
        log.finish(sid, summary, ended_at=1_700_000_020.0)
    # A fresh connection (another process would do the same) sees the finished row.
    with SessionLog(tmp_path / SESSIONS_DB) as log:
        (rec,) = log.sessions()
    assert rec.status == "finished" and rec.ended_at == 1_700_000_020.0
    assert rec.jumps == 20 == summary.jumps
    assert rec.columns["best_streak"] == summary.best_streak
    assert rec.columns["cadence_avg_per_min"] == pytest.approx(150.0)
    assert rec.faults["back"]["seconds"] == pytest.approx(2.0)
    assert len(rec.faults["back"]["onsets"]) == 1
    assert rec.faults["head"]["seconds"] == 0.0
    assert rec.columns["landing_peak_bw_max"] == pytest.approx(3.2)
    assert rec.columns["top_fault"] == "back"
    assert len(rec.detail["cadence_series"]) == 20


def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    SessionLog.in_state_dir(tmp_path).close()
    db = sqlite3.connect(tmp_path / SESSIONS_DB)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(RuntimeError, match="newer than this station knows"):
        SessionLog.in_state_dir(tmp_path)


def test_reopening_keeps_rows_and_does_not_migrate_again(tmp_path: Path) -> None:
    with SessionLog.in_state_dir(tmp_path) as log:
        log.finish(log.begin(), {"jumps": 3})
    with SessionLog.in_state_dir(tmp_path) as log:
        assert [r.jumps for r in log.sessions()] == [3]
        assert log.schema_version == SCHEMA_VERSION


@pytest.mark.parametrize(
    "bad",
    [
        {"member_name": "Alice"},  # free text could carry an identity
        {"jumps": 3, "frame": b"\xff\xd8"},  # nor an image
        {"count_source": "Bob"},
        {"fault_seconds": {"Alice": 1.0}},
        {"duration_s": float("nan")},
    ],
)
def test_refuses_anything_but_statistics(tmp_path: Path, bad: dict[str, object]) -> None:
    with SessionLog.in_state_dir(tmp_path) as log:
        sid = log.begin()
        with pytest.raises(UnsafeSummary):
            log.finish(sid, bad)
        record = log.get(sid)
        assert record is not None and record.status == "open"  # nothing half-written


def test_finished_session_cannot_be_overwritten(tmp_path: Path) -> None:
    with SessionLog.in_state_dir(tmp_path) as log:
        sid = log.begin()
        log.finish(sid, {"jumps": 3})
        with pytest.raises(ValueError, match="already finished"):
            log.checkpoint(sid, {"jumps": 1})
        with pytest.raises(KeyError):
            log.checkpoint(sid + 1, {"jumps": 1})


CRASHER = textwrap.dedent(
    """
    import sys, time
    from station.storage.sessions import SessionLog
    log = SessionLog.in_state_dir(sys.argv[1])
    sid = log.begin()
    jumps = 0
    while True:
        jumps += 7
        log.checkpoint(sid, {"jumps": jumps, "duration_s": jumps / 3.0})
        print(jumps, flush=True)  # only after the checkpoint is committed
        time.sleep(float(sys.argv[2]))
    """
)


def test_power_cut_loses_at_most_one_checkpoint_interval(tmp_path: Path) -> None:
    """A station process killed with SIGKILL mid-session: the row survives with the last
    committed checkpoint, shows as open, and is marked interrupted at the next start."""
    interval = 0.05
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHER, str(tmp_path), str(interval)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    reported = [int(proc.stdout.readline()) for _ in range(8)]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    last_reported = reported[-1]
    with SessionLog.in_state_dir(tmp_path) as log:
        (rec,) = log.sessions()
        assert rec.status == "open"
        # Everything reported as saved is there; at most the one checkpoint in flight after
        # the last report (one interval of jumping) may also have landed.
        assert last_reported <= rec.jumps <= last_reported + 7
        assert log.close_interrupted() == [rec.id]
        (after,) = log.sessions()
    assert after.status == "interrupted" and after.jumps == rec.jumps
    assert after.ended_at is None and after.checkpointed_at == rec.checkpointed_at


def test_a_reader_does_not_block_the_writer(tmp_path: Path) -> None:
    writer = SessionLog.in_state_dir(tmp_path)
    sid = writer.begin()
    reader = sqlite3.connect(tmp_path / SESSIONS_DB)
    reader.execute("BEGIN")
    reader.execute("SELECT * FROM sessions").fetchall()  # holds a read snapshot open
    writer.checkpoint(sid, {"jumps": 9})  # WAL: succeeds while the reader is open
    assert reader.execute("SELECT jumps FROM sessions").fetchone()[0] == 0  # its snapshot
    reader.rollback()
    assert reader.execute("SELECT jumps FROM sessions").fetchone()[0] == 9
    reader.close()
    writer.close()


def _fill(tmp_path: Path) -> None:
    summary = real_summary()
    with SessionLog.in_state_dir(tmp_path) as log:
        for day, jumps in ((date(2026, 5, 1), 11), (date(2026, 5, 3), 22)):
            started = datetime(day.year, day.month, day.day, 10, 0).timestamp()
            log.finish(
                log.begin(started_at=started),
                {**summary.to_dict(), "jumps": jumps},
                ended_at=started + 60,
            )
        log.checkpoint(log.begin(started_at=datetime(2026, 5, 4, 9).timestamp()), {"jumps": 4})


def test_since_filters_by_local_date(tmp_path: Path) -> None:
    _fill(tmp_path)
    with SessionLog.in_state_dir(tmp_path) as log:
        assert [r.jumps for r in log.sessions()] == [11, 22, 4]
        assert [r.jumps for r in log.sessions(since=date(2026, 5, 2))] == [22, 4]
        assert [r.day for r in log.sessions(since=date(2026, 5, 4))] == [date(2026, 5, 4)]


def test_cli_exports_json_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(tmp_path)
    assert main(["sessions", "--state-dir", str(tmp_path), "--json", "--since", "2026-05-02"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["jumps"], r["status"]) for r in rows] == [(22, "finished"), (4, "open")]
    assert rows[0]["faults"]["back"]["seconds"] == pytest.approx(2.0)

    assert main(["sessions", "--state-dir", str(tmp_path), "--csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(table[0]) == list(CSV_FIELDS)
    assert [int(r["jumps"]) for r in table] == [11, 22, 4]
    assert float(table[0]["back_fault_s"]) == pytest.approx(2.0)
    assert table[0]["back_onsets"] == "1" and table[2]["status"] == "open"

    assert main(["sessions", "--state-dir", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert "3 session(s)" in out.err and "finished" in out.out


def test_cli_uses_station_state_dir_env(tmp_path: Path) -> None:
    _fill(tmp_path)
    env = {**os.environ, "STATION_STATE_DIR": str(tmp_path), "STATION_CONFIG": str(tmp_path / "x")}
    done = subprocess.run(
        [sys.executable, "-m", "station", "sessions", "--json"],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert [r["jumps"] for r in json.loads(done.stdout)] == [11, 22, 4]
    missing = subprocess.run(
        [sys.executable, "-m", "station", "sessions"],
        env={**env, "STATION_STATE_DIR": str(tmp_path / "none")},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert missing.returncode == 1 and "no session log" in missing.stderr


def test_cli_rejects_a_bad_date() -> None:
    with pytest.raises(SystemExit):
        main(["sessions", "--since", "yesterday"])


def test_a_reader_opening_the_log_while_another_connection_holds_it_waits(tmp_path: Path) -> None:
    """The uplink and the members consumer open the log beside the kiosk: a lock held while
    they switch it to WAL (which SQLite does not wait for by itself) must not kill them."""
    path = tmp_path / "sessions.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE creating (x)")  # another process created it, not yet in WAL
    holder.execute("BEGIN IMMEDIATE")  # and is writing: the switch cannot wait for it by itself
    holder.execute("INSERT INTO creating VALUES (1)")
    release = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        with SessionLog(path) as log:
            assert log.sessions() == []
    finally:
        release.join()
        holder.close()


def test_rows_without_a_jump_stay_in_the_file_but_are_offered_to_no_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Older versions logged someone who stood and left (0 jumps), and a session begun at its
    first jump and cut off before its first checkpoint is a 0-jump row too. A session counts
    once it has a jump (station.session.model.counts_as_session, the rule Session.counts
    reads): the readers that offer rows (History, export, consumers' backlogs) follow it."""
    from station.session.model import counts_as_session

    with SessionLog.in_state_dir(tmp_path) as log:
        ids = {}
        for jumps in (0, 1, 2, 0):
            sid = log.begin(started_at=1_700_000_000.0 + 60 * len(ids))
            log.finish(sid, {"jumps": jumps, "duration_s": 30.0}, ended_at=None)
            ids[sid] = jumps
        cut = log.begin(started_at=1_700_000_500.0)  # cut off before its first checkpoint
        log.close_interrupted()
        ids[cut] = 0
        offered = {r.id for r in log.sessions()}
        assert offered == {sid for sid, j in ids.items() if counts_as_session(j)}
        assert offered == {sid for sid, j in ids.items() if j > 0}  # the rule, spelt out
        assert {r.id for r in log.undelivered("anyone")} == offered
        assert [r.id for r in log.sessions(every_row=True)] == list(ids)  # the file's rows
        # nothing is deleted or rewritten: each row is still in the file, as it was
        assert all(log.get(sid) is not None and log.get(sid).jumps == j for sid, j in ids.items())
    assert main(["sessions", "--state-dir", str(tmp_path), "--json"]) == 0
    assert sorted(r["jumps"] for r in json.loads(capsys.readouterr().out)) == [1, 2]


def test_the_counted_condition_reads_the_same_with_or_without_a_table_alias(
    tmp_path: Path,
) -> None:
    """counted_sql() is the one SQL form of counts_as_session: bare for `FROM sessions`, and
    qualified for `FROM sessions s` (a self-join below, where a bare `jumps` is ambiguous and
    a prefix glued on by the caller would qualify only the condition's first word)."""
    from station.session.model import counts_as_session
    from station.storage.sessions import counted_sql

    with SessionLog.in_state_dir(tmp_path) as log:
        for i, jumps in enumerate((0, 1, 5, 0, 2)):
            sid = log.begin(started_at=1_700_000_000.0 + 60 * i)
            log.finish(sid, {"jumps": jumps, "duration_s": 30.0}, ended_at=None)
    db = sqlite3.connect(tmp_path / SESSIONS_DB)
    try:
        every = dict(db.execute("SELECT id, jumps FROM sessions").fetchall())
        expected = sorted(i for i, j in every.items() if counts_as_session(j))
        bare = db.execute(f"SELECT id FROM sessions WHERE {counted_sql()} ORDER BY id")
        assert [r[0] for r in bare] == expected
        aliased = db.execute(
            f"SELECT s.id FROM sessions s JOIN sessions t ON t.id = s.id "
            f"WHERE {counted_sql('s')} AND {counted_sql('t')} ORDER BY s.id"
        )
        assert [r[0] for r in aliased] == expected
        with pytest.raises(sqlite3.OperationalError, match="ambiguous"):
            db.execute(f"SELECT s.id FROM sessions s JOIN sessions t WHERE {counted_sql()}")
        # NOT must negate the whole condition, whatever its form
        negated = db.execute(f"SELECT id FROM sessions s WHERE NOT {counted_sql('s')}")
        assert sorted(r[0] for r in negated) == sorted(set(every) - set(expected))
    finally:
        db.close()
    with pytest.raises(ValueError, match="alias"):
        counted_sql("s; DROP TABLE sessions")
