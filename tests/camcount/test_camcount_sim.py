"""The camera counter on the simulator's landmarks (the packaged default script): the member
steps on, stands, jumps, steps off. Every scripted jump is counted, standing still and
stepping on or off count nothing."""

from __future__ import annotations

import numpy as np

from station.camcount import CameraJumpCounter
from station.clock import ManualClock
from station.config.loader import load_config
from station.events import PoseFrame
from station.sim.sources import simulated_pose


def test_counts_the_simulated_jumps_and_nothing_else() -> None:
    source = simulated_pose(load_config(), None, 0, clock=ManualClock())
    counter = CameraJumpCounter()
    t0: float | None = None
    for event in source.events():
        if isinstance(event, PoseFrame):
            t0 = event.t if t0 is None else t0
            counter.update(event)
    counter.finish()
    assert t0 is not None
    truth = np.array([j.t for j in source.truth.jumps if not j.missed])
    seen = np.array([j.t - t0 for j in counter.jumps])
    assert len(truth) > 50
    extra = [t for t in seen if np.min(np.abs(truth - t)) > 0.2]
    missed = [t for t in truth if np.min(np.abs(seen - t)) > 0.2]
    assert not extra and len(missed) <= 1, (extra, missed)
