"""Session-log and live-status benchmarks.

`station bench storage-checkpoint`: one checkpoint of a real session summary into a real SQLite
file (WAL, synchronous=FULL: fsynced before it returns), and one atomic rewrite of the live
status file, each as wall and CPU time, and the share of wall time they take at the rates the
runtime uses them (a checkpoint every 5 s, a live status 4 times a second). Both run on the
main loop's thread, so the wall time of one is how long that frame is held up.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from station.bench import Benchmark, Figure
from station.events import FAULTS
from station.storage.live import LiveStatus, LiveStatusWriter
from station.storage.sessions import SessionLog

CHECKPOINT_INTERVAL_S = 5.0
LIVE_RATE_HZ = 4.0


def _summary(i: int) -> dict[str, object]:
    return {
        "duration_s": 60.0 + i,
        "jumps": 120 + i,
        "best_streak": 40,
        "cadence_avg_per_min": 130.0,
        "cadence_peak_per_min": 150.0,
        "cadence_series": [[0.4 * k, 130.0] for k in range(300)],
        "fault_seconds": dict.fromkeys(FAULTS, 2.5),
        "fault_warn_seconds": dict.fromkeys(FAULTS, 1.0),
        "fault_onsets": {f: [3.0, 20.0, 41.0] for f in FAULTS},
        "landings": 120 + i,
        "landing_peak_bw_mean": 3.1,
        "count_source": "mat",
    }


def checkpoint_cost(quick: bool) -> list[Figure]:
    n = 20 if quick else 200
    with tempfile.TemporaryDirectory() as folder:
        log = SessionLog.in_state_dir(folder)
        sid = log.begin()
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(n):
            log.checkpoint(sid, _summary(i))
        per_checkpoint = (time.perf_counter() - t0) / n
        cpu_checkpoint = (time.process_time() - c0) / n
        log.close()
        writer = LiveStatusWriter(Path(folder), interval_s=0.0)
        status = LiveStatus(
            phase="active",
            metrics={f: {"value": 1.0, "warn": 2.0, "fault": 3.0, "unit": "deg"} for f in FAULTS},
            mat={"zones": ["l", "r"], "force_n": [400.0, 380.0]},
        )
        m = 50 if quick else 1000
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(m):
            writer.write(status)
        per_write = (time.perf_counter() - t0) / m
        cpu_write = (time.process_time() - c0) / m
    busy_checkpoint = 100.0 * per_checkpoint / CHECKPOINT_INTERVAL_S
    busy_live = 100.0 * per_write * LIVE_RATE_HZ
    return [
        Figure("one checkpoint (fsynced), wall", 1000.0 * per_checkpoint, "ms"),
        Figure("  of which CPU", 1000.0 * cpu_checkpoint, "ms"),
        Figure("wall-time share, a checkpoint every 5 s", busy_checkpoint, "%"),
        Figure("one live-status write, wall", 1000.0 * per_write, "ms"),
        Figure("  of which CPU", 1000.0 * cpu_write, "ms"),
        Figure("wall-time share, 4 live writes/s", busy_live, "%"),
    ]


BENCHMARKS = [Benchmark("storage-checkpoint", checkpoint_cost)]
