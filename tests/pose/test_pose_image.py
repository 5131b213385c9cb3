"""Real inference on MediaPipe's pose test image against its published expected landmarks.

expected_landmarks.json holds three result sets (lite, full, heavy models, from MediaPipe's
own PoseLandmarker regression test). Our default backend runs the *full* model, so we compare
with `poseLandmarkerFullResults`. Tolerance: normalised x, y within 0.03 (≈ 29 px of the
960 px width) for every landmark and 0.01 on average. The legacy graph crops and rotates the
person slightly differently from the Tasks API, so exact equality is not expected (measured:
max 0.018, mean 0.0024); the tolerance is still tight enough that the lite or heavy model's
results fail it (max error 0.058 and 0.041 against ours), i.e. the test tells models apart.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from station.pose.backends import LegacyPoseBackend

MAX_XY = 0.03
MEAN_XY = 0.01


def test_full_model_matches_expected_landmarks(shared_data: Path) -> None:
    import cv2

    folder = shared_data / "mediapipe"
    expected = json.loads((folder / "expected_landmarks.json").read_text())
    full = np.asarray(expected["poseLandmarkerFullResults"], dtype=np.float64)
    bgr = cv2.imread(str(folder / "pose_test_image.jpg"))
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    backend = LegacyPoseBackend(static_image_mode=True)
    try:
        (person,) = backend.detect(rgb, 0.0)
    finally:
        backend.close()
    err = np.abs(person.lm[:, :2] - full[:, :2])
    assert err.max() <= MAX_XY, f"worst landmark {err.max(axis=1).argmax()} off by {err.max()}"
    assert err.mean() <= MEAN_XY
    assert person.world is not None and person.world.shape == (33, 3)
    # The tolerance separates models: the lite model's reference would not pass it.
    lite = np.asarray(expected["poseLandmarkerLiteResults"], dtype=np.float64)
    assert np.abs(person.lm[:, :2] - lite[:, :2]).max() > MAX_XY
