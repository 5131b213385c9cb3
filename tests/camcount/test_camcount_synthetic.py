"""The camera counter on constructed landmark sequences: each style, starts and stops,
nobody in frame, NaN landmarks."""

from __future__ import annotations

import math

import numpy as np

from station.camcount.counter import CameraJumpCounter, count_frames
from station.events import LANDMARK, NUM_LANDMARKS, PoseFrame

FPS = 30.0
LEFT_FOOT = [LANDMARK[n] for n in ("left_ankle", "left_heel", "left_foot_index")]
RIGHT_FOOT = [LANDMARK[n] for n in ("right_ankle", "right_heel", "right_foot_index")]


def standing() -> np.ndarray:
    lm = np.zeros((NUM_LANDMARKS, 4))
    lm[:, 3] = 1.0
    lm[:, 0] = 0.5
    lm[:, 1] = 0.3
    lm[[LANDMARK["left_shoulder"], LANDMARK["right_shoulder"]], 1] = 0.35
    lm[[LANDMARK["left_hip"], LANDMARK["right_hip"]], 1] = 0.55
    lm[LEFT_FOOT + RIGHT_FOOT, 1] = 0.9
    return lm


def frame(i: int, lm: np.ndarray | None) -> PoseFrame:
    return PoseFrame(t=i / FPS, lm=lm, world=None, width=640, height=480, index=i)


def two_foot(i: int, hz: float, height: float = 0.05) -> np.ndarray:
    """Whole body rises and lands together: |sin| arcs, ground at the bottom."""
    lm = standing()
    lift = height * abs(math.sin(math.pi * hz * i / FPS))
    lm[:, 1] -= lift
    return lm


def alternate(i: int, contacts_hz: float, height: float = 0.06) -> np.ndarray:
    """Feet in antiphase (one lands as the other lifts); the hips bounce at each contact."""
    lm = standing()
    phase = math.pi * contacts_hz * i / FPS  # one foot cycle = two contacts
    lm[LEFT_FOOT, 1] -= height * max(0.0, math.sin(phase))
    lm[RIGHT_FOOT, 1] -= height * max(0.0, -math.sin(phase))
    hips = [LANDMARK["left_hip"], LANDMARK["right_hip"]]
    lm[hips, 1] -= 0.01 * abs(math.sin(phase))
    return lm


def jumps_in(frames: list[PoseFrame]) -> list[float]:
    return count_frames(frames)


def test_two_foot_bounce_counts_every_jump() -> None:
    hz = 2.2  # jumps per second
    seconds = 10
    frames = [frame(i, standing()) for i in range(30)]
    frames += [frame(30 + i, two_foot(i, hz)) for i in range(int(seconds * FPS))]
    frames += [frame(30 + int(seconds * FPS) + i, standing()) for i in range(45)]
    assert abs(len(jumps_in(frames)) - hz * seconds) <= 1


def test_alternate_foot_counts_every_contact() -> None:
    contacts_hz = 6.0
    seconds = 8
    frames = [frame(i, standing()) for i in range(30)]
    frames += [frame(30 + i, alternate(i, contacts_hz)) for i in range(int(seconds * FPS))]
    counter = CameraJumpCounter()
    for f in frames:
        counter.update(f)
    assert abs(counter.count - contacts_hz * seconds) <= 2
    assert counter.style == "alternate"


def test_standing_still_and_noise_count_nothing() -> None:
    rng = np.random.default_rng(1)
    frames = []
    for i in range(300):
        lm = standing()
        lm[:, :2] += rng.normal(0.0, 0.002, size=(NUM_LANDMARKS, 2))
        frames.append(frame(i, lm))
    assert jumps_in(frames) == []


def test_a_single_hop_is_not_a_bout() -> None:
    frames = [frame(i, standing()) for i in range(30)]
    frames += [frame(30 + i, two_foot(i, 2.0, 0.08)) for i in range(15)]  # one hop
    frames += [frame(45 + i, standing()) for i in range(90)]
    assert jumps_in(frames) == []


def test_stops_and_restarts_with_gaps_and_nan() -> None:
    hz, n = 2.0, int(5 * FPS)
    frames = [frame(i, two_foot(i, hz)) for i in range(n)]
    frames += [frame(n + i, None) for i in range(60)]  # nobody in frame for 2 s
    nan = np.full((NUM_LANDMARKS, 4), np.nan)
    frames += [frame(n + 60 + i, nan) for i in range(10)]  # NaN landmarks
    frames += [frame(n + 70 + i, two_foot(i, hz)) for i in range(n)]
    counter = CameraJumpCounter()
    for f in frames:
        counter.update(f)
    counter.finish()
    assert abs(counter.count - 2 * hz * 5) <= 2
    assert not counter.jumping or counter.count > 0


def test_output_is_causal_jumps_arrive_in_time_order() -> None:
    frames = [frame(i, two_foot(i, 2.5)) for i in range(200)]
    counter = CameraJumpCounter()
    seen: list[float] = []
    for f in frames:
        for jump in counter.update(f):
            # A jump is reported at most a short, fixed delay after it happened
            # (the first of a bout waits for the second).
            assert f.t - jump.t <= 0.7
            seen.append(jump.t)
    assert seen == sorted(seen) and len(seen) >= 15


def test_walking_past_is_not_jumping() -> None:
    """Alternating feet while the hips travel sideways (someone walking through the picture):
    nothing counts. The same feet in place count."""
    torso_x_per_s = 3.0 * 0.2 * 480 / 640  # 3 torso lengths/s (torso 0.2 of the height)
    walking, in_place = [], []
    for i in range(150):
        lm = alternate(i, 4.0)
        in_place.append(frame(i, lm.copy()))
        lm[:, 0] = 0.1 + torso_x_per_s * i / FPS
        walking.append(frame(i, lm))
    assert jumps_in(walking) == []
    assert len(jumps_in(in_place)) >= 15


def test_two_foot_at_ten_frames_per_second() -> None:
    """A Pi's frame rate: 2.5 jumps/s seen at 10 frames/s (4 frames per jump)."""
    fps, hz, seconds = 10.0, 2.5, 10
    frames = []
    for i in range(int(fps * seconds)):
        lm = standing()
        lm[:, 1] -= 0.05 * abs(math.sin(math.pi * hz * i / fps + 0.3))
        frames.append(PoseFrame(t=i / fps, lm=lm, world=None, width=640, height=480, index=i))
    assert abs(len(jumps_in(frames)) - hz * seconds) <= 2
