"""Timestamped events: the only things sensor and camera threads hand to the main loop.

Every event carries `t`, seconds on the station's monotonic clock (see :mod:`station.clock`).
Events are immutable; array payloads must not be modified after the event is created.
Mat samples travel in blocks (a few milliseconds each) rather than one event per sample, so a
1 kHz × 8-zone stream costs a few hundred queue operations a second, not thousands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from station.faults import registry as _registry

# MediaPipe's BlazePose layout: 33 landmarks. Names in index order.
LANDMARK_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye_inner", "left_eye", "left_eye_outer",
    "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear",
    "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
    "left_pinky", "right_pinky",
    "left_index", "right_index",
    "left_thumb", "right_thumb",
    "left_hip", "right_hip",
    "left_knee", "right_knee",
    "left_ankle", "right_ankle",
    "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)  # fmt: skip
LANDMARK = {name: i for i, name in enumerate(LANDMARK_NAMES)}
NUM_LANDMARKS = len(LANDMARK_NAMES)

# The faults, in the order the screen shows them, and each one's name as the screen and the
# members' pages print it: live views of the fault registry (station.faults), one spec per fault.
FAULTS = _registry.FAULTS
FAULT_NAMES = _registry.FAULT_NAMES

LightState = Literal["ok", "warn", "fault", "unknown"]
LIGHT_STATES: tuple[LightState, ...] = ("ok", "warn", "fault", "unknown")


@dataclass(frozen=True)
class ForceBlock:
    """A block of mat samples: `force[i, z]` newtons (or raw counts before calibration)
    for zone `zones[z]` at time `t_samples[i]`. `t` is the time of the last sample."""

    t: float
    t_samples: NDArray[np.float64]
    force: NDArray[np.float64]
    zones: tuple[str, ...]
    calibrated: bool = True


@dataclass(frozen=True)
class ContactEdge:
    """A contact-switch mat changed state (timing only, no force)."""

    t: float
    pressed: bool


@dataclass(frozen=True)
class CameraFrame:
    """One camera image, RGB uint8 H×W×3, as captured at `t`."""

    t: float
    image: NDArray[np.uint8]
    index: int = 0


@dataclass(frozen=True)
class PoseFrame:
    """Pose landmarks for one frame.

    `lm` is 33×4 (x, y normalised to the image, z relative depth, visibility 0..1) or None when
    nobody was found; `world` is 33×3 metres with the origin between the hips (None if unknown).
    """

    t: float
    lm: NDArray[np.float64] | None
    world: NDArray[np.float64] | None
    width: int
    height: int
    index: int = 0
    inference_ms: float = 0.0
    image: NDArray[np.uint8] | None = None
    """The RGB picture the pose came from, attached only while the screen shows a live view
    (display.live_view); it is drawn and dropped, never stored."""


@dataclass(frozen=True)
class DeviceStatus:
    """A device came up, degraded or failed. `device` is e.g. "camera", "mat", "mat.left"."""

    t: float
    device: str
    ok: bool
    message: str = ""


@dataclass(frozen=True)
class Landing:
    """A landing found by the mat pipeline (see station.mat)."""

    t: float  # touchdown time
    takeoff_s: float | None
    flight_s: float | None
    contact_s: float | None
    peak_bw: float | None
    loading_rate_bw_s: float | None
    time_to_peak_s: float | None
    hard: bool = False
    reasons: tuple[str, ...] = field(default_factory=tuple)
    warn: bool = False  # a warn level crossed (hard implies warn)
    double_under: bool = False  # flight long enough for the rope to pass twice
    heel_first: bool | None = None  # None: no heel zone
    asymmetry_pct: float | None = None  # 100·(L−R)/(L+R) of the impact impulse; None: no L/R
    stopped: bool = False  # the contact after this landing became a stop (contact_s is None)
    count: int = 0  # the session's jump count including this landing


@dataclass(frozen=True)
class MatPresence:
    """Someone stepped onto the mat (`on_mat`) or off it (empty longer than mat.step_off_s).
    `body_weight_n` is None until captured from quiet standing (or from steady jumping)."""

    t: float
    on_mat: bool
    body_weight_n: float | None = None


Event = ForceBlock | ContactEdge | CameraFrame | PoseFrame | DeviceStatus | Landing | MatPresence
