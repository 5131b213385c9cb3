"""Where a recording's posture baseline comes from: a stretch of standing tall and still.

The live station asks the member to stand tall (its calibration) and measures the baseline
then. A recorded video has no such moment on cue: it may open on a title card, cut between
shots, or start in the middle of jumping, and a baseline taken there makes a habit look normal
(a child looking at the floor from the first second never lights Head). So `station analyze`
looks for a stretch where, in every frame,

- the head (nose or ears), shoulders and hips count (in the picture and visible),
- the trunk stands within `UPRIGHT_DEG` of the image vertical,
- the legs stand under it, judged on the lowest leg landmarks the picture really shows
  (:data:`LEG_GAUGES`): the ankles, `MIN_LEG_OVER_TORSO`–`MAX_LEG_OVER_TORSO` torso lengths
  from the hips and within `UPRIGHT_DEG` of the vertical (kneeling, sitting, a bow toward a
  front camera fail); with the feet cut off by the picture's edge (a camera aimed high) the
  knees, half that (the thigh is half the leg); with the knees cut off too, the trunk alone,
  not foreshortened toward the camera (`MIN_TORSO_OVER_SHOULDERS`, a bow fails); either way
  hips, knees and ankles must stack in that order where MediaPipe places the cut-off ones
  (kneeling brings the ankles up to the knees). Feet inside the picture but hidden (a
  kneeling photo: the feet tucked behind) give no stance at all,

and over the stretch the hips and those leg landmarks stay within `STILL_RANGE` torso lengths
(standing, not jumping: even a low rope jump lifts the feet, and the hips with them, 3–5 cm,
about 0.06–0.1 torso lengths), with no scene cut inside it. A stretch judged without the
ankles gives the baselines that need no feet (shoulders, head); the back and the landing,
which are measured from the ankles and feet, keep the population defaults.

A scene cut is where the body jumps between two frames by more than a
person can move (`CUT_SHIFT` torso lengths at the hips, or the torso's size changes by more
than `CUT_SCALE`), or where the pose is lost for `CUT_GAP_S` (a card, a cut-away). Without such
a stretch the population defaults are used (station.posture.metrics).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from station.events import LANDMARK, PoseFrame
from station.pose.framing import FEET
from station.posture.body import Body, NotVisible, norm

UPRIGHT_DEG = 15.0
"""Trunk (hip→shoulder) and legs (ankle→hip) within this of the image vertical."""
MIN_LEG_OVER_TORSO = 1.0  # the ankle gauge of LEG_GAUGES
MAX_LEG_OVER_TORSO = 2.0
"""Hip-to-ankle over hip-to-shoulder: 1.3–1.6 standing on the real clips; kneeling or sitting
folds the legs under the hips (below 1), and a trunk pitched forward toward a front camera
looks short (a bow on hb_double_1 reads 2.1–2.5; a 40° pitch would read about 1.5/cos 40° ≈ 2)."""
MIN_THIGH_OVER_TORSO = 0.5
MAX_THIGH_OVER_TORSO = 1.0
"""Hip-to-knee over hip-to-shoulder, used when the ankles are out of the picture: thigh and
shank are about equally long (0.245 and 0.246 of the body height in the standard segment
tables), so half the legs' range; 0.74–0.79 standing on hb_alternating_02."""
MIN_TORSO_OVER_SHOULDERS = 1.2
"""Used when neither ankles nor knees are in the picture: hip-to-shoulder length over the
shoulders' width (both shoulders counting; from the side the width vanishes and the upright
test sees a bow). A trunk pitched toward a front camera looks short by cos(pitch): upright
1.43–1.60 on the real front clips (MediaPipe's joints) and 1.32 on the constructed adult
(tests/posture/posture_skeleton.py), a bow or a trunk bent over the rope 1.0–1.1 on the real
clips (hb_double_1's bow, speed_hiro_1); the constructed adult pitched 30° reads 1.13. Set
below the broadest upright reading so a broad-shouldered member still counts: a pitch of more
than about 25° fails."""
EDGE = 0.02
"""A leg landmark this close to the picture's edge (fraction of its size) or beyond does not
place the legs: MediaPipe pins feet cut off by the frame to the edge and still calls them
visible (feet cut off below hb_alternating_02: the ankles at 0.98–1.02 of the picture's height,
jittering 10 px while she stood still, reading legs 1.0–1.2 torso lengths long)."""
LEG_GAUGES: tuple[tuple[str, float, float], ...] = (
    ("ankle", MIN_LEG_OVER_TORSO, MAX_LEG_OVER_TORSO),
    ("knee", MIN_THIGH_OVER_TORSO, MAX_THIGH_OVER_TORSO),
)
"""The leg landmarks that show the legs under the trunk, lowest first, with the length range
(torso lengths) from the hips that standing gives them. The first in the picture is used."""
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
    """What one frame shows, for finding a standing stretch: hip midpoint, the leg landmark the
    legs were judged on (`legs`: "ankle", "knee" or "trunk" when neither is in the picture;
    `ankle` holds that point, the hips for "trunk") and the torso length in pixels, and whether
    the body stands upright with its legs under it."""

    t: float
    hip: np.ndarray
    ankle: np.ndarray
    torso: float
    upright: bool
    legs: str = "ankle"


class Stretch(NamedTuple):
    """A standing stretch: its first and last frame times and what the legs were judged on."""

    start: float
    end: float
    legs: str = "ankle"


def stance(frame: PoseFrame, min_visibility: float) -> Stance | None:
    """None when the frame has no usable trunk and head."""
    body = Body.from_frame(frame, min_visibility)
    if body is None:
        return None
    try:
        hip, shoulder = body.mid("hip"), body.mid("shoulder")
        try:
            body.point("nose")
        except NotVisible:
            body.mid("ear")
    except NotVisible:
        return None
    torso = norm(shoulder - hip)
    if not torso > 1e-6:
        return None
    trunk_upright = _from_vertical(shoulder - hip) <= UPRIGHT_DEG
    for pair, shortest, longest in LEG_GAUGES:
        point, cut_off = _inside_mid(frame, body, pair)
        if point is None and cut_off:
            continue  # out of the picture: judge the legs by the next landmark up
        if point is None:
            return None  # in the picture but hidden (kneeling feet tucked behind): unknown
        length = norm(hip - point)
        upright = (
            trunk_upright
            and _from_vertical(hip - point) <= UPRIGHT_DEG
            and shortest * torso <= length <= longest * torso
            and (pair == "ankle" or _stacked(frame))
        )
        return Stance(float(frame.t), hip, point, torso, upright, pair)
    try:
        width = norm(body.point("left_shoulder") - body.point("right_shoulder"))
    except NotVisible:
        width = 0.0  # one shoulder hidden: a side view, where the upright test sees a bow
    upright = trunk_upright and torso >= MIN_TORSO_OVER_SHOULDERS * width and _stacked(frame)
    return Stance(float(frame.t), hip, hip, torso, upright, "trunk")


def _stacked(frame: PoseFrame) -> bool:
    """Hips above knees above ankles in the picture, wherever MediaPipe places the ones cut
    off by its edge (it extrapolates them, or pins them to the edge): standing stacks them so,
    kneeling brings the ankles up level with the knees or above them (hb_double_1's kneeling
    title-card photo with the bottom 15 % cut off: ankles 1.00-1.04, knees 1.08-1.13 of the
    picture's height), and sitting brings the knees up to the hips."""
    assert frame.lm is not None
    heights = [
        float(np.mean(frame.lm[[LANDMARK[f"left_{pair}"], LANDMARK[f"right_{pair}"]], 1]))
        for pair in ("hip", "knee", "ankle")
    ]
    return heights[0] < heights[1] < heights[2]


def _inside_mid(frame: PoseFrame, body: Body, pair: str) -> tuple[np.ndarray | None, bool]:
    """The pair's midpoint (or the one side) over the landmarks that count and lie inside the
    picture by at least EDGE (None when neither does), and whether both lie at or beyond the
    picture's edge (cut off by the frame, not hidden in it)."""
    assert frame.lm is not None  # Body.from_frame gave a body
    inside, cut_off = [], True
    for side in ("left", "right"):
        name = f"{side}_{pair}"
        x, y = (float(v) for v in frame.lm[LANDMARK[name], :2])
        within = EDGE <= x <= 1.0 - EDGE and EDGE <= y <= 1.0 - EDGE
        cut_off = cut_off and not within
        try:
            point = body.point(name)
        except NotVisible:
            continue
        if within:
            inside.append(point)
    return (np.mean(inside, axis=0) if inside else None), cut_off


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
) -> Stretch | None:
    """The first stretch of at least `length_s` where the member stands upright and still
    within one shot, with the legs judged the same way all through, or None."""
    run: list[Stance] = []
    for frame in frames:
        now = stance(frame, min_visibility)
        if now is None or not now.upright:
            if now is None and run and frame.t - run[-1].t < CUT_GAP_S:
                continue  # a dropped frame or two: the stretch goes on
            run = []
            continue
        if run and (
            now.t - run[-1].t >= CUT_GAP_S or is_cut(run[-1], now) or now.legs != run[-1].legs
        ):
            run = []
        run.append(now)
        while run and not _still(run):
            run.pop(0)
        if run and run[-1].t - run[0].t >= length_s:
            return Stretch(run[0].t, run[-1].t, run[0].legs)
    return None


def without_feet(frame: PoseFrame) -> PoseFrame:
    """The frame with the ankles, heels and toes hidden (visibility 0): what a baseline taken
    from a stretch where the feet were not judged may not use."""
    if frame.lm is None:
        return frame
    lm = np.array(frame.lm, dtype=np.float64, copy=True)
    lm[list(FEET), 3] = 0.0
    return replace(frame, lm=lm)


def _still(run: Sequence[Stance]) -> bool:
    torso = float(np.median([s.torso for s in run]))
    for points in ([s.hip for s in run], [s.ankle for s in run]):
        xy = np.asarray(points)
        if np.any(np.ptp(xy, axis=0) > STILL_RANGE * torso):
            return False
    return True
