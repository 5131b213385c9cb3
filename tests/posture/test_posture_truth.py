"""The posture lights against labels by eye on real MediaPipe tracks of the shared clips.

Labels: tests/posture/labels/<clip>.csv (rules in docs/posture.md). Tracks: the session's
`jumprope_tracks` fixture (real inference once per run on the clips with ground truth); the two
nogt_* clips are scored by `python -m station.posture.evaluate --labels` only.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.events import PoseFrame
from station.posture import PostureJudge
from station.posture.agreement import (
    LIGHTS,
    SCALES,
    judge_frames,
    leave_one_clip_out,
    per_second,
    read_labels,
    run_clip,
)
from station.posture.baseline import scene_cuts, standing_stretch

LABELS = Path(__file__).parent / "labels"
CONFIG = build_config(SCHEMA, [])


def frames_of(tracks: dict[str, Any], clip: str) -> list[PoseFrame]:
    return list(tracks[clip].frames())


def verdicts(frames: list[PoseFrame]) -> dict[str, dict[int, str]]:
    judged, _, _ = judge_frames(frames, CONFIG)
    return per_second(judged, frames[0].t)


def share(verdict: dict[int, str], seconds: range, state: str) -> float:
    return sum(verdict.get(s) == state for s in seconds) / len(seconds)


@pytest.mark.data
def test_every_light_agrees_with_the_labels_out_of_sample(jumprope_tracks: dict) -> None:
    scales = SCALES  # the command's grid: with only (0.8, 1.0, 1.25) one fold picks 1.25 and
    # shoulders fall to 89.9 % out of sample (docs/posture.md, "Not done / open")
    runs = [
        run_clip(clip, frames_of(jumprope_tracks, clip), read_labels(LABELS / f"{clip}.csv"),
                 CONFIG, scales)
        for clip in sorted(jumprope_tracks)
    ]  # fmt: skip
    report = leave_one_clip_out(runs, scales)
    for light in LIGHTS:
        assert report.out_of_sample[light].total >= 100, light
        assert report.out_of_sample[light].share >= 0.9, (light, report.out_of_sample[light])


@pytest.mark.data
def test_labels_cover_every_second_of_every_shared_clip(shared_data: Path) -> None:
    cv2 = pytest.importorskip("cv2")
    for clip in sorted((shared_data / "jumprope").glob("*.mp4")):
        video = cv2.VideoCapture(str(clip))
        frames, fps = video.get(cv2.CAP_PROP_FRAME_COUNT), video.get(cv2.CAP_PROP_FPS)
        video.release()
        seconds = int(frames / fps - 0.5) + 1  # every second whose middle frame exists
        labels = read_labels(LABELS / f"{clip.stem}.csv")
        for light in LIGHTS:
            assert sorted(labels[light]) == list(range(seconds)), (clip.stem, light)


@pytest.mark.data
def test_class4_head_down_from_the_first_second(jumprope_tracks: dict) -> None:
    """hb_alternating_01: the child looks at the floor from the first second (standing, then
    jumping) and looks up only when walking to the camera at the end."""
    frames = frames_of(jumprope_tracks, "hb_alternating_01")
    assert share(verdicts(frames)["head"], range(0, 6), "fault") >= 5 / 6
    # Even a baseline taken while standing there looking down cannot hide it (absolute limit).
    judge = PostureJudge(CONFIG, placement="front")
    judge.measure_baseline(f for f in frames if f.t < 2.5)
    assert judge.baseline["head"] is not None and judge.baseline["head"] >= 20.0
    judged = [judge.update(f) for f in frames]
    assert share(per_second(judged, frames[0].t)["head"], range(0, 6), "fault") >= 5 / 6


@pytest.mark.data
def test_class5_hunched_forward_with_rounded_shoulders_from_the_side(
    jumprope_tracks: dict,
) -> None:
    """speed_jp_2 (side): bent over the rope with the shoulders rounded forward."""
    frames = frames_of(jumprope_tracks, "speed_jp_2")
    v = verdicts(frames)
    assert share(v["shoulders"], range(0, 14), "fault") >= 0.9
    assert share(v["back"], range(5, 14), "fault") >= 0.9


@pytest.mark.data
def test_class6_hands_far_out_to_the_sides(jumprope_tracks: dict) -> None:
    """speed_hiro_1 turns the rope with the hands far out all along; hb_alternating_02 holds
    the arms out to the sides after stopping (7-9 s) and keeps them by the hips before."""
    assert share(verdicts(frames_of(jumprope_tracks, "speed_hiro_1"))["arms"], range(11),
                 "fault") >= 0.9  # fmt: skip
    arms = verdicts(frames_of(jumprope_tracks, "hb_alternating_02"))["arms"]
    assert share(arms, range(0, 7), "ok") == 1.0
    assert arms[9] == "fault"


@pytest.mark.data
def test_baseline_skips_a_title_card_and_a_scene_cut(jumprope_tracks: dict) -> None:
    """The kneeling photo on hb_double_1's title card, then a cut to hb_alternating_02, whose
    jumper stands still with the arms out at 7.5-8.5 s: the stretch is found there only."""
    card = [f for f in frames_of(jumprope_tracks, "hb_double_1") if f.t < 2.5]
    after = [replace(f, t=f.t + 2.5) for f in frames_of(jumprope_tracks, "hb_alternating_02")]
    frames = card + after
    stretch = standing_stretch(frames, 0.5)
    assert stretch is not None and stretch[0] >= 2.5 + 7.0
    assert any(2.4 <= t <= 2.6 for t in scene_cuts(frames, 0.5))
    # jumping all through (hb_double_2 until its end card): no stretch, population defaults
    jumping = [f for f in frames_of(jumprope_tracks, "hb_double_2") if f.t < 31.0]
    assert standing_stretch(jumping, 0.5) is None


@pytest.mark.data
def test_head_cut_off_by_the_picture_reads_unknown_not_fault(jumprope_tracks: dict) -> None:
    """hb_double_2 cropped to its lower 65 % (the head and shoulders above the picture): the
    lights that need them read unknown, never fault."""

    def crop(frame: PoseFrame) -> PoseFrame:
        if frame.lm is None:
            return frame
        lm = np.array(frame.lm, copy=True)
        lm[:, 1] = (lm[:, 1] - 0.35) / 0.65
        return replace(frame, lm=lm, height=int(frame.height * 0.65))

    frames = [crop(f) for f in frames_of(jumprope_tracks, "hb_double_2") if f.t < 30.0]
    v = verdicts(frames)
    for light in ("head", "shoulders"):
        assert set(v[light].values()) == {"unknown"}, (light, v[light])
