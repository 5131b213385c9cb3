"""The counter's period estimate (autocorrelation) and what it is for: contacts the
amplitude trigger does not see are still counted from the rhythm."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from test_camcount_synthetic import FPS, frame, standing

from station.camcount.counter import DEFAULT_PARAMS, count_frames, dominant_period


@pytest.mark.parametrize("fps", [30.0, 15.0, 10.0])
@pytest.mark.parametrize("hz", [1.8, 3.5])
def test_period_of_a_noisy_rhythm_to_a_few_percent(fps: float, hz: float) -> None:
    rng = np.random.default_rng(3)
    t = np.arange(0, 2.0, 1 / fps)
    x = np.sin(2 * np.pi * hz * t) + 0.2 * rng.standard_normal(t.size)
    period, strength = dominant_period(x, 1 / fps, 0.1, 1.2)
    assert period == pytest.approx(1 / hz, rel=0.04)
    assert strength > 0.5


@pytest.mark.parametrize("fps", [30.0, 15.0])
def test_every_other_jump_weaker_is_still_the_period(fps: float) -> None:
    """A low jump after each high one: the heights repeat every two jumps, but the direction
    of motion (what the counter correlates) repeats every jump."""
    hz = 3.5
    t = np.arange(0, 2.0, 1 / fps)
    x = np.abs(np.sin(np.pi * hz * t)) * np.where(np.floor(hz * t) % 2 == 0, 1.0, 0.3)
    heights, _ = dominant_period(x - x.mean(), 1 / fps, 0.1, 1.2)
    assert heights == pytest.approx(2 / hz, rel=0.05)  # the heights alone: two jumps
    period, strength = dominant_period(np.sign(np.diff(x)), 1 / fps, 0.1, 1.2)
    assert period == pytest.approx(1 / hz, rel=0.05)
    # At 15 frames/s (4 frames a jump) the rhythm is found but weaker than the counter's gate.
    assert strength > (DEFAULT_PARAMS.min_periodicity if fps >= 30 else 0.35)


@pytest.mark.parametrize("fps", [30.0, 15.0])
def test_a_stronger_multiple_confirms_the_period_but_does_not_replace_it(fps: float) -> None:
    """Contacts 0.2 s apart whose every second one (the same foot) looks alike: the
    autocorrelation is 0.47 at one contact interval, under the 0.5 needed to trust a
    rhythm, and 1.0 at two. The period is the contact interval, and the strong peak at its
    multiple is what makes it trusted. (Before, a peak under 0.5 gave way to a stronger
    multiple: the rhythm said one contact where there were two, so gaps holding missed
    contacts were not filled.)"""
    interval = 0.2
    t = np.arange(0, 2.0, 1 / fps)
    x = np.cos(2 * np.pi * t / interval) + 0.6 * np.cos(np.pi * t / interval)
    period, strength = dominant_period(x, 1 / fps, 0.1, 1.2)
    assert period == pytest.approx(interval, rel=0.05)
    assert strength >= DEFAULT_PARAMS.min_periodicity


def test_pure_noise_has_no_trusted_period() -> None:
    rng = np.random.default_rng(5)
    _period, strength = dominant_period(rng.standard_normal(60), 1 / 30, 0.1, 1.2)
    assert strength < DEFAULT_PARAMS.min_periodicity


def tiring_double_unders(seconds: float, hz: float = 3.5) -> list[np.ndarray]:
    """Fast double-unders (8.6 frames a jump at 30 frames/s) that get lower as the jumper
    tires, every other jump half as high (the case that lost every other jump)."""
    out = []
    for i in range(int(seconds * FPS)):
        lm = standing()
        tired = 1.0 - 0.7 * i / (seconds * FPS)
        k = math.floor(hz * i / FPS)
        height = 0.05 * tired * (1.0 if k % 2 == 0 else 0.5)
        lm[:, 1] -= height * abs(math.sin(math.pi * hz * i / FPS))
        out.append(lm)
    return out


def test_fast_tiring_double_unders_counted_from_their_rhythm() -> None:
    seconds, hz = 10.0, 3.5
    frames = [frame(i, standing()) for i in range(30)]
    frames += [frame(30 + i, lm) for i, lm in enumerate(tiring_double_unders(seconds, hz))]
    frames += [frame(len(frames) + i, standing()) for i in range(45)]
    truth = round(seconds * hz)
    counted = len(count_frames(frames))
    no_fill = len(count_frames(frames, replace(DEFAULT_PARAMS, fill_ratio=1e9)))
    # Within 5 %, besides the bout's very last low jump: it is below the trigger's floor,
    # no later event shows the rhythm went on, and a gap at a bout's end that the motion
    # does not fill is not filled (a member who stops and then shifts weight looks alike).
    assert abs(counted - truth) <= 0.05 * truth + 1, (counted, truth)
    assert no_fill < 0.8 * truth  # without the period, the low jumps are lost
