"""`bout_edges` (off by default, a leave-one-out candidate; docs/counting.md, round 24) on
constructed speed-step: a last event off the rhythm is held and, when the bout ends, not
counted; events already returned are never taken back (a live count never goes down); an
in-rhythm bout counts as without it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from test_camcount_sampling import RIGHT_FOOT, bout

from station.camcount.counter import DEFAULT_PARAMS, CameraJumpCounter, CounterParams
from station.events import PoseFrame

EDGES = replace(DEFAULT_PARAMS, bout_edges=1)


def run(lm_at: object, total: float, params: CounterParams) -> tuple[CameraJumpCounter, list]:  # type: ignore[type-arg]
    counter = CameraJumpCounter(params)
    returned = []
    for i, t in enumerate(np.arange(0.0, total, 1 / 30)):
        frame = PoseFrame(t=float(t), lm=lm_at(t), world=None, width=640, height=480, index=i)  # type: ignore[operator]
        returned += counter.update(frame)
    counter.finish()
    return counter, returned


def test_a_step_after_stopping_is_held_and_not_counted() -> None:
    contacts_hz, seconds = 6.0, 5.0
    lm_jump, _ = bout(contacts_hz, seconds)
    end = 1.0 + seconds

    def lm_at(t: float) -> np.ndarray:
        lm = lm_jump(t)
        if t >= end + 0.5:  # one foot steps forward 0.5 s after the last contact, and stays
            lm[RIGHT_FOOT, 1] += 0.06 * min(1.0, (t - end - 0.5) / 0.15)
        return lm

    off, _ = run(lm_at, end + 2.0, DEFAULT_PARAMS)
    on, returned = run(lm_at, end + 2.0, EDGES)
    assert off.jumps[-1].t > end + 0.5  # without it the step counts …
    assert on.jumps[-1].t < end + 0.1  # … with it, it is held, then dropped at the bout's end
    same_span = [j.t for j in on.jumps if j.t >= off.jumps[0].t]
    assert same_span == [j.t for j in off.jumps[:-1]]  # the rest alike
    assert on.jumps[0].t >= 1.0  # (a first contact looked back to is inside the bout)
    assert returned == on.jumps  # every count shown was kept, in order: none taken back


def test_an_in_rhythm_bout_counts_the_same() -> None:
    lm_at, total = bout(6.0, 6.0)
    off, _ = run(lm_at, total, DEFAULT_PARAMS)
    on, returned = run(lm_at, total, EDGES)
    assert abs(on.count - off.count) <= 1
    assert abs(on.count - 36) <= 2
    assert returned == on.jumps
