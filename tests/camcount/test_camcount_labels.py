"""The counter when MediaPipe mixes up the left and right foot (it does, for a frame here and
there, and for whole stretches in a side view where the legs overlap): real tracks of the
hand-marked clips with the labels swapped at random frames."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SHARED_DATA

from station.camcount.evaluate import markdown_table, read_ground_truth, score_clip, summarize
from station.events import LANDMARK
from station.pose.track import LandmarkTrack

LEGS = ("knee", "ankle", "heel", "foot_index")
LEFT_LEG = [LANDMARK[f"left_{n}"] for n in LEGS]
RIGHT_LEG = [LANDMARK[f"right_{n}"] for n in LEGS]
SWAPPED_SHARE = 0.05  # of the frames, chosen at random (seeded)
MAX_TOTAL_ERROR = 0.03  # summed |error| with the swaps (clean: 0.55 % and 0.82 %)


def with_swapped_legs(track: LandmarkTrack, swap: np.ndarray) -> LandmarkTrack:
    """The track with the left and right leg's landmarks exchanged at the frames `swap`."""
    lm = track.lm.copy()
    rows = np.flatnonzero(swap)
    left = lm[np.ix_(rows, LEFT_LEG)].copy()
    lm[np.ix_(rows, LEFT_LEG)] = lm[np.ix_(rows, RIGHT_LEG)]
    lm[np.ix_(rows, RIGHT_LEG)] = left
    return LandmarkTrack(track.t, lm, track.world, track.fps, track.width, track.height)


def test_swapping_changes_the_alternation_signal(jumprope_tracks: dict[str, object]) -> None:
    """The perturbation is real: the left-minus-right foot height flips sign at the swapped
    frames (so a counter reading the labels naively would see a swap there)."""
    track: LandmarkTrack = jumprope_tracks["speed_hiro_3"]  # type: ignore[assignment]
    swap = np.random.default_rng(0).random(len(track)) < SWAPPED_SHARE
    swapped = with_swapped_legs(track, swap)
    ankle_l, ankle_r = LANDMARK["left_ankle"], LANDMARK["right_ankle"]
    before = track.lm[:, ankle_l, 1] - track.lm[:, ankle_r, 1]
    after = swapped.lm[:, ankle_l, 1] - swapped.lm[:, ankle_r, 1]
    assert np.allclose(after[swap], -before[swap])
    assert np.allclose(after[~swap], before[~swap])


@pytest.mark.parametrize("step", [1, 2])
@pytest.mark.parametrize("seed", range(3))
def test_count_holds_when_labels_swap_at_random_frames(
    jumprope_tracks: dict[str, object], seed: int, step: int
) -> None:
    """5 % of the frames with left and right swapped, every clip, at the own frame rate and
    at every 2nd frame (≈ 15 frames/s): the summed error stays within 3 %. Measured for
    seeds 0–2: 1.50, 0.95, 1.09 % at the own rate and 1.36, 1.36, 2.18 % at every 2nd frame
    (before the bounce confirmed the feet's rhythm: 1.77, 0.95, 1.50 % and 1.50, 1.50,
    2.32 %); the counter before the lowest-foot height, the fundamental-period rule and the
    refractory merge: 1.36, 1.09, 1.50 % and 2.32, 2.05, **4.09 %** (fails seed 2)."""
    from station.camcount.evaluate import subsample

    truths = read_ground_truth(SHARED_DATA / "jumprope" / "ground_truth.csv")
    results = []
    for k, truth in enumerate(truths):
        track = subsample(jumprope_tracks[truth.clip], step)  # type: ignore[arg-type]
        swap = np.random.default_rng(100 * seed + k).random(len(track)) < SWAPPED_SHARE
        results.append(score_clip(truth, with_swapped_legs(track, swap)))
    total, _worst, _ok = summarize(results)
    assert total <= MAX_TOTAL_ERROR, markdown_table(results)
