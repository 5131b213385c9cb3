"""SIGKILL at random moments of a running station (a power cut, an OOM kill): the session log
always passes `PRAGMA integrity_check`, a session cut short keeps every checkpoint committed
before the kill, every session saved before a kill is still there after it, and the next start
marks the cut session interrupted.

No wall clock is judged here: that a checkpoint is written every `checkpoint_s` of the
station's clock (so a cut loses at most one interval) is checked deterministically on a manual
clock (tests/runtime/test_station_e2e.py::test_checkpoints_while_active); this test checks the
order of things across real kills: what was committed before a kill is there after it."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

from faults_helpers import Station, tally

from station.storage.paths import SESSIONS_DB

CHECKPOINT_S = 1.0
SITE = f"[session]\ncheckpoint_s = {CHECKPOINT_S}\n"
KILLS = 4


def rows(db: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        found = conn.execute("SELECT * FROM sessions ORDER BY id").fetchall()
    conn.close()
    return found


def open_checkpoint(db: Path, after: tuple[float, int] | None) -> tuple[float, int] | None:
    """The open session's last checkpoint (time, jumps) once it is later than `after`."""
    if not db.exists():
        return None
    found = [r for r in rows(db) if r["status"] == "open" and r["checkpointed_at"] is not None]
    if not found:
        return None
    now = (found[-1]["checkpointed_at"], found[-1]["jumps"])
    return now if after is None or now[0] > after[0] else None


def test_sigkill_at_random_moments_keeps_every_committed_checkpoint(tmp_path: Path) -> None:
    rng = random.Random(14)  # the same moments in every run: a failure reproduces
    db = tmp_path / "state" / SESSIONS_DB
    saved: dict[int, float] = {}  # id -> checkpointed_at seen after the previous kill
    cut_short: list[int] = []
    for _ in range(KILLS):
        station = Station(tmp_path, SITE).start()
        station.counting()
        # a checkpoint committed mid-session, and then a later one: checkpoints are coming
        first = station.wait_for("a checkpoint", lambda: open_checkpoint(db, None))
        committed = station.wait_for(
            "the next checkpoint", lambda after=first: open_checkpoint(db, after)
        )
        time.sleep(rng.uniform(0.0, 2.0 * CHECKPOINT_S))  # a random moment, not a bound
        committed = open_checkpoint(db, None) or committed
        station.kill()
        found = rows(db)
        by_id = {r["id"]: r for r in found}
        lost = [i for i in saved if i not in by_id or by_id[i]["checkpointed_at"] < saved[i]]
        tally(lost=bool(lost), traceback=station.tracebacks() > 0)
        assert not lost, f"sessions {lost} lost or rolled back by a kill"
        assert station.tracebacks() == 0, station.log()[-2000:]
        open_ = [r for r in found if r["status"] == "open"]
        assert len(open_) <= 1
        assert open_, "the session cut short by the kill is gone"
        kept = (open_[0]["checkpointed_at"], open_[0]["jumps"])
        rolled_back = kept[0] < committed[0] or kept[1] < committed[1]
        tally(lost=rolled_back)
        assert not rolled_back, f"checkpoint {committed} committed before the kill, {kept} after"
        cut_short.append(open_[0]["id"])
        saved = {r["id"]: r["checkpointed_at"] for r in found}
    # One more start closes the last cut session; each cut one is marked interrupted.
    station = Station(tmp_path, SITE).start()
    station.counting()
    station.stop()
    statuses = {r["id"]: r["status"] for r in rows(db)}
    assert cut_short and all(statuses[i] == "interrupted" for i in cut_short), statuses
