"""Smaller parts: the landmark gate, the placement guess, the per-clip evaluation command."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from posture_skeleton import JUMPING_OK, STANDING, session, to_frame

from station.events import LANDMARK
from station.pose.track import LandmarkTrack, save_track
from station.posture.body import Body, NotVisible
from station.posture.evaluate import main as evaluate_main
from station.posture.placement import guess_placement


def test_a_landmark_outside_the_picture_does_not_count() -> None:
    frame = to_frame(STANDING, "front", 0.0)
    assert frame.lm is not None
    lm = frame.lm.copy()
    lm[LANDMARK["nose"], 1] = -0.2  # the head cut off by the top of the frame ...
    lm[LANDMARK["nose"], 3] = 1.0  # ... though the model calls it visible
    body = Body.from_frame(replace(frame, lm=lm), 0.5)
    assert body is not None
    with pytest.raises(NotVisible):
        body.point("nose")
    body.point("left_ear")  # the rest still counts


def test_nobody_or_unusable_landmarks_give_no_body() -> None:
    frame = to_frame(STANDING, "front", 0.0)
    assert Body.from_frame(replace(frame, lm=None), 0.5) is None
    assert Body.from_frame(replace(frame, lm=np.full((33, 4), np.nan)), 0.5) is None
    assert Body.from_frame(replace(frame, lm=np.zeros((17, 4))), 0.5) is None


@pytest.mark.parametrize("placement", ["front", "oblique", "side"])
def test_placement_is_guessed_from_shoulder_width(placement: str) -> None:
    frames = session(placement, [(3.0, JUMPING_OK, True)], fps=10)
    assert guess_placement(frames) == placement
    assert guess_placement([replace(f, lm=None) for f in frames]) is None


def test_evaluate_prints_time_shares_per_clip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head_down = replace(JUMPING_OK, head_pitch_deg=40.0)
    frames = session("side", [(2.5, STANDING, False), (6, JUMPING_OK, True), (6, head_down, True)])
    path = tmp_path / "constructed.npz"
    save_track(LandmarkTrack.from_frames(frames, fps=10.0, width=640, height=480), path)
    assert evaluate_main([str(path), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["placement"] == "side"
    head = row["shares"]["head"]
    assert head["fault"] == pytest.approx(row["faults"]["head"]["fault_s"] / 14.5, abs=0.01)
    assert 0.2 <= head["fault"] <= 0.45 and row["shares"]["arms"]["fault"] == 0.0
    assert evaluate_main([str(path)]) == 0
    assert "| constructed | side |" in capsys.readouterr().out


def test_summary_of_nothing_and_an_episode_open_at_the_end() -> None:
    from station.config.loader import build_config
    from station.config.sections import SCHEMA
    from station.posture import PostureJudge, summarise

    assert all(s.total_s == 0.0 and s.episodes == [] for s in summarise([]).values())
    head_down = replace(JUMPING_OK, head_pitch_deg=40.0)
    frames = session("side", [(2.5, STANDING, False), (6, head_down, True)], fps=10)
    judge = PostureJudge(build_config(SCHEMA, [("t", {"camera": {"placement": "side"}})]))
    judge.start_baseline()
    judged = [judge.update(f) for f in frames]
    summary = summarise(judged, end_t=10.0)
    head = summary["head"]
    assert head.total_s == pytest.approx(10.0)
    ((start, end),) = head.episodes
    assert end == pytest.approx(10.0) and head.fault_s == pytest.approx(end - start)
    assert head.share("fault") == pytest.approx(head.fault_s / 10.0)
