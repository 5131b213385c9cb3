"""Where a recording's posture baseline comes from: a stretch of standing tall and still.

The live station asks the member to stand tall (its calibration) and measures the baseline
then. A recorded video has no such moment on cue: it may open on a title card, cut between
shots, or start in the middle of jumping, and a baseline taken there makes a habit look normal
(a child looking at the floor from the first second never lights Head). So `station analyze`
looks for a stretch where, in every frame,

- the whole body counts (nose or ears, shoulders, hips, ankles in the picture and visible),
- the trunk and the legs stand within `UPRIGHT_DEG` of the image vertical, and the legs are
  `MIN_LEG_OVER_TORSO`–`MAX_LEG_OVER_TORSO` torso lengths long (kneeling, sitting, a bow
  toward a front camera fail),

and over the stretch the hips and ankles stay within `STILL_RANGE` torso lengths (standing,
not jumping: even a low rope jump lifts the feet 3–5 cm, about 0.06–0.1 torso lengths), with no
scene cut inside it. A scene cut is where the body jumps between two frames by more than a
person can move (`CUT_SHIFT` torso lengths at the hips, or the torso's size changes by more
than `CUT_SCALE`), or where the pose is lost for `CUT_GAP_S` (a card, a cut-away). Without such
a stretch the population defaults are used (station.posture.metrics).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from station.events import PoseFrame
from station.posture.body import Body, NotVisible, norm

UPRIGHT_DEG = 15.0
"""Trunk (hip→shoulder) and legs (ankle→hip) within this of the image vertical."""
MIN_LEG_OVER_TORSO = 1.0
MAX_LEG_OVER_TORSO = 2.0
"""Hip-to-ankle over hip-to-shoulder: 1.3–1.6 standing on the real clips; kneeling or sitting
folds the legs under the hips (below 1), and a trunk pitched forward toward a front camera
looks short (a bow on hb_double_1 reads 2.1–2.5; a 40° pitch would read about 1.5/cos 40° ≈ 2)."""
STILL_RANGE = 0.05
"""Hips and ankles move less than this many torso lengths (up-down and sideways) over the
stretch: about 2.5 cm on an adult, under a jump's foot clearance."""
CUT_SHIFT = 0.5
"""The hip midpoint moving more than this many torso lengths between two frames is a cut."""
CUT_SCALE = 0.25
"""The torso's apparent length changing by more than this fraction between frames is a cut."""
CUT_GAP_S = 0.5
"""No pose for this long breaks a stretch (title card, cut-away)."""
MIN_STANDING_S = 1.0
"""The shortest stretch a recording's baseline is taken from (posture.baseline_s if shorter)."""


@dataclass(frozen=True)
class Stance:
    """What one frame shows, for finding a standing stretch: hip and ankle midpoints and the
    torso length in pixels, and whether the body stands upright with its legs under it."""

    t: float
    hip: np.ndarray
    ankle: np.ndarray
    torso: float
    upright: bool


def stance(frame: PoseFrame, min_visibility: float) -> Stance | None:
    """None when the frame has no usable full body."""
    body = Body.from_frame(frame, min_visibility)
    if body is None:
        return None
    try:
        hip, shoulder, ankle = body.mid("hip"), body.mid("shoulder"), body.mid("ankle")
        try:
            body.point("nose")
        except NotVisible:
            body.mid("ear")
    except NotVisible:
        return None
    torso = norm(shoulder - hip)
    leg = norm(hip - ankle)
    if not torso > 1e-6:
        return None
    upright = (
        _from_vertical(shoulder - hip) <= UPRIGHT_DEG
        and _from_vertical(hip - ankle) <= UPRIGHT_DEG
        and MIN_LEG_OVER_TORSO * torso <= leg <= MAX_LEG_OVER_TORSO * torso
    )
    return Stance(float(frame.t), hip, ankle, torso, upright)


def _from_vertical(v: np.ndarray) -> float:
    """Angle of an image vector pointing up (y down) from the vertical, degrees."""
    return math.degrees(math.atan2(abs(float(v[0])), -float(v[1])))


def is_cut(before: Stance, after: Stance) -> bool:
    """Two consecutive pose frames that cannot show the same body a moment apart."""
    scale = max(before.torso, after.torso)
    if norm(after.hip - before.hip) > CUT_SHIFT * scale:
        return True
    return abs(after.torso - before.torso) > CUT_SCALE * scale


def _trunk(frame: PoseFrame, min_visibility: float) -> Stance | None:
    """Hip midpoint and torso length of any frame with shoulders and hips (a title card's
    photo or a half-body shot too): enough to see a cut."""
    body = Body.from_frame(frame, min_visibility)
    if body is None:
        return None
    try:
        hip, shoulder = body.mid("hip"), body.mid("shoulder")
    except NotVisible:
        return None
    torso = norm(shoulder - hip)
    return Stance(float(frame.t), hip, hip, torso, False) if torso > 1e-6 else None


def scene_cuts(frames: Sequence[PoseFrame], min_visibility: float) -> list[float]:
    """Times of the frames where a new shot begins (judged from the landmarks)."""
    cuts: list[float] = []
    last: Stance | None = None
    for frame in frames:
        now = _trunk(frame, min_visibility)
        if now is None:
            continue
        if last is not None and (now.t - last.t >= CUT_GAP_S or is_cut(last, now)):
            cuts.append(now.t)
        last = now
    return cuts


def standing_stretch(
    frames: Sequence[PoseFrame], min_visibility: float, length_s: float = MIN_STANDING_S
) -> tuple[float, float] | None:
    """(start, end) times of the first stretch of at least `length_s` where the member stands
    upright and still within one shot, or None."""
    run: list[Stance] = []
    for frame in frames:
        now = stance(frame, min_visibility)
        if now is None or not now.upright:
            if now is None and run and frame.t - run[-1].t < CUT_GAP_S:
                continue  # a dropped frame or two: the stretch goes on
            run = []
            continue
        if run and (now.t - run[-1].t >= CUT_GAP_S or is_cut(run[-1], now)):
            run = []
        run.append(now)
        while run and not _still(run):
            run.pop(0)
        if run and run[-1].t - run[0].t >= length_s:
            return run[0].t, run[-1].t
    return None


def _still(run: Sequence[Stance]) -> bool:
    torso = float(np.median([s.torso for s in run]))
    for points in ([s.hip for s in run], [s.ankle for s in run]):
        xy = np.asarray(points)
        if np.any(np.ptp(xy, axis=0) > STILL_RANGE * torso):
            return False
    return True
