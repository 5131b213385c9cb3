"""SIGKILL at random moments of a running station (a power cut, an OOM kill): the session log
always passes `PRAGMA integrity_check`, a session cut short lost at most one checkpoint
interval, every session saved before a kill is still there after it, and the next start marks
the cut session interrupted."""

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
SLACK_S = 1.5
"""A checkpoint is due every CHECKPOINT_S of the station's clock but written by its main loop;
on a loaded 2-core machine a frame can be late. Allowed on top of the interval."""


def rows(db: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        found = conn.execute("SELECT * FROM sessions ORDER BY id").fetchall()
    conn.close()
    return found


def test_sigkill_at_random_moments_loses_at_most_one_checkpoint(tmp_path: Path) -> None:
    rng = random.Random(14)  # the same moments in every run: a failure reproduces
    db = tmp_path / "state" / SESSIONS_DB
    saved: dict[int, float] = {}  # id -> checkpointed_at seen after the previous kill
    cut_short: list[int] = []
    for _ in range(KILLS):
        station = Station(tmp_path, SITE).start()
        station.counting()
        time.sleep(rng.uniform(0.0, 3.0))
        killed_at = time.time()
        station.kill()
        found = rows(db)
        by_id = {r["id"]: r for r in found}
        lost = [i for i in saved if i not in by_id or by_id[i]["checkpointed_at"] < saved[i]]
        tally(lost=bool(lost), traceback=station.tracebacks() > 0)
        assert not lost, f"sessions {lost} lost or rolled back by a kill"
        assert station.tracebacks() == 0, station.log()[-2000:]
        open_ = [r for r in found if r["status"] == "open"]
        assert len(open_) <= 1
        if open_:
            gap = killed_at - open_[0]["checkpointed_at"]
            tally(lost=gap > CHECKPOINT_S + SLACK_S)
            assert gap <= CHECKPOINT_S + SLACK_S, f"{gap:.2f} s of the session lost"
            cut_short.append(open_[0]["id"])
        saved = {r["id"]: r["checkpointed_at"] for r in found}
    # One more start closes the last cut session; each cut one is marked interrupted.
    station = Station(tmp_path, SITE).start()
    station.counting()
    station.stop()
    statuses = {r["id"]: r["status"] for r in rows(db)}
    assert cut_short and all(statuses[i] == "interrupted" for i in cut_short), statuses
