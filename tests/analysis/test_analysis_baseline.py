"""`station analyze --json` says what the standing baseline judged the legs on
(`baseline.legs`): the feet ("ankle"), or with the feet cut off by the picture's edge the knees
or the trunk, when the back and landing keep the population defaults (docs/posture.md).

hb_alternating_02 is the one shared clip with a standing stretch (7.5-8.5 s, arms out after
jumping): analysed as filmed, then its saved track as a camera aimed higher sees it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from station.cli import main
from station.pose.track import LandmarkTrack, load_track, save_track


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["analyze", *argv, "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def cut_bottom(track: LandmarkTrack, keep: float) -> LandmarkTrack:
    """The track as a picture of its top `keep` only: landmarks below it fall outside the
    picture (y > 1), as the model extrapolates them."""
    lm = track.lm.copy()
    lm[:, :, 1] /= keep
    return replace(track, lm=lm, height=round(track.height * keep))


@pytest.mark.data
def test_the_baseline_says_whether_the_feet_knees_or_trunk_placed_the_legs(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = shared_data / "jumprope" / "hb_alternating_02.mp4"
    whole = tmp_path / "whole.npz"
    filmed = run_json(capsys, str(clip), "--save-track", str(whole))
    assert filmed["baseline"]["source"] == "standing"
    assert filmed["baseline"]["legs"] == "ankle"
    assert 7.0 <= filmed["baseline"]["from_s"] < filmed["baseline"]["to_s"] <= 9.0

    # The bottom 15 % cut off: the ankles leave the picture, the knees (at 0.79-0.80 of its
    # height) stay in it; 28 % cut off: the knees leave too, the hips (0.66-0.68) stay.
    for keep, legs in ((0.85, "knee"), (0.72, "trunk")):
        cut = tmp_path / f"cut-{keep}.npz"
        save_track(cut_bottom(load_track(whole), keep), cut)
        aimed_high = run_json(capsys, str(cut))["baseline"]
        assert (aimed_high["source"], aimed_high["legs"]) == ("standing", legs), keep
        # Where she stands still (7.5-8.5 s, watched): the same stretch, judged without feet.
        assert 7.0 <= aimed_high["from_s"] < aimed_high["to_s"] <= 9.0, keep

    # No baseline asked for: the population's, with no legs judged.
    assert run_json(capsys, str(cut), "--no-baseline")["baseline"] == {
        "source": "population", "from_s": None, "to_s": None, "legs": None
    }  # fmt: skip
