"""The counter when the frames' timestamps are not exact: a live camera stamps a frame when
its thread gets to it, a few milliseconds after the exposure, by a varying amount. Real
tracks of the hand-marked clips with every timestamp jittered."""

from __future__ import annotations

import numpy as np
from conftest import SHARED_DATA

from station.camcount.evaluate import markdown_table, read_ground_truth, score_clip, summarize
from station.pose.track import LandmarkTrack

JITTER_S = 0.005  # standard deviation of the stamping delay's variation
MAX_TOTAL_ERROR = 0.02  # issue 11's own-rate limit (clean: 0.55 %)


def jittered(track: LandmarkTrack, seed: int) -> LandmarkTrack:
    """The track with each timestamp moved by a normal draw (sd JITTER_S), kept increasing."""
    rng = np.random.default_rng(seed)
    t = track.t + rng.normal(0.0, JITTER_S, len(track.t))
    t = np.maximum.accumulate(t + 1e-6 * np.arange(len(t)))
    return LandmarkTrack(t, track.lm, track.world, track.fps, track.width, track.height)


def test_count_holds_with_jittered_timestamps(jumprope_tracks: dict[str, object]) -> None:
    """Every clip at its own rate with 5 ms (sd) of timestamp jitter: summed |error| within
    2 %. Measured for seeds 0 and 1 (one per clip offset): 0.55 and 0.55 %."""
    truths = read_ground_truth(SHARED_DATA / "jumprope" / "ground_truth.csv")
    results = [
        score_clip(truth, jittered(jumprope_tracks[truth.clip], k))  # type: ignore[arg-type]
        for k, truth in enumerate(truths)
    ]
    total, _worst, _ok = summarize(results)
    assert total <= MAX_TOTAL_ERROR, markdown_table(results)
