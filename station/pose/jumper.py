"""Pick the jumper: the person standing on the mat, and keep following them.

The camera sees more than the member: a trainer, the next in line, someone walking past. The
config's ``camera.roi`` is the mat's area in the image; the jumper is the person whose feet
(ankles/heels, or hips when the feet are not visible) are inside it. With several candidates
(Tasks backend) the one nearest to the last chosen position wins, so the light does not jump
between people. A person outside the ROI is treated as nobody: the frame has no pose.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from station.events import LANDMARK
from station.pose.backends import PoseBackend, PoseCandidate

FEET = [LANDMARK[n] for n in ("left_ankle", "right_ankle", "left_heel", "right_heel")]
HIPS = [LANDMARK["left_hip"], LANDMARK["right_hip"]]
FULL_FRAME = (0.0, 0.0, 1.0, 1.0)


FEET_EDGE = 0.01  # a foot this far past the picture's edge (× its size) is out of it


def anchor_point(
    lm: NDArray[np.float64], min_visibility: float = 0.3
) -> NDArray[np.float64] | None:
    """Where a person stands in the image: mean of the visible feet, else of the hips.

    Feet outside the picture (a camera aimed too high) do not count even when the model
    calls them visible: it extrapolates them below the edge, and an anchor below the edge
    lies outside any region of the picture, so the jumper would be dropped."""
    finite = np.isfinite(lm[:, :2]).all(axis=1)
    with np.errstate(invalid="ignore"):
        in_picture = ((lm[:, :2] >= -FEET_EDGE) & (lm[:, :2] <= 1 + FEET_EDGE)).all(axis=1)
    for group, need_inside in ((FEET, True), (HIPS, False)):
        idx = [
            i
            for i in group
            if finite[i] and lm[i, 3] >= min_visibility and (in_picture[i] or not need_inside)
        ]
        if idx:
            return np.asarray(lm[idx, :2].mean(axis=0), dtype=np.float64)
    return None


class JumperPicker:
    """Chooses the jumper among a frame's pose candidates (or nobody)."""

    def __init__(self, roi: Sequence[float] = FULL_FRAME, margin: float = 0.03) -> None:
        self.configured_roi = tuple(float(v) for v in roi)
        left, top, right, bottom = self.configured_roi
        # A small margin: feet on the mat's edge jitter across the line by a few pixels.
        self.roi = (left - margin, top - margin, right + margin, bottom + margin)
        self.full_frame = self.configured_roi == FULL_FRAME
        self._last: NDArray[np.float64] | None = None
        self.rejected = 0  # frames where someone was found but not on the mat
        self.rejected_streak = 0  # … in a row

    def inside(self, point: NDArray[np.float64]) -> bool:
        left, top, right, bottom = self.roi
        return bool(left <= point[0] <= right and top <= point[1] <= bottom)

    def pick(self, candidates: Sequence[PoseCandidate]) -> PoseCandidate | None:
        on_mat: list[tuple[PoseCandidate, NDArray[np.float64]]] = []
        for cand in candidates:
            point = anchor_point(cand.lm)
            if point is None:
                continue
            if self.full_frame or self.inside(point):
                on_mat.append((cand, point))
        if not on_mat:
            if candidates:
                self.rejected += 1
                self.rejected_streak += 1
            return None
        self.rejected_streak = 0
        if self._last is not None and len(on_mat) > 1:
            last = self._last
            on_mat.sort(key=lambda cp: float(np.hypot(*(cp[1] - last))))
        chosen, point = on_mat[0]
        self._last = point
        return chosen

    def forget(self) -> None:
        self._last = None


REDETECT_AFTER = 5  # frames in a row with only people off the mat
CROP_SIDE_MARGIN = 0.1  # arms and a leaning body reach past the mat's sides
CROP_BOTTOM_MARGIN = 0.05


def crop_box(roi: Sequence[float], width: int, height: int) -> tuple[int, int, int, int] | None:
    """The part of the picture the model looks at: above the mat's bottom edge (the jumper's
    body is above their feet) and a little wider than the mat. None: the whole picture."""
    left, _top, right, bottom = (float(v) for v in roi)
    x0 = max(0, round((left - CROP_SIDE_MARGIN) * width))
    x1 = min(width, round((right + CROP_SIDE_MARGIN) * width))
    y1 = min(height, round((bottom + CROP_BOTTOM_MARGIN) * height))
    if x0 == 0 and x1 == width and y1 == height:
        return None
    return x0, 0, x1, y1


def _uncrop(
    cand: PoseCandidate, box: tuple[int, int, int, int], width: int, height: int
) -> PoseCandidate:
    x0, y0, x1, y1 = box
    lm = cand.lm.copy()
    lm[:, 0] = (x0 + lm[:, 0] * (x1 - x0)) / width
    lm[:, 1] = (y0 + lm[:, 1] * (y1 - y0)) / height
    lm[:, 2] = lm[:, 2] * (x1 - x0) / width  # z is on the same scale as x
    return PoseCandidate(lm, cand.world)


def detect_jumper(
    backend: PoseBackend, picker: JumperPicker, rgb: NDArray[np.uint8], t: float
) -> PoseCandidate | None:
    """One frame: detect people on and above the mat, pick the jumper, and if the backend
    keeps tracking someone off the mat (a single-person tracker latches onto whoever it
    found), make it look again.

    The model only sees the mat's part of the picture (:func:`crop_box`): a single-person
    model such as the legacy one detects the most confident person, who could otherwise be
    someone walking past in the foreground."""
    height, width = rgb.shape[:2]
    box = crop_box(picker.configured_roi, width, height)
    if box is None:
        candidates = backend.detect(rgb, t)
    else:
        x0, y0, x1, y1 = box
        found = backend.detect(np.ascontiguousarray(rgb[y0:y1, x0:x1]), t)
        candidates = [_uncrop(c, box, width, height) for c in found]
    chosen = picker.pick(candidates)
    if chosen is None and picker.rejected_streak >= REDETECT_AFTER:
        backend.reset()
        picker.rejected_streak = 0
        picker.forget()
    return chosen
