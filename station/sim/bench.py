"""Simulator benchmarks: how much faster than real time the simulated jumper runs.

`station bench sim-speed`: the packaged default script (92 s) generated in full, the mat at the
config's 1 kHz × 2 zones in 5 ms blocks and the pose at 15 frames/s; each figure is seconds of
simulated session per second of one core (CPU time). Live runs need ≥ 1×; tests and `--fast`
replays profit from more.
"""

from __future__ import annotations

import time

from station.bench import Benchmark, Figure
from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.sim.model import JumperModel
from station.sim.script import load_script
from station.sim.sources import SimulatedMat, SimulatedPose


def sim_speed(quick: bool) -> list[Figure]:
    script = load_script(None)
    config = build_config(SCHEMA, [])
    cpu0 = time.process_time()
    model = JumperModel(script, seed=1)
    build = time.process_time() - cpu0
    figures = [Figure("model build (schedule, forces, CoM)", 1000.0 * build, "ms")]
    duration = script.duration_s
    mat = SimulatedMat(model, config["mat"]["zones"], config["mat"]["sample_rate_hz"], 1)
    pose = SimulatedPose(model, config["camera"], 1)
    for label, source in (("mat, 2 zones at 1 kHz", mat), ("pose, 15 frames/s", pose)):
        limit = duration / 4 if quick else duration
        cpu0 = time.process_time()
        for event in source.events():
            if event.t >= limit:
                break
        ratio = limit / (time.process_time() - cpu0)
        figures.append(Figure(f"{label}: simulated s / CPU s", ratio, "×", "≥ 1", ratio >= 1))
    return figures


BENCHMARKS = [Benchmark("sim-speed", sim_speed)]
