"""`[pose] max_fps` decided on capture times: the steady pattern of a slow model, no drift."""

from __future__ import annotations

import numpy as np

from station.camera.pacing import InferenceCap


def taken(cap: InferenceCap, times: np.ndarray) -> np.ndarray:
    return np.array([k for k, t in enumerate(times) if cap.admits(float(t))])


def test_half_the_camera_rate_takes_every_second_frame() -> None:
    got = taken(InferenceCap(15.0, 1 / 30), np.arange(300) / 30)
    assert list(np.diff(got)) == [2] * 149


def test_a_pi_4_rate_keeps_its_average_in_a_fixed_rhythm() -> None:
    got = taken(InferenceCap(8.0, 1 / 30), np.arange(300) / 30)  # 10 s
    assert set(np.diff(got)) <= {3, 4}
    assert abs(len(got) - 80) <= 1  # exactly 8/s: the grid does not drift


def test_timestamp_jitter_does_not_change_the_pattern() -> None:
    rng = np.random.default_rng(1)
    times = np.arange(300) / 30 + rng.uniform(-0.008, 0.008, 300)  # ± 8 ms of 33
    got = taken(InferenceCap(15.0), times)  # the frame period learnt from the frames
    assert set(np.diff(got)[3:]) == {2}


def test_uncapped_or_above_the_camera_rate_takes_every_frame() -> None:
    times = np.arange(60) / 30
    assert len(taken(InferenceCap(0.0), times)) == 60
    assert len(taken(InferenceCap(50.0, 1 / 30), times)) == 60


def test_after_a_stalled_camera_the_grid_starts_again() -> None:
    times = np.concatenate([np.arange(30) / 30, 3.0 + np.arange(30) / 30])
    got = taken(InferenceCap(15.0, 1 / 30), times)
    assert 30 in got  # the first frame after the stall
    assert list(np.diff(got[got >= 30])) == [2] * 14


def test_a_jittery_model_keeps_its_average_rate_at_irregular_gaps() -> None:
    """A Pi's model: each frame's time drawn around 1/8 s (20 % spread), seeded."""
    times = np.arange(3000) / 30  # 100 s
    got = taken(InferenceCap(8.0, 1 / 30, jitter=0.2, seed=3), times)
    assert abs(len(got) / 100 - 8.0) < 0.25  # the mean rate holds
    gaps = set(np.diff(got).tolist())
    assert {3, 4} < gaps  # and other gaps than the steady rhythm's
    again = taken(InferenceCap(8.0, 1 / 30, jitter=0.2, seed=3), times)
    assert list(got) == list(again)  # seeded: repeatable
    other = taken(InferenceCap(8.0, 1 / 30, jitter=0.2, seed=4), times)
    assert list(got) != list(other)


def test_jitter_must_be_a_coefficient() -> None:
    import pytest

    with pytest.raises(ValueError, match="jitter"):
        InferenceCap(8.0, 1 / 30, jitter=1.5)
