"""Agreement with the simulator: the lights fire on the fault episodes of the packaged script
(docs/simulator.md: one fault at a time, 8 s each) and stay quiet outside them.

The simulator deforms its skeleton its own way (station/sim/body.py), independently of the
posture metrics, so this checks the metrics against a second, separately written model.
"""

from __future__ import annotations

import pytest

from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.events import FAULTS, PoseFrame
from station.posture import PostureJudge, summarise
from station.sim.sources import ground_truth, simulated_pose

STAND_STILL_FROM_S = 3.6  # the default script has the member standing still from 3.5 s to 6.5 s
LATENCY_S = 4.0  # half a window + hold + a frame, with room to spare


@pytest.mark.parametrize(
    ("placement", "fps"),
    [("front", 30), ("oblique", 30), ("side", 30), ("oblique", 5), ("side", 5)],
)
def test_lights_match_the_simulated_fault_episodes(placement: str, fps: int) -> None:
    """The script's pose rate is 15 frames/s (capped by camera.fps): 5 is a slow Pi."""
    camera = {"placement": placement, "fps": fps}
    config = build_config(SCHEMA, [("test", {"camera": camera})])
    truth = ground_truth(None, seed=0)
    judge = PostureJudge(config)
    judged = []
    started = False
    for event in simulated_pose(config, None, seed=0).events():
        if not isinstance(event, PoseFrame):
            continue
        if not started and event.t >= STAND_STILL_FROM_S:
            judge.start_baseline()
            started = True
        judged.append(judge.update(event))
    summary = summarise(judged, t0=0.0)
    for fault in FAULTS:
        episodes = [(e.start_s, e.end_s) for e in truth.episodes(fault)]
        assert episodes, f"the default script has no {fault} episode any more"
        lit = summary[fault].episodes
        if fault == "landing" and (placement == "front" or fps < 8):
            assert lit == [] and summary[fault].unknown_s > 0.9 * summary[fault].total_s
            continue
        assert len(lit) == len(episodes), (fault, lit, episodes)
        for (start, end), (on, off) in zip(episodes, lit, strict=True):
            assert start <= on <= start + LATENCY_S, (fault, on, start)
            assert end <= off <= end + LATENCY_S, (fault, off, end)
