"""The posture metrics: one named quantity per fault, computed from one frame's landmarks.

Each metric has a *raw* quantity measured in every frame (e.g. the ear height above the shoulder
line in torso lengths) and a *judged value* that compares the raw quantity with the member's own
baseline (captured while standing tall) and is what the thresholds apply to. The baseline is
clamped into a plausible range, so a member who "stands tall" already hunched or looking down
is still judged against a sensible reference (the absolute limit). See docs/posture.md for the
reasoning, the limits and how each one was checked.

Conventions: image y points down; world coordinates are MediaPipe's (metres, y down, origin
between the hips, camera-aligned axes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from station.posture.body import Body, NotVisible, Vec, norm, point_line_distance, unit

PLACEMENTS: tuple[str, ...] = ("front", "oblique", "side")

ROUNDING_ALLOWANCE = 0.15
"""How far (torso lengths) the ears may sit in front of the shoulders before it counts as the
shoulders rounding forward. Standing or jumping upright the ears sit 0.03–0.14 torso lengths in
front of MediaPipe's shoulder joints on the labelled clips (world landmarks, every placement;
the ear lobe over the acromion in the textbook plumb line, the joint centre a little behind
it); rounded over the rope they sit 0.15–0.24 in front. Set just past the upright readings
(0.10 would cut into upright members and scored worse out of sample, 78 % against 95 %)."""

HEAD_LOOKING_AHEAD_MAX_DEG = 20.0
"""The highest ear→nose pitch still counted as looking ahead. The tragus→nose-tip line of an
adult head held with the Frankfort plane level points roughly 15° down (nose tip about 3 cm
below and 11 cm in front of the tragus); the looking-ahead seconds of the labelled real clips
read −17° to 15° (front); 5° more allows for the window median's landmark noise. The head light
is judged against this as well as against the baseline, so with the intermediate fault level
any pitch beyond 45° lights it whatever the baseline."""

HEAD_DEPTH_OVER_WIDTH = 0.8
"""Horizontal distance from the ear line to the nose tip, over the ear-to-ear width, for an
average adult head (about 12 cm over 15 cm). Only used by the front-camera head pitch; an error
in it scales the measured pitch change but does not shift it (the baseline absorbs offsets)."""


LIFTED_FOOT = 0.1
"""One foot's toes this many leg lengths above the other's: that foot is lifted (a step)."""
SPLIT_STANCE = 0.15
"""Both feet down this many leg lengths apart front to back: a walking step, not a stance."""


class NotMeasurable(Exception):
    """This metric cannot be measured from this camera placement."""


@dataclass(frozen=True)
class Metric:
    """How one fault is measured. `value(raw, baseline)` is what the thresholds apply to."""

    fault: str
    name: str
    unit: str
    raw_name: str
    raw_unit: str
    placements: tuple[str, ...]
    higher_is_worse: bool
    default_baseline: float | None
    baseline_range: tuple[float, float] | None
    measure: Callable[[Body, str], float]
    compare: Callable[[float, float], float]
    absolute_reference: float | None = None
    """When set, the judged value is also taken against this fixed reference and the worse of
    the two counts: a baseline can forgive a member's habit only up to the population's
    limit (a child who looks at the floor from the first second is still looking down)."""

    def raw(self, body: Body, placement: str) -> float:
        if placement not in self.placements:
            raise NotMeasurable(f"not measurable from a {placement} camera")
        value = self.measure(body, placement)
        if not math.isfinite(value):
            raise NotVisible("non-finite result")
        return value

    def clamp_baseline(self, baseline: float | None) -> float | None:
        if self.baseline_range is None:
            return None
        if baseline is None:
            return self.default_baseline
        lo, hi = self.baseline_range
        return min(max(baseline, lo), hi)

    def value(self, raw: float, baseline: float | None) -> float:
        judged = self.compare(raw, baseline if baseline is not None else math.nan)
        if self.absolute_reference is None:
            return judged
        absolute = self.compare(raw, self.absolute_reference)
        return max(judged, absolute) if self.higher_is_worse else min(judged, absolute)


# --- shared geometry --------------------------------------------------------------------------


def _trunk_px(body: Body) -> tuple[Vec, Vec, float]:
    """Hip midpoint, unit vector hip→shoulder ("up the trunk") and torso length, in pixels."""
    hip = body.mid("hip")
    shoulder = body.mid("shoulder")
    length = norm(shoulder - hip)
    return hip, unit(shoulder - hip), length


def _deg(rad: float) -> float:
    return math.degrees(rad)


def _below_horizontal_px(d: Vec) -> float:
    """How far an image vector points below horizontal, degrees (y points down), whichever way
    it points sideways."""
    return _deg(math.atan2(float(d[1]), abs(float(d[0]))))


def _below_horizontal_world(d: Vec) -> float:
    """How far a world vector points below the horizontal plane, degrees (y points down)."""
    return _deg(math.atan2(float(d[1]), math.hypot(float(d[0]), float(d[2]))))


# --- shoulders: ear height above the shoulder line -------------------------------------------


def neck_ratio(body: Body, placement: str) -> float:
    """Height of the ears above the shoulders, measured along the trunk axis, in torso lengths,
    less how far the ears sit in front of the shoulders beyond `ROUNDING_ALLOWANCE`.

    Shrugging the shoulders up toward the ears shortens the height; rounding them forward (the
    hunch over the rope) brings the ears forward of them and, from the front, shows only in
    depth. Measuring along the trunk (not the image vertical) keeps it unchanged when the whole
    trunk leans; dividing by the torso length keeps it unchanged with distance from the camera.
    Without world landmarks the forward part is left out."""
    _, up, torso = _trunk_px(body)
    ear = body.mid("ear")
    shoulder = body.mid("shoulder")
    height = float(np.dot(ear - shoulder, up)) / torso
    try:
        forward = ear_forward_of_shoulders(body)
    except NotVisible:
        return height
    return height - max(0.0, forward - ROUNDING_ALLOWANCE)


def ear_forward_of_shoulders(body: Body) -> float:
    """How far the ears sit in front of the shoulders, across the trunk axis, in torso lengths,
    from MediaPipe's world landmarks (depth: from the front this is toward the camera).

    "Forward" is the body's own: normal to the shoulder line and the trunk axis, on the side
    the nose points to."""
    hip, shoulder = body.world_mid("hip"), body.world_mid("shoulder")
    up = unit(shoulder - hip)
    across = unit(body.world_point("left_shoulder") - body.world_point("right_shoulder"))
    forward = unit(np.cross(across, up))
    if float(np.dot(body.world_point("nose") - body.world_mid("ear"), forward)) < 0.0:
        forward = -forward
    return float(np.dot(body.world_mid("ear") - shoulder, forward)) / norm(shoulder - hip)


def shoulder_rise_pct(raw: float, baseline: float) -> float:
    return 100.0 * (1.0 - raw / baseline)


# --- back: trunk against legs ----------------------------------------------------------------


def body_line_bend_deg(body: Body, placement: str) -> float:
    """Signed angle between the trunk (hip→shoulder) and the legs (ankle→hip), degrees.

    Positive: the trunk pitches forward of the leg line (piked, bottom sticking out);
    negative: behind it (hips pushed forward, lower back arched). Zero: one straight line.
    The leg line runs from the standing ankle (see _stance_ankle) to the hip midpoint.
    Side camera: in the image. Front and oblique cameras: in MediaPipe's world coordinates, the
    bend projected onto the body's sagittal plane (sideways bending is not this fault)."""
    if placement == "side":
        hip, up, _ = _trunk_px(body)
        legs = unit(hip - _stance_ankle(body.point, body.mid, hip, lambda d: abs(float(d[0]))))
        cross = legs[0] * up[1] - legs[1] * up[0]
        angle = _deg(math.atan2(cross, float(np.dot(legs, up))))
        return angle * _facing_sign(body)
    hip_w = body.world_mid("hip")
    across = unit(body.world_point("left_hip") - body.world_point("right_hip"))
    trunk = _sagittal(body.world_mid("shoulder") - hip_w, across)

    def fore_aft(d: Vec) -> float:
        along = d - np.dot(d, across) * across
        return math.hypot(float(along[0]), float(along[2]))

    ankle = _stance_ankle(body.world_point, body.world_mid, hip_w, fore_aft)
    legs = _sagittal(hip_w - ankle, across)
    sine = float(np.dot(np.cross(legs, trunk), across))
    return _deg(math.atan2(sine, float(np.dot(legs, trunk))))


def _stance_ankle(
    point: Callable[[str], Vec],
    mid: Callable[[str], Vec],
    hip: Vec,
    fore_aft: Callable[[Vec], float],
) -> Vec:
    """The ankle of the leg the member stands on: the midpoint when both feet are level, the
    lower ankle when one foot is lifted (alternate-foot and speed steps lift one knee high,
    which would otherwise swing the leg line forward and read as a bent back).

    With both feet down but one well in front of the other (a walking step, a split stance)
    there is no single leg line, so the bend is not measured. y points down in the image and
    in world coordinates; `fore_aft` gives a vector's front-to-back horizontal length."""
    try:
        left, right = point("left_ankle"), point("right_ankle")
    except NotVisible:
        return mid("ankle")
    leg = norm(hip - (left + right) / 2.0)
    # A foot is lifted when its toes are off the floor, not just its heel (a rear foot on its
    # toes in a split stance has a raised ankle too).
    try:
        low_left, low_right = point("left_foot_index")[1], point("right_foot_index")[1]
    except NotVisible:
        low_left, low_right = left[1], right[1]
    if abs(float(low_left - low_right)) > LIFTED_FOOT * leg:
        return left if low_left > low_right else right
    if fore_aft(left - right) > SPLIT_STANCE * leg:
        raise NotMeasurable("feet apart front to back (a step, not a stance)")
    return np.asarray((left + right) / 2.0, dtype=np.float64)


def _sagittal(v: Vec, across: Vec) -> Vec:
    return unit(v - np.dot(v, across) * across)


def _facing_sign(body: Body) -> float:
    """+1 when the member faces image-right, else -1: from the way the feet point (heel to
    toes), which does not change when the head drops; from nose versus ears without feet."""
    pointing = 0.0
    for side in ("left", "right"):
        try:
            pointing += float(body.point(f"{side}_foot_index")[0] - body.point(f"{side}_heel")[0])
        except NotVisible:
            continue
    if pointing == 0.0:
        pointing = float(body.point("nose")[0] - body.mid("ear")[0])
    return 1.0 if pointing >= 0.0 else -1.0


def bend_change_deg(raw: float, baseline: float) -> float:
    return abs(raw - baseline)


# --- arms: hands away from the body ----------------------------------------------------------


def hand_reach(body: Body, placement: str) -> float:
    """The farther wrist's distance from the trunk axis (the line through the hip and shoulder
    midpoints), in torso lengths. In world coordinates when available, so a hand held out
    toward a front camera counts as much as one held out sideways; in the image otherwise."""
    if body.world is not None:
        try:
            return _reach(body.world_point, body.world_mid("hip"), body.world_mid("shoulder"))
        except NotVisible:
            pass
    return _reach(body.point, body.mid("hip"), body.mid("shoulder"))


def _reach(point: Callable[[str], Vec], hip: Vec, shoulder: Vec) -> float:
    torso = norm(shoulder - hip)
    reaches = []
    for side in ("left_wrist", "right_wrist"):
        try:
            reaches.append(point_line_distance(point(side), hip, shoulder) / torso)
        except NotVisible:
            continue
    if not reaches:
        raise NotVisible("left_wrist/right_wrist")
    return max(reaches)


def absolute(raw: float, baseline: float) -> float:
    return raw


# --- head: looking down ----------------------------------------------------------------------


def head_pitch_deg(body: Body, placement: str) -> float:
    """How far the ear→nose direction points below horizontal, degrees (down positive).

    Side camera: measured directly in the image. Front camera: from how far the nose drops
    below the ear line relative to the ear-to-ear width, asin(drop / (0.8 × width)).
    Oblique camera: in MediaPipe's world coordinates."""
    if placement == "side":
        d = body.point("nose") - body.mid("ear")
        return _below_horizontal_px(d)
    if placement == "front":
        left, right = body.point("left_ear"), body.point("right_ear")
        width = norm(left - right)
        if not width > 1e-6:
            raise NotVisible("ears on top of each other")
        drop = float(body.point("nose")[1] - (left[1] + right[1]) / 2.0)
        return _deg(math.asin(max(-1.0, min(1.0, drop / (HEAD_DEPTH_OVER_WIDTH * width)))))
    d = body.world_point("nose") - body.world_mid("ear")
    return _below_horizontal_world(d)


def pitch_change_deg(raw: float, baseline: float) -> float:
    return raw - baseline


# --- landing (camera part): heel lift at touchdown -------------------------------------------

FEET: tuple[str, ...] = ("left", "right")


def foot_lift_deg(body: Body, placement: str, side: str) -> float:
    """Angle of the heel above the toes (heel→foot_index line against horizontal), degrees.

    Positive: heel raised (on the balls of the feet); zero or negative: flat or heel first.
    Side camera: in the image; oblique: in world coordinates. From the front the foot points
    at the camera and the angle cannot be seen."""
    if placement == "side":
        d = body.point(f"{side}_foot_index") - body.point(f"{side}_heel")
        return _below_horizontal_px(d)
    if placement == "oblique":
        d = body.world_point(f"{side}_foot_index") - body.world_point(f"{side}_heel")
        return _below_horizontal_world(d)
    raise NotMeasurable(f"not measurable from a {placement} camera")


def standing_foot_lift_deg(body: Body, placement: str) -> float:
    """Both feet's heel lift averaged (one foot if only one is visible); used for the baseline."""
    lifts = []
    for side in FEET:
        try:
            lifts.append(foot_lift_deg(body, placement, side))
        except NotVisible:
            continue
    if not lifts:
        raise NotVisible("left/right heel and foot_index")
    return float(np.mean(lifts))


def foot_low_point(body: Body, side: str) -> tuple[float, float]:
    """(lowest image y of heel and toes, leg length hip→ankle) in pixels, for contact finding."""
    heel, toe = body.point(f"{side}_heel"), body.point(f"{side}_foot_index")
    leg = norm(body.point(f"{side}_hip") - body.point(f"{side}_ankle"))
    return max(float(heel[1]), float(toe[1])), leg


def lift_change_deg(raw: float, baseline: float) -> float:
    return raw - baseline


class _Metrics(Mapping[str, Metric]):
    """fault -> its camera metric, read from the fault registry (station.faults) each time."""

    def __getitem__(self, fault: str) -> Metric:
        from station.faults.registry import spec

        return spec(fault).metric

    def __iter__(self) -> Iterator[str]:
        from station.faults.registry import names

        return iter(names())

    def __len__(self) -> int:
        from station.faults.registry import names

        return len(names())


METRICS: Mapping[str, Metric] = _Metrics()
"""fault -> its metric (each fault's spec holds it: station/faults/<name>.py). For a fault
sampled at touchdown (the landing), `measure` is the standing baseline quantity; the judged
samples are taken only at touchdowns (see station.posture.judge.TouchdownFinder)."""
