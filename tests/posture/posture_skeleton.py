"""A plausible 3-D jumper, projected through a pinhole camera, as MediaPipe-style PoseFrames.

The body is built in metres in its own frame (forward, left, up; floor at up = 0) from a few
posture parameters, each of which deforms exactly one thing a coach would see: shoulders
shrugged, trunk pitched against the legs, head pitched down, arms held out, heels down at
touchdown. It is then turned to face the camera (front), at 45° (oblique) or sideways (side)
and projected to a 640×480 image, so the metrics see the same geometry a camera would, with
perspective. World landmarks follow MediaPipe's convention: metres, y down, z away from the
camera, origin between the hips.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from station.events import LANDMARK, NUM_LANDMARKS, PoseFrame

YAW_DEG = {"front": 0.0, "oblique": 45.0, "side": 90.0}
WIDTH, HEIGHT = 640, 480
FOCAL_PX = 600.0
CAMERA_DISTANCE_M = 3.5
CAMERA_HEIGHT_M = 1.0


@dataclass(frozen=True)
class Posture:
    shoulder_rise_m: float = 0.0  # shrug: shoulders up along the trunk, ears stay
    trunk_pitch_deg: float = 0.0  # + trunk pitched forward of the legs, − arched back
    head_pitch_deg: float = 0.0  # + looking down (relative to looking straight ahead)
    arm_abduction_deg: float = 12.0  # upper arms out to the side
    arm_flexion_deg: float = 10.0  # upper arms forward
    elbow_deg: float = 70.0  # forearms bent forward
    heel_lift_deg: float = 0.0  # heel above toes (feet on the ground)
    lift_m: float = 0.0  # whole body off the floor (jumping)
    step_lift_m: float = 0.0  # left foot lifted, knee up (alternate-foot / speed step)
    stagger_m: float = 0.0  # left foot this far forward, right foot this far back


STANDING = Posture()
JUMPING_OK = Posture(heel_lift_deg=22.0)


def _rot(v: NDArray[np.float64], axis: NDArray[np.float64], deg: float) -> NDArray[np.float64]:
    """Rodrigues rotation of `v` about unit `axis` by `deg`."""
    a = math.radians(deg)
    return np.asarray(
        v * math.cos(a)
        + np.cross(axis, v) * math.sin(a)
        + axis * np.dot(axis, v) * (1 - math.cos(a)),
        dtype=np.float64,
    )


def body_points(p: Posture) -> NDArray[np.float64]:
    """33×3 points in the body frame: columns forward, left, up (metres)."""
    F, L, U = np.eye(3)
    pts = np.zeros((NUM_LANDMARKS, 3))

    def put(name: str, v: NDArray[np.float64]) -> None:
        pts[LANDMARK[name]] = v

    lift = np.array([0.0, 0.0, p.lift_m])
    hips = {}
    for side, s in (("left", 1.0), ("right", -1.0)):
        toe = 0.14 * F + s * 0.10 * L + lift
        heel = toe + _rot(-0.24 * F, L, p.heel_lift_deg)  # the foot pivots about the toes
        ankle = toe + _rot(-0.19 * F + 0.08 * U, L, p.heel_lift_deg)
        hip = ankle + 0.86 * U + s * -0.01 * L  # the hips stay where the stance puts them
        # feet apart front to back (left forward), or the left knee lifted (a step)
        move = s * p.stagger_m * F
        if side == "left":
            move = move + p.step_lift_m * (U + F)  # high knee: the foot comes up and forward
        toe, heel, ankle = toe + move, heel + move, ankle + move
        knee = (ankle + hip) / 2 + 0.02 * F
        if side == "left":
            knee = knee + 0.6 * p.step_lift_m * F
        put(f"{side}_foot_index", toe)
        put(f"{side}_heel", heel)
        put(f"{side}_ankle", ankle)
        put(f"{side}_knee", knee)
        put(f"{side}_hip", hip)
        hips[side] = hip
    hip_mid = (hips["left"] + hips["right"]) / 2
    trunk_up = _rot(U, L, p.trunk_pitch_deg)  # + pitches the trunk toward forward
    trunk_fwd = np.cross(L, trunk_up)
    shoulder_base = hip_mid + 0.50 * trunk_up
    ear_mid = shoulder_base + 0.16 * trunk_up
    for side, s in (("left", 1.0), ("right", -1.0)):
        shoulder = shoulder_base + p.shoulder_rise_m * trunk_up + s * 0.19 * L
        down = -trunk_up
        upper = _rot(down, trunk_fwd, s * p.arm_abduction_deg)
        upper = _rot(upper, L, -p.arm_flexion_deg)  # negative about L swings it forward
        elbow = shoulder + 0.29 * upper
        bend_axis = np.cross(upper, trunk_fwd)
        bend_axis = bend_axis / np.linalg.norm(bend_axis)
        fore = _rot(upper, bend_axis, p.elbow_deg)
        wrist = elbow + 0.26 * fore
        put(f"{side}_shoulder", shoulder)
        put(f"{side}_elbow", elbow)
        put(f"{side}_wrist", wrist)
        put(f"{side}_pinky", wrist + 0.07 * fore - s * 0.02 * L)
        put(f"{side}_index", wrist + 0.08 * fore)
        put(f"{side}_thumb", wrist + 0.05 * fore + s * 0.02 * L)
    # the head: pitched about the ear axis; neutral = looking straight ahead (world level)
    head_f = _rot(F, L, p.head_pitch_deg)
    head_u = np.cross(head_f, L)
    head_u = -head_u if head_u[2] < 0 else head_u

    def head(f: float, left: float, up: float) -> NDArray[np.float64]:
        return np.asarray(ear_mid + f * head_f + left * L + up * head_u, dtype=np.float64)

    put("nose", head(0.11, 0.0, -0.03))
    put("left_ear", head(0.0, 0.075, 0.0))
    put("right_ear", head(0.0, -0.075, 0.0))
    for side, s in (("left", 1.0), ("right", -1.0)):
        put(f"{side}_eye_inner", head(0.085, s * 0.015, 0.01))
        put(f"{side}_eye", head(0.08, s * 0.032, 0.01))
        put(f"{side}_eye_outer", head(0.07, s * 0.048, 0.01))
        put(f"mouth_{side}", head(0.09, s * 0.025, -0.065))
    return pts


def to_frame(
    p: Posture,
    placement: str,
    t: float,
    *,
    rng: np.random.Generator | None = None,
    noise_px: float = 0.0,
    visibility: float = 0.95,
    facing: float = 1.0,
) -> PoseFrame:
    """Project a posture for a camera `placement` into a PoseFrame at time `t`.

    `facing` -1 mirrors the member (side view facing image-left instead of image-right)."""
    yaw = math.radians(YAW_DEG[placement]) * facing
    fwd = np.array([math.sin(yaw), 0.0, -math.cos(yaw)])  # camera axes: x right, y down, z away
    up = np.array([0.0, -1.0, 0.0])
    left = np.cross(up, fwd)
    body = body_points(p)
    cam = body[:, :1] * fwd + body[:, 1:2] * left + body[:, 2:3] * up
    cam = cam + np.array([0.0, CAMERA_HEIGHT_M, CAMERA_DISTANCE_M])
    x = WIDTH / 2 + FOCAL_PX * cam[:, 0] / cam[:, 2]
    y = HEIGHT / 2 + FOCAL_PX * cam[:, 1] / cam[:, 2]
    if rng is not None and noise_px > 0:
        x = x + rng.normal(0, noise_px, x.shape)
        y = y + rng.normal(0, noise_px, y.shape)
    hip_mid = (cam[LANDMARK["left_hip"]] + cam[LANDMARK["right_hip"]]) / 2
    world = cam - hip_mid
    if rng is not None and noise_px > 0:
        world = world + rng.normal(0, noise_px * CAMERA_DISTANCE_M / FOCAL_PX, world.shape)
    lm = np.column_stack(
        [x / WIDTH, y / HEIGHT, world[:, 2] / 2.0, np.full(NUM_LANDMARKS, visibility)]
    )
    return PoseFrame(t=t, lm=lm, world=world, width=WIDTH, height=HEIGHT)


def jumping(base: Posture, t: float, rate_hz: float = 2.5) -> Posture:
    """`base` mid-jump at time `t`: off the floor for ~half of each cycle, heels as in `base`
    while the feet are down and pointed (heel well up) in the air."""
    phase = (t * rate_hz) % 1.0
    if phase < 0.55:
        return replace(base, lift_m=0.0)
    height = 0.08 * math.sin(math.pi * (phase - 0.55) / 0.45)
    return replace(base, lift_m=height, heel_lift_deg=35.0)


def session(
    placement: str,
    segments: list[tuple[float, Posture, bool]],
    *,
    fps: float = 10.0,
    seed: int = 0,
    noise_px: float = 1.0,
    facing: float = 1.0,
) -> list[PoseFrame]:
    """Frames for consecutive segments of (duration_s, posture, jumping?)."""
    rng = np.random.default_rng(seed)
    frames = []
    t0 = 0.0
    for duration, posture, jumps in segments:
        n = round(duration * fps)
        for i in range(n):
            t = t0 + i / fps
            pose = jumping(posture, t) if jumps else posture
            frames.append(to_frame(pose, placement, t, rng=rng, noise_px=noise_px, facing=facing))
        t0 += n / fps
    return frames
