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
from station.pose.backends import PoseCandidate

FEET = [LANDMARK[n] for n in ("left_ankle", "right_ankle", "left_heel", "right_heel")]
HIPS = [LANDMARK["left_hip"], LANDMARK["right_hip"]]
FULL_FRAME = (0.0, 0.0, 1.0, 1.0)


def anchor_point(
    lm: NDArray[np.float64], min_visibility: float = 0.3
) -> NDArray[np.float64] | None:
    """Where a person stands in the image: mean of the visible feet, else of the hips."""
    if not np.isfinite(lm[:, :2]).all():
        finite = np.isfinite(lm[:, :2]).all(axis=1)
    else:
        finite = np.ones(lm.shape[0], dtype=bool)
    for group in (FEET, HIPS):
        idx = [i for i in group if finite[i] and lm[i, 3] >= min_visibility]
        if idx:
            return np.asarray(lm[idx, :2].mean(axis=0), dtype=np.float64)
    return None


class JumperPicker:
    """Chooses the jumper among a frame's pose candidates (or nobody)."""

    def __init__(self, roi: Sequence[float] = FULL_FRAME, margin: float = 0.03) -> None:
        left, top, right, bottom = (float(v) for v in roi)
        # A small margin: feet on the mat's edge jitter across the line by a few pixels.
        self.roi = (left - margin, top - margin, right + margin, bottom + margin)
        self.full_frame = tuple(roi) == FULL_FRAME
        self._last: NDArray[np.float64] | None = None
        self.rejected = 0  # frames where someone was found but not on the mat

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
            return None
        if self._last is not None and len(on_mat) > 1:
            last = self._last
            on_mat.sort(key=lambda cp: float(np.hypot(*(cp[1] - last))))
        chosen, point = on_mat[0]
        self._last = point
        return chosen

    def forget(self) -> None:
        self._last = None
