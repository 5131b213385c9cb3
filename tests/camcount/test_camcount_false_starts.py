"""False starts before a bout, at 30 and 15 frames/s and with jittered timestamps: a single
hop, slow weight shifts from foot to foot, walking in. None of them counts, and the bout
after them is counted as it would be alone. (A rule that counts a bout's first contacts
from before its start, docs/counting.md "A bout's slow start", must keep these.)"""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_camcount_synthetic import FPS, LEFT_FOOT, RIGHT_FOOT, alternate, standing, two_foot

from station.camcount.counter import count_frames
from station.events import PoseFrame

HIPS_AND_FEET = [23, 24, *LEFT_FOOT, *RIGHT_FOOT]  # left/right hip are landmarks 23, 24


def weight_shift(i: int, hz: float = 0.5) -> np.ndarray:
    """Standing, the weight moving from one foot to the other and staying there: the unloaded
    heel rises quickly by 0.1 torso lengths (above the swap trigger's floor) and stays up,
    one shift a second: further apart than a bout's first two contacts may be. (Shifts 0.6 s
    apart are stepping in place and do start a bout.)"""
    lm = standing()
    s = math.sin(2 * math.pi * hz * i / FPS)
    lm[LEFT_FOOT, 1] -= 0.02 * min(1.0, max(0.0, 3 * s))
    lm[RIGHT_FOOT, 1] -= 0.02 * min(1.0, max(0.0, -3 * s))
    return lm


def walking(i: int) -> np.ndarray:
    """Stepping while moving sideways at 3 torso lengths a second (torso = 0.2 of the
    height): feet alternate at 2 steps/s."""
    lm = alternate(i, 2.0, 0.05)
    lm[:, 0] = 0.1 + 3.0 * 0.2 * (480 / 640) * i / FPS
    return lm


def then_jumping(
    before: list[np.ndarray], bout: list[np.ndarray], step: int, jitter_s: float, seed: int
) -> tuple[list[float], float]:
    """Jump times of `before` then `bout` (each a frame list at FPS), every `step`-th frame,
    timestamps jittered; and the time the bout starts."""
    rng = np.random.default_rng(seed)
    pictures = before + bout
    frames = [
        PoseFrame(i / FPS + float(rng.normal(0.0, jitter_s)), lm, None, 640, 480, i)
        for i, lm in enumerate(pictures)
        if i % step == 0
    ]
    frames.sort(key=lambda f: f.t)
    return count_frames(frames), len(before) / FPS


SAMPLINGS = [(1, 0.0), (2, 0.0), (1, 0.005), (2, 0.005)]


@pytest.mark.parametrize(("step", "jitter_s"), SAMPLINGS)
def test_a_hop_then_a_two_foot_bout(step: int, jitter_s: float) -> None:
    hz, seconds = 2.2, 6
    hop = [standing() for _ in range(30)] + [two_foot(i, 2.0, 0.08) for i in range(15)]
    hop += [standing() for _ in range(24)]  # 0.8 s still: further than a bout's start allows
    bout = [two_foot(i, hz) for i in range(int(seconds * FPS))] + [standing()] * 45
    jumps, start = then_jumping(hop, bout, step, jitter_s, seed=step)
    assert [t for t in jumps if t < start - 0.1] == []
    assert abs(len(jumps) - hz * seconds) <= 1


@pytest.mark.parametrize(("step", "jitter_s"), SAMPLINGS)
def test_weight_shifts_then_an_alternate_foot_bout(step: int, jitter_s: float) -> None:
    contacts_hz, seconds = 4.0, 6
    shifts = [standing() for _ in range(30)] + [weight_shift(i) for i in range(150)]
    bout = [alternate(i, contacts_hz) for i in range(int(seconds * FPS))] + [standing()] * 45
    jumps, start = then_jumping(shifts, bout, step, jitter_s, seed=10 + step)
    assert [t for t in jumps if t < start - 0.1] == []
    assert abs(len(jumps) - contacts_hz * seconds) <= 2


@pytest.mark.parametrize(("step", "jitter_s"), SAMPLINGS)
def test_walking_in_then_a_two_foot_bout(step: int, jitter_s: float) -> None:
    hz, seconds = 2.2, 6
    walk = [walking(i) for i in range(60)] + [standing() for _ in range(15)]
    bout = [two_foot(i, hz) for i in range(int(seconds * FPS))] + [standing()] * 45
    jumps, start = then_jumping(walk, bout, step, jitter_s, seed=20 + step)
    assert [t for t in jumps if t < start - 0.1] == []
    assert abs(len(jumps) - hz * seconds) <= 1
