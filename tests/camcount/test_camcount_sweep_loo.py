"""Leave one clip out over the clips' tracks *and* their transformed sweep pairs
(`python -m station.camcount.evaluate --sweep-cache DIR`): a fold leaves out a clip and all
its pairs, chooses on the other clips' tracks and pairs, and scores the held-out ones."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from conftest import SHARED_DATA

from station.camcount.counter import DEFAULT_PARAMS
from station.camcount.evaluate import (
    MIN_GAIN,
    choose_per_fold,
    leave_one_out,
    load_sweep_pairs,
    read_ground_truth,
    score_clip,
    score_pair,
    subsample,
)
from station.pose.track import LandmarkTrack, save_track


def test_a_fold_leaves_out_the_clip_and_all_its_pairs() -> None:
    """Candidate 1 is better than the defaults only on clip A's transformed pairs: the folds
    holding out B and C train on them and take it; the fold holding out A does not see them
    and keeps the defaults. A gain below MIN_GAIN keeps the defaults too."""
    defaults = [("A", 1), ("A", 10), ("A", 9), ("B", 2), ("B", 0), ("C", 1)]  # own, pairs
    better_on_a = [("A", 1), ("A", 0), ("A", 1), ("B", 2), ("B", 0), ("C", 1)]
    assert choose_per_fold([defaults, better_on_a], ["A", "B", "C"]) == [0, 1, 1]
    barely = [("A", 1), ("A", 10 - (MIN_GAIN - 1)), ("A", 9), ("B", 2), ("B", 0), ("C", 1)]
    assert choose_per_fold([defaults, barely], ["A", "B", "C"]) == [0, 0, 0]


def write_pair(cache: Path, transform: str, clip: str, track: LandmarkTrack) -> None:
    folder = cache / transform
    folder.mkdir(parents=True, exist_ok=True)
    save_track(track, folder / f"{clip}.npz")
    (folder / f"{clip}.json").write_text(json.dumps({"jumper": {"how": "whole picture"}}))


def test_sweep_pairs_from_a_cache_are_scored_by_their_fold(
    jumprope_tracks: dict[str, LandmarkTrack], tmp_path: Path
) -> None:
    """A cache as --sweep leaves it (real tracks: the clip itself as `original`, every 2nd
    frame as `every2`): every pair is loaded with its window and scored with its fold's
    choice, which is the defaults here, since the other candidate counts nothing."""
    clips = ("hb_alternating_02", "quva_rope_beach", "speed_hiro_1")
    truths = [
        t for t in read_ground_truth(SHARED_DATA / "jumprope" / "ground_truth.csv")
        if t.clip in clips
    ]  # fmt: skip
    for t in truths:
        write_pair(tmp_path, "original", t.clip, jumprope_tracks[t.clip])
        write_pair(tmp_path, "every2", t.clip, subsample(jumprope_tracks[t.clip], 2))
    pairs = load_sweep_pairs(truths, tmp_path)
    assert [(p.transform, p.truth.clip) for p in pairs] == [
        (name, t.clip) for name in ("original", "every2") for t in truths
    ]
    deaf = replace(DEFAULT_PARAMS, min_threshold=10.0, min_swap=10.0)  # sees no event
    tracks = [jumprope_tracks[t.clip] for t in truths]
    loo = leave_one_out(
        truths, tracks, ("own rate",), ("own rate",), pairs, candidates=[DEFAULT_PARAMS, deaf]
    )
    assert loo.chosen == [{}, {}, {}]
    assert [r.counted for r in loo.pairs_out_of_sample] == [
        *(score_clip(t, jumprope_tracks[t.clip]).counted for t in truths),
        *(score_clip(t, subsample(jumprope_tracks[t.clip], 2)).counted for t in truths),
    ]
    assert all(r.counted == 0 for r in (score_pair(p, deaf) for p in pairs))
    assert sum(abs(r.error) for r in loo.pairs_out_of_sample) <= 3
