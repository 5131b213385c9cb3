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
