"""The simulated jumper's skeleton: 33 MediaPipe-layout landmarks from the physical model.

Built in a *body frame* (metres; X = the member's left, Y = up, Z = the way they face; origin on
the floor between the feet), with segment lengths as fractions of standing height from
anthropometric tables (Drillis & Contini). The pelvis follows the model's centre of mass, the
knees bend by inverse kinematics between the hip and a foot planted on the mat, the wrists turn
the rope, and each fault is a physical deformation of a documented size (see FAULT_* below and
docs/simulator.md). Then the body is turned for the camera placement and projected through a
pinhole camera: `world` is MediaPipe's world frame (metres, origin between the hips, x to the
image's right, y down, z away from the camera), `lm` the normalised image landmarks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from station.events import LANDMARK, NUM_LANDMARKS
from station.faults.registry import specs as fault_specs
from station.sim.model import STEP_WALK, Contact, JumperModel

FloatArray = NDArray[np.float64]

# ---- fault magnitudes (documented in docs/simulator.md) -------------------------------------
FAULT_SHOULDER_RAISE_M = 0.05  # shoulders (and the arms hanging from them) lifted toward the ears
FAULT_SHOULDER_FORWARD_M = 0.015  # ... and rolled slightly forward
FAULT_BACK_EXTENSION_DEG = 15.0  # trunk tipped back about the hips (lumbar arch)
FAULT_BACK_PELVIS_FORWARD_M = 0.04  # hips pushed forward of the knees/feet (sway-back)
FAULT_ARMS_ABDUCTION_DEG = 50.0  # upper arm lifted away from the side (neutral 8)
FAULT_ARMS_ELBOW_DEG = 20.0  # elbow nearly straight (neutral: forearm bent ~65 deg off the arm)
FAULT_ARMS_CIRCLE_M = 0.09  # big arm circles instead of wrist turns (neutral 0.04)
FAULT_HEAD_PITCH_DEG = 35.0  # neck flexed: looking at the floor ~2 m ahead
HEEL_TOUCHDOWN_DEG = -10.0  # heel landing: toes up, heel strikes first
SOFT_TOUCHDOWN_DEG = 32.0  # soft landing: on the balls of the feet, heel raised
FAULT_RAMP_S = 0.3  # deformations ease in and out over this long
WALK_OFFSET_M = 2.6  # where the member walks in from / out to (to the image's right)

NEUTRAL_ABDUCTION_DEG = 8.0
NEUTRAL_FLEXION_DEG = 5.0
NEUTRAL_CIRCLE_M = 0.04
PLACEMENT_YAW_DEG = {"front": 0.0, "oblique": 45.0, "side": 90.0}

L = LANDMARK
HEAD_POINTS = [L[n] for n in (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right",
)]  # fmt: skip
UPPER_BODY = HEAD_POINTS + list(range(L["left_shoulder"], L["right_thumb"] + 1))


@dataclass(frozen=True)
class Proportions:
    """Segment lengths (m) for a member of height `h`."""

    h: float

    @property
    def thigh(self) -> float:
        return 0.245 * self.h

    @property
    def shank(self) -> float:
        return 0.246 * self.h

    @property
    def foot(self) -> float:
        return 0.152 * self.h

    @property
    def ankle_height(self) -> float:
        return 0.039 * self.h

    @property
    def upper_arm(self) -> float:
        return 0.186 * self.h

    @property
    def forearm(self) -> float:
        return 0.146 * self.h

    @property
    def hip_height(self) -> float:
        """Standing, with the knees very slightly soft."""
        return self.ankle_height + 0.997 * (self.thigh + self.shank)


def _ss(u: float) -> float:
    """smoothstep for one number (the array version is station.sim.model.smoothstep)."""
    u = min(max(u, 0.0), 1.0)
    return u * u * (3.0 - 2.0 * u)


def _rot_x(deg: float) -> FloatArray:
    """Rotation about the body's X (lateral) axis; positive tips +Y toward +Z (forward)."""
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=np.float64)


def _rot_y(deg: float) -> FloatArray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=np.float64)


def _head_and_trunk(p: Proportions) -> dict[str, FloatArray]:
    h = p.h
    pts = {
        "nose": (0.0, 0.915, 0.058),
        "left_eye_inner": (0.010, 0.935, 0.050),
        "left_eye": (0.018, 0.936, 0.048),
        "left_eye_outer": (0.026, 0.935, 0.043),
        "left_ear": (0.044, 0.912, -0.004),
        "mouth_left": (0.014, 0.893, 0.050),
        "left_shoulder": (0.115, 0.818, -0.006),
        "left_hip": (0.065, p.hip_height / h, 0.0),
    }
    out: dict[str, FloatArray] = {}
    for name, (x, y, z) in pts.items():
        out[name] = np.array([x * h, y * h, z * h])
        out[name.replace("left", "right")] = np.array([-x * h, y * h, z * h])
    out["nose"] = np.array([0.0, 0.915 * h, 0.058 * h])
    return out


class Skeleton:
    """Poses a member of the script's height at any instant of the model."""

    def __init__(self, model: JumperModel) -> None:
        self.model = model
        self.p = Proportions(model.script.height_m)
        self.rest = _head_and_trunk(self.p)
        h = self.p.h
        self.neck_pivot = np.array([0.0, 0.87 * h, -0.01 * h])
        self.foot_x = 0.06 * h
        self.leg_max = (self.p.thigh + self.p.shank) * 0.9995
        self.lift_on_toes = self._ankle_rise(SOFT_TOUCHDOWN_DEG)
        # The five built-in faults are deformations modelled below; any other registered fault
        # brings its own (station.faults.FaultSpec.simulate), applied to the finished pose.
        self.extra_faults = [s for s in fault_specs() if s.simulate is not None]

    # ---- the parts ----------------------------------------------------------------------------

    def fault_weights(self, t: float) -> dict[str, float]:
        out: dict[str, float] = {}
        for e in self.model.truth.faults:
            rise = _ss((t - e.start_s) / FAULT_RAMP_S)
            fall = 1.0 - _ss((t - e.end_s) / FAULT_RAMP_S)
            w = float(min(rise, fall))
            out[e.name] = max(out.get(e.name, 0.0), w)
        return out

    def _foot_points(self, pitch_deg: float) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(heel, ankle, toe) in the sagittal plane (y up, z forward) with the foot on the floor,
        pitched `pitch_deg` (positive: heel raised, pivoting on the toes; negative: toes raised,
        pivoting on the heel)."""
        f = self.p.foot
        heel = np.array([0.012 * self.p.h, -0.17 * f])
        ankle = np.array([self.p.ankle_height, 0.0])
        toe = np.array([0.006 * self.p.h, 0.62 * f])
        pivot = toe if pitch_deg >= 0 else heel
        a = math.radians(pitch_deg)
        c, s = math.cos(a), math.sin(a)

        def turn(q: FloatArray) -> FloatArray:
            dy, dz = q - pivot
            return pivot + np.array([dy * c - dz * s, dz * c + dy * s])

        return turn(heel), turn(ankle), turn(toe)

    def _ankle_rise(self, pitch_deg: float) -> float:
        return float(self._foot_points(pitch_deg)[1][0] - self.p.ankle_height)

    def _contact_pitch(self, c: Contact, t: float) -> float:
        tr = t - c.t0
        u = min(max(tr / c.tc, 0.0), 1.0)
        bounce = SOFT_TOUCHDOWN_DEG * (1.0 - 0.9 * math.sin(math.pi * u))
        if c.landing == "push":
            return SOFT_TOUCHDOWN_DEG * _ss(u)
        if c.landing == "heel":
            slap = _ss(tr / 0.05)
            pitch = HEEL_TOUCHDOWN_DEG * (1 - slap) + bounce * slap
        else:
            pitch = bounce
        if c.exit > 0:  # settling into standing: the heels come down
            pitch *= 1.0 - _ss((u - 0.3) / 0.7)
        return pitch

    def _touchdown_pitch(self, c: Contact | None) -> float:
        if c is None:
            return SOFT_TOUCHDOWN_DEG
        return HEEL_TOUCHDOWN_DEG if c.landing == "heel" else SOFT_TOUCHDOWN_DEG

    def _lift(self, t: float) -> float:
        """How far the pelvis rides above flat standing because the member is on their toes."""
        c = self.model.contact_at(t)
        if c is not None:
            u = _ss((t - c.t0) / c.tc)
            if c.landing == "push":
                return self.lift_on_toes * u
            if c.exit > 0:
                return self.lift_on_toes * (1.0 - u)
            return self.lift_on_toes
        f = self.model.flight_at(t)
        if f is not None and t < f.t1:
            return self.lift_on_toes
        return 0.0

    def _feet(self, t: float, hip_y: float) -> dict[str, tuple[FloatArray, FloatArray, FloatArray]]:
        """Heel, ankle and toe of each foot (body frame)."""
        m = self.model
        c = m.contact_at(t)
        f = m.flight_at(t)
        out = {}
        for side, sign in (("left", 1.0), ("right", -1.0)):
            lift = 0.0
            if c is not None:
                on_ground = c.entry > 0 or c.exit > 0 or any(ft == side for ft, _, _ in c.feet)
                if on_ground:
                    pitch = self._contact_pitch(c, t)
                else:  # alternate-foot: the free foot swings up between its contacts
                    pitch = SOFT_TOUCHDOWN_DEG + 10.0
                    lift = 0.08 * math.sin(math.pi * min(max((t - c.t0) / c.tc, 0.0), 1.0))
            elif f is not None and t < f.t1:
                on_ground = False
                u = (t - f.t0) / (f.t1 - f.t0)
                nxt = m.next_contact(t)
                target = self._touchdown_pitch(nxt)
                pitch = SOFT_TOUCHDOWN_DEG + (target - SOFT_TOUCHDOWN_DEG) * float(_ss(u))
                pitch += 8.0 * math.sin(math.pi * u)
            else:
                on_ground, pitch = True, 0.0
            heel, ankle, toe = self._foot_points(pitch)
            rise = 0.0
            if not on_ground:
                # In the air the foot hangs from a straight leg: it rides with the pelvis.
                rise = hip_y - self.p.hip_height - self.lift_on_toes + lift
                if c is not None:
                    rise = lift
            x = sign * self.foot_x
            pts = []
            for q in (heel, ankle, toe):
                pts.append(np.array([x, q[0] + rise, q[1]]))
            out[side] = (pts[0], pts[1], pts[2])
        return out

    def _knee(self, hip: FloatArray, ankle: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Knee by two-link inverse kinematics, bending forward; returns (knee, ankle)
        (the ankle is pulled up if the leg cannot reach it)."""
        d_vec = ankle - hip
        d = float(np.linalg.norm(d_vec))
        if d > self.leg_max:
            ankle = hip + d_vec * (self.leg_max / d)
            d_vec, d = ankle - hip, self.leg_max
        u = d_vec / d
        l1, l2 = self.p.thigh, self.p.shank
        cos_a = (l1 * l1 + d * d - l2 * l2) / (2 * l1 * d)
        a = math.acos(min(max(cos_a, -1.0), 1.0))
        fwd = np.array([0.0, 0.0, 1.0])
        perp = fwd - u * float(fwd @ u)
        perp /= float(np.linalg.norm(perp))
        return hip + l1 * (math.cos(a) * u + math.sin(a) * perp), ankle

    def _arm(
        self, shoulder: FloatArray, sign: float, arms_w: float, rope_angle: float | None
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """Elbow, wrist, pinky, index, thumb for one arm holding a rope handle."""
        abd = math.radians(
            NEUTRAL_ABDUCTION_DEG + (FAULT_ARMS_ABDUCTION_DEG - NEUTRAL_ABDUCTION_DEG) * arms_w
        )
        flex = math.radians(NEUTRAL_FLEXION_DEG + 15.0 * arms_w)
        upper = np.array(
            [sign * math.sin(abd), -math.cos(abd) * math.cos(flex), math.cos(abd) * math.sin(flex)]
        )
        upper /= np.linalg.norm(upper)
        elbow = shoulder + self.p.upper_arm * upper
        # Neutral forearm: forward, out and down to a handle beside the hip. Extended: it
        # carries on nearly in line with the upper arm.
        bent = np.array([sign * 0.35, -0.70, 0.35])
        bent /= np.linalg.norm(bent)
        straight = _turn_toward(upper, bent, FAULT_ARMS_ELBOW_DEG)
        fore = bent * (1 - arms_w) + straight * arms_w
        fore /= np.linalg.norm(fore)
        if rope_angle is not None:
            # The hand circles about where it would rest; the elbow swings a little with it and
            # the forearm swivels to reach, so no segment changes length.
            r = NEUTRAL_CIRCLE_M + (FAULT_ARMS_CIRCLE_M - NEUTRAL_CIRCLE_M) * arms_w
            circle = r * np.array([0.0, math.sin(rope_angle), -math.cos(rope_angle)])
            hand = elbow + self.p.forearm * fore + circle
            elbow = shoulder + self.p.upper_arm * _unit(upper * self.p.upper_arm + 0.35 * circle)
            fore = _unit(hand - elbow)
        wrist = elbow + self.p.forearm * fore
        side = np.array([sign, 0.0, 0.0])
        index = wrist + 0.085 * fore + 0.01 * side
        pinky = wrist + 0.07 * fore + 0.025 * side
        thumb = wrist + 0.045 * fore - 0.02 * side + np.array([0.0, 0.015, 0.0])
        return elbow, wrist, pinky, index, thumb

    # ---- the whole body ------------------------------------------------------------------------

    def body_points(self, t: float) -> tuple[FloatArray, float] | None:
        """33×3 landmarks in the body frame at `t` and the sideways walk offset (m), or None
        when nobody is there."""
        m = self.model
        walk = self._walk_offset(t)
        if walk is None:
            return None
        w = self.fault_weights(t)
        hip_y = self.p.hip_height + m.com_height(t) + self._lift(t)
        pts = np.zeros((NUM_LANDMARKS, 3))
        for name, q in self.rest.items():
            pts[L[name]] = q
        # The pelvis carries the upper body: trunk, head and arms move with the CoM.
        pts[:, 1] += hip_y - self.p.hip_height
        hip_c = 0.5 * (pts[L["left_hip"]] + pts[L["right_hip"]])

        # Shoulders hunched: shoulder girdle (and arms) up toward the ears.
        ws = w.get("shoulders", 0.0)
        for s in ("left_shoulder", "right_shoulder"):
            pts[L[s]] += ws * np.array([0.0, FAULT_SHOULDER_RAISE_M, FAULT_SHOULDER_FORWARD_M])

        # Head looking down: the head turns about the neck.
        wh = w.get("head", 0.0)
        if wh > 0:
            pivot = self.neck_pivot + np.array([0.0, hip_y - self.p.hip_height, 0.0])
            r = _rot_x(FAULT_HEAD_PITCH_DEG * wh)
            pts[HEAD_POINTS] = (pts[HEAD_POINTS] - pivot) @ r.T + pivot

        # Arms: the rope turns once per jump cycle (twice for double-unders).
        f = m.flight_at(t)
        rope = None
        if f is not None:
            rope = 2 * math.pi * f.turns * (t - f.t0) / max(f.cycle_end - f.t0, 1e-3)
        wa = w.get("arms", 0.0)
        for side, sign in (("left", 1.0), ("right", -1.0)):
            parts = self._arm(pts[L[f"{side}_shoulder"]], sign, wa, rope)
            for name, q in zip(("elbow", "wrist", "pinky", "index", "thumb"), parts, strict=True):
                pts[L[f"{side}_{name}"]] = q

        # Arched back: trunk tipped back about the hips, hips pushed forward.
        wb = w.get("back", 0.0)
        if wb > 0:
            r = _rot_x(-FAULT_BACK_EXTENSION_DEG * wb)
            pts[UPPER_BODY] = (pts[UPPER_BODY] - hip_c) @ r.T + hip_c
            # ... while the member keeps looking ahead: the neck undoes the tilt for the head.
            neck = self.neck_pivot + np.array([0.0, hip_y - self.p.hip_height, 0.0])
            pivot = (neck - hip_c) @ r.T + hip_c
            pts[HEAD_POINTS] = (pts[HEAD_POINTS] - pivot) @ r + pivot
            shift = np.array([0.0, 0.0, FAULT_BACK_PELVIS_FORWARD_M * wb])
            pts[UPPER_BODY] += shift
            pts[L["left_hip"]] += shift
            pts[L["right_hip"]] += shift

        # Legs: feet on the mat (or in the air), knees by inverse kinematics.
        for side, (heel, ankle, toe) in self._feet(t, hip_y).items():
            knee, ankle2 = self._knee(pts[L[f"{side}_hip"]], ankle)
            lift = ankle2 - ankle
            pts[L[f"{side}_knee"]] = knee
            pts[L[f"{side}_ankle"]] = ankle2
            pts[L[f"{side}_heel"]] = heel + lift
            pts[L[f"{side}_foot_index"]] = toe + lift

        for spec in self.extra_faults:
            weight = w.get(spec.name, 0.0)
            if weight > 0 and spec.simulate is not None:
                spec.simulate(pts, weight)
        return pts, walk

    def _walk_offset(self, t: float) -> float | None:
        """Sideways offset while walking onto / off the mat; None before arriving/after leaving."""
        p = self.model.phase_at(t)
        if p is None or not any(a <= t < b for a, b in self.model.truth.in_view):
            return None
        u = (t - p.start_s) / p.duration_s
        if p.kind == "step_on":
            return WALK_OFFSET_M * (1.0 - _ss(u / STEP_WALK))
        if p.kind == "step_off":
            return WALK_OFFSET_M * _ss((u - (1 - STEP_WALK)) / STEP_WALK)
        return 0.0


def _unit(v: FloatArray) -> FloatArray:
    out: FloatArray = v / float(np.linalg.norm(v))
    return out


def _turn_toward(a: FloatArray, b: FloatArray, deg: float) -> FloatArray:
    """`a` turned by `deg` toward `b` (unit vectors)."""
    perp = b - a * float(a @ b)
    n = float(np.linalg.norm(perp))
    if n < 1e-9:
        return a
    perp /= n
    r = math.radians(deg)
    out: FloatArray = math.cos(r) * a + math.sin(r) * perp
    return out


@dataclass(frozen=True)
class Camera:
    """A pinhole camera in front of the member, looking horizontally at them."""

    width: int
    height: int
    placement: str
    distance_m: float = 2.8
    height_m: float = 1.0
    hfov_deg: float = 66.0

    @classmethod
    def from_config(
        cls, camera: Mapping[str, object], script_camera: Mapping[str, float]
    ) -> Camera:
        return cls(
            width=int(camera["width"]),  # type: ignore[call-overload]
            height=int(camera["height"]),  # type: ignore[call-overload]
            placement=str(camera["placement"]),
            distance_m=float(script_camera["distance_m"]),
            height_m=float(script_camera["height_m"]),
            hfov_deg=float(script_camera["hfov_deg"]),
        )

    @property
    def focal_px(self) -> float:
        return (self.width / 2) / math.tan(math.radians(self.hfov_deg) / 2)

    def scene(self, body: FloatArray) -> FloatArray:
        """Body frame → scene frame (x to the image's right, y up, z toward the camera).
        Front: the member faces the camera (their left on the image's right); side: they face
        the image's right."""
        out: FloatArray = body @ _rot_y(PLACEMENT_YAW_DEG[self.placement]).T
        return out

    def observe(self, body: FloatArray, walk_m: float = 0.0) -> tuple[FloatArray, FloatArray, bool]:
        """(lm 33×4, world 33×3, in_view) for body-frame points; `walk_m` moves the member
        sideways across the image (walking onto or off the mat)."""
        s = self.scene(body)
        s[:, 0] += walk_m
        hip_c = 0.5 * (s[L["left_hip"]] + s[L["right_hip"]])
        world = np.stack([s[:, 0] - hip_c[0], -(s[:, 1] - hip_c[1]), -(s[:, 2] - hip_c[2])], 1)
        xc = s[:, 0]
        yc = -(s[:, 1] - self.height_m)
        zc = self.distance_m - s[:, 2]
        f = self.focal_px
        u = self.width / 2 + f * xc / zc
        v = self.height / 2 + f * yc / zc
        z_hip = self.distance_m - hip_c[2]
        lm = np.zeros((NUM_LANDMARKS, 4))
        lm[:, 0] = u / self.width
        lm[:, 1] = v / self.height
        lm[:, 2] = (zc - z_hip) * f / z_hip / self.width
        inside = (lm[:, 0] > 0) & (lm[:, 0] < 1) & (lm[:, 1] > 0) & (lm[:, 1] < 1)
        # The far side is partly hidden behind the body when seen from the side.
        depth_behind = (zc - z_hip) > 0.06
        lm[:, 3] = np.where(inside, np.where(depth_behind, 0.55, 0.98), 0.08)
        hx, hy = lm[[L["left_hip"], L["right_hip"]], :2].mean(axis=0)
        return lm, world, bool(0 < hx < 1 and 0 < hy < 1)
