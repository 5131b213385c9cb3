"""The posture metrics on real MediaPipe output: the MediaPipe test image and two real clips.

What each test expects was checked by looking at the pictures (docs/posture.md, "Checked by
looking"): the woman in the test image sits on the ground with her head tilted down; in
hb_double_2 the jumper stands tall, looks ahead and keeps his hands by his hips; in
speed_hiro_1 the jumper leans forward, looks at the floor and holds his arms far out.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.events import NUM_LANDMARKS, PoseFrame
from station.posture import METRICS, PostureJudge, summarise
from station.posture.body import Body
from station.posture.metrics import NotMeasurable
from station.posture.placement import guess_placement

TEST_IMAGE_SIZE = (960, 640)


def expected_frame(shared_data: Path) -> PoseFrame:
    """The full model's expected landmarks for the test image (no world landmarks given)."""
    data = json.loads((shared_data / "mediapipe" / "expected_landmarks.json").read_text())
    xyz = np.array(data["poseLandmarkerFullResults"], dtype=np.float64)
    assert xyz.shape == (NUM_LANDMARKS, 3)
    lm = np.column_stack([xyz, np.ones(NUM_LANDMARKS)])
    return PoseFrame(t=0.0, lm=lm, world=None, width=TEST_IMAGE_SIZE[0], height=TEST_IMAGE_SIZE[1])


def test_metrics_on_the_test_images_expected_landmarks(shared_data: Path) -> None:
    frame = expected_frame(shared_data)
    assert guess_placement([frame]) == "front"
    body = Body.from_frame(frame, 0.5)
    assert body is not None
    # relaxed shoulders: the ears sit well above them, as in the upright real clips (0.35-0.52)
    assert 0.30 <= METRICS["shoulders"].raw(body, "front") <= 0.50
    # her head is tilted down toward her knees
    assert METRICS["head"].raw(body, "front") >= 30.0
    # her hands rest on her knees, away from the trunk (image fallback: no world landmarks)
    assert METRICS["arms"].raw(body, "front") >= 0.7
    with pytest.raises(NotMeasurable):
        METRICS["landing"].raw(body, "front")


def test_metrics_on_real_inference_of_the_test_image(shared_data: Path) -> None:
    cv2 = pytest.importorskip("cv2")
    from station.pose.backends import LegacyPoseBackend

    bgr = cv2.imread(str(shared_data / "mediapipe" / "pose_test_image.jpg"))
    backend = LegacyPoseBackend(static_image_mode=True)
    try:
        (found,) = backend.detect(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), 0.0)
    finally:
        backend.close()
    assert found.world is not None
    h, w = bgr.shape[:2]
    body = Body.from_frame(PoseFrame(0.0, found.lm, found.world, w, h), 0.5)
    assert body is not None
    # she sits: trunk and legs are far from one straight line (from world landmarks)
    assert METRICS["back"].raw(body, "front") >= 40.0
    assert METRICS["head"].raw(body, "front") >= 30.0


def judge_clip(
    shared_data: Path, clip: str, seconds: float, every: int = 3, placement: str = "front"
) -> dict[str, float]:
    """Run MediaPipe on the first `seconds` of a clip at 1/`every` of its frame rate (about the
    rate a Pi manages) and judge it with the population baseline; returns each light's share of
    fault time among the judged (not unknown) time, and "<fault>.judged", the judged share."""
    from station.camera.video import VideoReader
    from station.pose.backends import LegacyPoseBackend

    config = build_config(SCHEMA, [("test", {"camera": {"placement": placement}})])
    judge = PostureJudge(config)
    backend = LegacyPoseBackend()
    judged = []
    path = shared_data / "jumprope" / f"{clip}.mp4"
    try:
        with VideoReader(path) as video:
            width, height = video.info.width, video.info.height
            for index, t, rgb in video:
                if t > seconds:
                    break
                if index % every:
                    continue
                found = backend.detect(rgb, t)
                lm = found[0].lm if found else None
                world = found[0].world if found else None
                judged.append(judge.update(PoseFrame(t, lm, world, width, height, index)))
    finally:
        backend.close()
    summary = summarise(judged)
    shares = {}
    for fault, s in summary.items():
        known = s.total_s - s.unknown_s
        shares[fault] = s.fault_s / known if known > 0 else float("nan")
        shares[f"{fault}.judged"] = known / s.total_s
    return shares


@pytest.mark.data
def test_an_upright_jumper_gets_no_camera_faults(shared_data: Path) -> None:
    shares = judge_clip(shared_data, "hb_double_2", seconds=12.0)
    for fault in ("shoulders", "back", "arms", "head"):
        assert shares[fault] == 0.0, (fault, shares)


@pytest.mark.data
def test_a_jumper_looking_down_with_arms_out_is_flagged(shared_data: Path) -> None:
    shares = judge_clip(shared_data, "speed_hiro_1", seconds=10.0)
    assert shares["head"] >= 0.8, shares
    assert shares["arms"] >= 0.5, shares
    assert shares["back"] >= 0.8, shares


@pytest.mark.data
def test_side_view_soft_landings_and_upright_jumping(shared_data: Path) -> None:
    """nogt_side_view: upright, landing on the balls of the feet (heels up at touchdown)."""
    shares = judge_clip(shared_data, "nogt_side_view", seconds=11.0, every=2, placement="side")
    for fault in ("shoulders", "back", "arms", "head", "landing"):
        assert shares[fault] == 0.0, (fault, shares)
    assert shares["landing.judged"] >= 0.4, shares  # touchdowns are seen at 12.5 frames/s
