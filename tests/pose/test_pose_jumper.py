"""Picking the jumper: the person whose feet are on the mat (camera.roi)."""

from __future__ import annotations

import numpy as np
import pytest

from station.events import NUM_LANDMARKS
from station.pose.backends import PoseCandidate, PoseModelMissing, TasksPoseBackend
from station.pose.jumper import JumperPicker


def person_at(x: float, y_feet: float = 0.9) -> PoseCandidate:
    lm = np.zeros((NUM_LANDMARKS, 4))
    lm[:, 0] = x
    lm[:, 1] = y_feet - 0.5
    lm[27:33, 1] = y_feet
    lm[:, 3] = 1.0
    return PoseCandidate(lm, None)


def test_person_outside_the_mat_is_nobody() -> None:
    picker = JumperPicker([0.3, 0.5, 0.7, 1.0])
    assert picker.pick([person_at(0.1)]) is None
    assert picker.rejected == 1
    assert picker.pick([person_at(0.5)]) is not None


def test_keeps_following_the_jumper_when_a_second_person_is_on_the_mat() -> None:
    picker = JumperPicker([0.2, 0.5, 0.8, 1.0])
    jumper = person_at(0.45)
    assert picker.pick([jumper]) is jumper
    walker = person_at(0.7)
    chosen = picker.pick([walker, person_at(0.47)])
    assert chosen is not None and chosen.lm[0, 0] == pytest.approx(0.47)


def test_nan_landmarks_and_nobody_do_not_crash() -> None:
    picker = JumperPicker()
    nan = PoseCandidate(np.full((NUM_LANDMARKS, 4), np.nan), None)
    assert picker.pick([nan]) is None
    assert picker.pick([]) is None


def test_tasks_backend_names_the_missing_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PoseModelMissing, match="task_model"):
        TasksPoseBackend(tmp_path / "pose_landmarker_full.task")


def test_crop_box_and_back() -> None:
    from station.pose.jumper import _uncrop, crop_box

    assert crop_box((0.0, 0.0, 1.0, 1.0), 640, 480) is None
    box = crop_box((0.3, 0.2, 0.6, 0.7), 1000, 500)
    assert box == (200, 0, 700, 375)
    lm = np.zeros((NUM_LANDMARKS, 4))
    lm[:, 0], lm[:, 1] = 0.5, 1.0  # middle of the crop's bottom edge
    back = _uncrop(PoseCandidate(lm, None), box, 1000, 500)
    assert back.lm[0, 0] == pytest.approx(0.45) and back.lm[0, 1] == pytest.approx(0.75)


def test_passer_by_is_never_taken_for_the_jumper(shared_data) -> None:  # type: ignore[no-untyped-def]
    """Sports2D's demo: a man on a box (our "mat") while a woman walks past in front of it.
    Real inference with the ROI on the box: every pose kept is the man's."""
    from station.pose.extract import infer_video
    from station.pose.jumper import anchor_point

    roi = (0.1, 0.0, 0.45, 0.6)
    result = infer_video(shared_data / "sports2d" / "demo.mp4", roi=roi)
    kept = [f.lm for f in result.frames if f.lm is not None]
    assert len(result.frames) == 230 and len(kept) >= 80
    for lm in kept:
        x, y = anchor_point(lm)  # type: ignore[misc]
        assert 0.07 <= x <= 0.48 and y <= 0.63


def test_tasks_backend_rejects_a_file_that_is_not_a_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "pose_landmarker_full.task"
    bad.write_bytes(b"not a model")
    with pytest.raises(PoseModelMissing, match="not a usable pose landmarker model"):
        TasksPoseBackend(bad)


def test_feet_below_the_picture_fall_back_to_the_hips() -> None:
    """A camera aimed too high: the model extrapolates the feet below the picture's edge and
    may still call them visible. The jumper (hips inside the region) is kept, not dropped."""
    from station.pose.jumper import anchor_point

    cut = person_at(0.5, y_feet=1.12)  # hips at 0.62
    point = anchor_point(cut.lm)
    assert point is not None and point[1] == pytest.approx(0.62)
    picker = JumperPicker([0.3, 0.0, 0.7, 1.0])
    assert picker.pick([cut]) is cut
    assert picker.pick([person_at(0.5, y_feet=0.95)]) is not None  # feet inside: as before
