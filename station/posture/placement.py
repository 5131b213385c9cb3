"""Guess the camera placement from the landmarks, for recordings whose placement is not known
(e.g. `station analyze` on someone else's video). The live station uses camera.placement.

From the front the shoulders look about 0.64–0.93 torso lengths wide (the real clips), from the
side they overlap (0.11–0.31), and at 45° they are about 0.55 wide. A forward lean shortens the
torso seen from the front, which only makes a front view look more frontal.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from station.events import LANDMARK, PoseFrame

FRONT_ABOVE = 0.6
SIDE_BELOW = 0.35


def shoulder_width_ratio(frame: PoseFrame) -> float | None:
    """Shoulder width over torso length in the image, or None when not measurable."""
    if frame.lm is None:
        return None
    px = np.asarray(frame.lm)[:, :2] * np.array([float(frame.width), float(frame.height)])
    ls, rs = px[LANDMARK["left_shoulder"]], px[LANDMARK["right_shoulder"]]
    lh, rh = px[LANDMARK["left_hip"]], px[LANDMARK["right_hip"]]
    torso = float(np.linalg.norm((ls + rs) / 2 - (lh + rh) / 2))
    width = float(np.linalg.norm(ls - rs))
    if not (np.isfinite(torso) and np.isfinite(width)) or torso <= 1e-6:
        return None
    return width / torso


def guess_placement(frames: Iterable[PoseFrame]) -> str | None:
    """'front', 'oblique' or 'side' from the median shoulder-width ratio; None without a pose."""
    ratios = [r for r in map(shoulder_width_ratio, frames) if r is not None]
    if not ratios:
        return None
    ratio = float(np.median(ratios))
    if ratio >= FRONT_ABOVE:
        return "front"
    if ratio <= SIDE_BELOW:
        return "side"
    return "oblique"
