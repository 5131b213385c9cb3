"""The camera's delivered figures, from PoseFrame indices and times alone."""

from __future__ import annotations

import pytest

from station.runtime.camerastats import CameraStats


def test_rate_and_drops_from_indices() -> None:
    stats = CameraStats()
    # 30 frames/s captured, every third inferred: 10 inferences a second, 2 dropped each time
    for k in range(31):
        stats.add_frame(k * 0.1, 3 * k)
    assert stats.inferred == 31 and stats.dropped == 60
    assert stats.rate() == pytest.approx(10.0)
    assert stats.mean_rate() == pytest.approx(10.0)
    assert stats.dropped_share == pytest.approx(60 / 91)


def test_a_reopened_camera_counts_from_zero_without_a_negative_gap() -> None:
    stats = CameraStats()
    for i in range(5):
        stats.add_frame(i * 0.1, i + 100)
    stats.add_frame(1.0, 0)
    stats.add_frame(1.1, 2)
    assert stats.dropped == 1


def test_the_live_rate_follows_a_slowdown() -> None:
    stats = CameraStats()
    t = 0.0
    for i in range(100):  # 10 s at 20/s, then 10 s at 5/s
        stats.add_frame(t, i)
        t += 0.05
    for i in range(100, 150):
        stats.add_frame(t, i)
        t += 0.2
    assert stats.rate() == pytest.approx(5.0)
    assert 5.0 < stats.mean_rate() < 20.0


def test_latency_median_and_empty_figures() -> None:
    stats = CameraStats()
    assert stats.figures()["count_latency_ms"] is None and stats.rate() == 0.0
    for s in (0.05, 0.1, 0.4):
        stats.add_count_latency(s)
    assert stats.latency_ms() == pytest.approx(100.0)


def test_the_slowest_window_shows_a_stretch_the_mean_hides() -> None:
    """20/s for 10 s, 8/s for 5 s, then 20/s again: the mean stays high, the slowest 5 s is
    the slow stretch's rate; a 6 s stall with no frames at all lowers it to the one frame
    in the window after it (a rate over the window's frames' own span would not see it)."""
    stats = CameraStats()
    t, i = 0.0, 0
    for rate, seconds in ((20.0, 10.0), (8.0, 5.0), (20.0, 10.0)):
        for _ in range(round(rate * seconds)):
            stats.add_frame(t, i)
            t, i = t + 1.0 / rate, i + 1
    assert stats.mean_rate() > 15.0
    assert stats.slowest == pytest.approx(8.0, abs=0.25)
    assert stats.figures()["inference_fps_min"] == pytest.approx(8.0, abs=0.25)
    t += 6.0  # the camera stalls: no frames at all for 6 s
    for _ in range(100):
        stats.add_frame(t, i)
        t, i = t + 0.05, i + 1
    assert stats.slowest == pytest.approx(1 / 5.0)  # the first frame after it, alone in 5 s


def test_no_slowest_window_before_one_has_passed() -> None:
    stats = CameraStats()
    for k in range(20):  # 1.9 s
        stats.add_frame(k * 0.1, k)
    assert stats.slowest is None and stats.figures()["inference_fps_min"] is None
