"""One pose frame as geometry the metrics can use: pixel points, visibility, world points.

Normalised landmarks are turned into pixels (x·width, y·height) so that angles are not
distorted by the image's aspect ratio. A landmark "counts" only when it is finite and its
visibility is at least `pose.min_visibility` and it lies inside the picture; NaN landmarks
simply do not count.

Paired landmarks (ears, shoulders, hips, ...) are averaged when both sides count and fall back
to the one side that counts otherwise: from a side camera the far side is often hidden, and
the near side then stands for both (they project almost onto each other anyway).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from station.events import LANDMARK, PoseFrame

Vec = NDArray[np.float64]

IMAGE_MARGIN = 0.02
"""MediaPipe extrapolates landmarks outside the picture (a head cut off by the frame) and can
still call them visible; a landmark more than this fraction of the image outside does not count."""

PAIRS: dict[str, tuple[str, str]] = {
    "ear": ("left_ear", "right_ear"),
    "shoulder": ("left_shoulder", "right_shoulder"),
    "hip": ("left_hip", "right_hip"),
    "knee": ("left_knee", "right_knee"),
    "ankle": ("left_ankle", "right_ankle"),
    "wrist": ("left_wrist", "right_wrist"),
}


class NotVisible(Exception):
    """A metric needs landmarks that do not count in this frame; the message names them."""


@dataclass(frozen=True)
class Body:
    """Pixel points `px` [33×2] (y down), which landmarks count, and world points (metres,
    y down, origin between the hips) when the backend gave them."""

    px: Vec
    counts: NDArray[np.bool_]
    world: Vec | None
    world_counts: NDArray[np.bool_] | None = None  # counts, and finite in world coordinates

    @classmethod
    def from_frame(cls, frame: PoseFrame, min_visibility: float) -> Body | None:
        """None when nobody is in the frame (no landmarks, or none usable)."""
        if frame.lm is None:
            return None
        lm = np.asarray(frame.lm, dtype=np.float64)
        if lm.shape != (len(LANDMARK), 4):
            return None
        px = lm[:, :2] * np.array([float(frame.width), float(frame.height)])
        finite = np.all(np.isfinite(lm[:, :2]), axis=1)
        with np.errstate(invalid="ignore"):
            inside = np.all((lm[:, :2] >= -IMAGE_MARGIN) & (lm[:, :2] <= 1 + IMAGE_MARGIN), axis=1)
            counts = finite & inside & (lm[:, 3] >= min_visibility)  # NaN visibility: False
        if not counts.any():
            return None
        world: Vec | None = None
        world_counts: NDArray[np.bool_] | None = None
        if frame.world is not None:
            w = np.asarray(frame.world, dtype=np.float64)
            if w.shape == (len(LANDMARK), 3):
                world = w
                world_counts = counts & np.all(np.isfinite(w), axis=1)
        return cls(px=px, counts=counts, world=world, world_counts=world_counts)

    # --- image (pixel) points -------------------------------------------------------------

    def point(self, name: str) -> Vec:
        """A single landmark in pixels, or NotVisible."""
        i = LANDMARK[name]
        if not self.counts[i]:
            raise NotVisible(name)
        return self.px[i]

    def mid(self, pair: str) -> Vec:
        """The midpoint of a pair in pixels (or the one side that counts)."""
        return self._mid(pair, self.px, self.counts)

    # --- world points ---------------------------------------------------------------------

    def world_point(self, name: str) -> Vec:
        i = LANDMARK[name]
        if self.world is None or self.world_counts is None or not self.world_counts[i]:
            raise NotVisible(f"{name} (world)")
        return self.world[i]

    def world_mid(self, pair: str) -> Vec:
        if self.world is None or self.world_counts is None:
            raise NotVisible(f"{pair} (world)")
        return self._mid(pair, self.world, self.world_counts)

    @staticmethod
    def _mid(pair: str, points: Vec, ok: NDArray[np.bool_]) -> Vec:
        left, right = PAIRS[pair]
        il, ir = LANDMARK[left], LANDMARK[right]
        if ok[il] and ok[ir]:
            return np.asarray((points[il] + points[ir]) / 2.0, dtype=np.float64)
        if ok[il]:
            return points[il]
        if ok[ir]:
            return points[ir]
        raise NotVisible(f"{left}/{right}")


def norm(v: Vec) -> float:
    """Length of a 2-D or 3-D vector (math.hypot: much cheaper than np.linalg.norm here)."""
    return math.hypot(*(float(c) for c in v))


def unit(v: Vec) -> Vec:
    n = norm(v)
    if not n > 1e-9:
        raise NotVisible("degenerate (two landmarks on top of each other)")
    return np.asarray(v / n, dtype=np.float64)


def point_line_distance(p: Vec, a: Vec, b: Vec) -> float:
    """Distance from `p` to the infinite line through `a` and `b` (2-D or 3-D)."""
    d = unit(b - a)
    r = p - a
    return norm(r - np.dot(r, d) * d)
