"""Camera-only counting on the hand-marked clips, with real pose inference (see
docs/counting.md; `python -m station.camcount.evaluate` prints the same table)."""

from __future__ import annotations

import pytest
from conftest import SHARED_DATA

from station.camcount.evaluate import (
    MAX_CLIP_ERROR,
    MAX_TOTAL_ERROR,
    markdown_table,
    read_ground_truth,
    score_clip,
    summarize,
)


@pytest.fixture(scope="module")
def results(jumprope_tracks: dict[str, object]) -> list:
    truths = read_ground_truth(SHARED_DATA / "jumprope" / "ground_truth.csv")
    return [score_clip(t, jumprope_tracks[t.clip]) for t in truths]  # type: ignore[arg-type]


def test_summed_error_within_two_percent(results: list) -> None:
    total, _worst, _ok = summarize(results)
    assert total <= MAX_TOTAL_ERROR, markdown_table(results)


def test_no_clip_off_by_more_than_five_percent(results: list) -> None:
    bad = [r.truth.clip for r in results if r.relative_error > MAX_CLIP_ERROR]
    assert not bad, markdown_table(results)


def test_every_style_is_covered(results: list) -> None:
    styles = {r.truth.style for r in results}
    assert {"two-foot", "alternate-foot", "speed-step", "double-under"} <= styles


@pytest.mark.parametrize("step", [2, 3])
def test_counting_holds_at_pi_frame_rates(jumprope_tracks: dict[str, object], step: int) -> None:
    """A Pi runs the model at 5–15 frames/s. Every 2nd / 3rd frame of the real tracks
    (≈ 15 / 10 frames/s; an approximation: the tracker saw every frame) with the same
    parameters: the summed error stays within 4 % (measured: 1.2 % and 1.2 %)."""
    from station.pose.track import LandmarkTrack

    truths = read_ground_truth(SHARED_DATA / "jumprope" / "ground_truth.csv")
    results = []
    for truth in truths:
        full: LandmarkTrack = jumprope_tracks[truth.clip]  # type: ignore[assignment]
        sub = LandmarkTrack(
            full.t[::step],
            full.lm[::step],
            full.world[::step],
            full.fps / step,
            full.width,
            full.height,
        )
        results.append(score_clip(truth, sub))
    total, _worst, _ok = summarize(results)
    assert total <= 0.04, markdown_table(results)


def test_out_of_sample_leave_one_clip_out(jumprope_tracks: dict[str, object]) -> None:
    """Every tuned parameter chosen on 8 clips (at their own rate and every 2nd frame), the
    9th scored with that choice: issue 11's limits (summed ≤ 2 %, no clip off by more than
    5 %) hold out of sample at the clips' own frame rate and at every 2nd frame (≈ 15
    frames/s; the side-view speed-step `speed_jp_2` was off by 7.7 % there before the
    rhythm's period was taken as the fundamental of its multiples)."""
    from station.camcount.evaluate import leave_one_out, loo_report

    truths = read_ground_truth(SHARED_DATA / "jumprope" / "ground_truth.csv")
    tracks = [jumprope_tracks[t.clip] for t in truths]
    samplings = ("own rate", "every 2nd frame")
    loo = leave_one_out(truths, tracks, samplings=samplings)  # type: ignore[arg-type]
    for sampling in samplings:
        assert summarize(loo.out_of_sample[sampling])[2], loo_report(truths, loo)


def test_live_frame_drops_count_like_the_recording(jumprope_tracks: dict[str, object]) -> None:
    """Frames dropped at uneven intervals, as the live camera thread drops them (inference
    taking a random ≈ 1/20 s, then the newest frame; seeded): the counter resamples them onto
    its uniform grid, so the summed error stays within issue 18's full-rate 3 %."""
    from station.camcount.evaluate import live_drops

    truths = read_ground_truth(SHARED_DATA / "jumprope" / "ground_truth.csv")
    results = [
        score_clip(t, live_drops(jumprope_tracks[t.clip], seed=k))  # type: ignore[arg-type]
        for k, t in enumerate(truths)
    ]
    total, _worst, _ok = summarize(results)
    assert total <= 0.03, markdown_table(results)
