"""Posture judging cost per frame: `station bench posture`.

The judge runs once per pose frame on the main loop and in `station analyze`, whose whole
analysis (counting + posture) must stay within 5 % of the inference time per frame (the
analysis room's benchmark measures that ratio with real inference). This one isolates the
posture share: milliseconds per `PostureJudge.update` on the simulator's default session (all
five faults, 15 frames/s), per camera placement.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from station.bench import Benchmark, Figure


def _frames(placement: str, quick: bool) -> tuple[Any, list[Any]]:
    from station.config.loader import build_config
    from station.config.sections import SCHEMA
    from station.events import PoseFrame
    from station.sim.sources import simulated_pose

    config = build_config(SCHEMA, [("bench", {"camera": {"placement": placement}})])
    frames = [e for e in simulated_pose(config, None, seed=0).events() if isinstance(e, PoseFrame)]
    return config, frames[:300] if quick else frames


def run(quick: bool) -> list[Figure]:
    from station.posture import PostureJudge

    figures = []
    for placement in ("front", "oblique", "side"):
        config, frames = _frames(placement, quick)
        runs = []
        for _ in range(1 if quick else 3):
            judge = PostureJudge(config)
            judge.start_baseline()
            start = time.perf_counter()
            for frame in frames:
                judge.update(frame)
            runs.append(1000.0 * (time.perf_counter() - start) / len(frames))
        figures.append(Figure(f"judge {placement}", statistics.median(runs), "ms/frame"))
    return figures


BENCHMARKS = [Benchmark("posture", run)]
