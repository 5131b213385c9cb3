"""Representative view models for every screen: screenshots, tests and the benchmark.

They are what a real session looks like mid-way (a member at 142 jumps/min with their back
arching and shoulders creeping up), not the session's logic: the runtime builds real ones.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from station.display.cues import cue_for, tip_for
from station.display.screens import SCREENS
from station.display.viewmodel import (
    CAMERA_UNAVAILABLE,
    FEET_OUT_CAMERA_COUNTS,
    MAT_UNAVAILABLE,
    ActiveView,
    CalibratingView,
    IdleView,
    LandingMeter,
    Light,
    LiveView,
    SummaryView,
    ViewModel,
    lights_from_states,
)
from station.events import FAULTS, LANDMARK, NUM_LANDMARKS
from station.members.qr import make_matrix

DEMO_TAKE_HOME_URL = "http://station.local:8080/m/DEMO-no-such-session00"
"""The demo summary's QR code: the shape of a real link, leading to no session."""

CONFIG_NOTICE = "config error in mat.sample_rate_hz - running on the last good config"


def demo_lights() -> tuple[Light, ...]:
    """A light per registered fault: the built-in ones in a representative mix, any other ok."""
    sample = {
        "shoulders": Light("shoulders", "warn", 22.0, "%"),
        "back": Light("back", "fault", 19.5, "°"),
        "landing": Light("landing", "ok", 1.9, "BW"),
        "arms": Light("arms", "ok", 0.52, "× torso"),
        "head": Light("head", "unknown"),
    }
    return tuple(sample.get(f, Light(f, "ok")) for f in FAULTS)


DEMO_SHARES = {"shoulders": 0.18, "back": 0.31, "landing": 0.06, "arms": 0.0, "head": 0.09}


def demo_active(count: int = 137, live: bool = False) -> ActiveView:
    lights = demo_lights()
    return ActiveView(
        count=count,
        elapsed_s=58.0 + count * 0.42,
        streak=min(count, 41),
        cadence_per_min=142.0,
        lights=lights,
        cue=cue_for(lights),
        landing=LandingMeter(softness=0.72, peak_bw=2.1),
        live=demo_live() if live else None,
    )


def demo_summary() -> SummaryView:
    series = tuple(
        (t, 118 + 30 * math.sin(t / 19.0) + 0.25 * t - 8 * math.cos(t / 4.0))
        for t in np.arange(2.0, 128.0, 2.0).tolist()
    )
    return SummaryView(
        total=287,
        duration_s=128.0,
        best_streak=96,
        cadence_avg_per_min=134.6,
        cadence_peak_per_min=max(c for _, c in series),
        cadence_series=series,
        fault_share=tuple((f, DEMO_SHARES.get(f, 0.0)) for f in FAULTS),
        tip=tip_for("back"),
        returns_in_s=12.0,
        take_home=make_matrix(DEMO_TAKE_HOME_URL).rows,
    )


def demo_view(screen: str, phase: float = 0.15) -> ViewModel:
    """The representative view model for one of :data:`SCREENS`."""
    if screen == "idle":
        return ViewModel(IdleView(demo_phase=phase))
    if screen == "calibrating":
        return ViewModel(CalibratingView(seconds_left=1.4, total_s=2.0))
    if screen == "active":
        return ViewModel(demo_active())
    if screen == "active-live":
        return ViewModel(demo_active(live=True))
    if screen == "summary":
        return ViewModel(demo_summary())
    if screen == "degraded":
        # Camera down: its four lights are unknown, the mat keeps counting and judging
        # landings; plus a trainer's config notice.
        view = ActiveView(
            count=64,
            elapsed_s=31.0,
            streak=64,
            cadence_per_min=128.0,
            lights=lights_from_states({"landing": "ok"}),
            landing=LandingMeter(softness=0.8, peak_bw=1.8),
        )
        return ViewModel(view, "mat", (CAMERA_UNAVAILABLE,), CONFIG_NOTICE)
    if screen == "degraded-mat":
        # Mat down: the camera counts (the screen says so), no landing meter.
        lights = demo_lights()
        view = ActiveView(
            count=52,
            elapsed_s=27.0,
            streak=18,
            cadence_per_min=120.0,
            lights=lights,
            cue=cue_for(lights),
        )
        return ViewModel(view, "camera", (MAT_UNAVAILABLE,))
    if screen == "feet-out":
        # No mat: the camera counts, and it is aimed too high (the bottom third of the
        # picture cut off, as `nofeet` in docs/counting.md): the feet are below the picture.
        lights = lights_from_states({"shoulders": "ok", "arms": "ok", "head": "ok"})
        live = demo_live()
        landmarks = demo_landmarks()
        landmarks[:, 1] /= 2.0 / 3.0
        view = ActiveView(
            count=23,
            elapsed_s=14.0,
            streak=23,
            cadence_per_min=96.0,
            lights=lights,
            live=LiveView(image=live.image[: live.image.shape[0] * 2 // 3], landmarks=landmarks),
        )
        return ViewModel(view, "camera", (FEET_OUT_CAMERA_COUNTS,))
    raise ValueError(f"unknown screen {screen!r}; expected one of {', '.join(SCREENS)}")


def demo_landmarks() -> NDArray[np.float64]:
    """A standing jumper in MediaPipe's 33-landmark layout (normalised image coordinates)."""
    lm = np.zeros((NUM_LANDMARKS, 4))
    lm[:, 3] = 0.0  # everything not placed below stays invisible
    placed = {
        "nose": (0.50, 0.16), "left_eye": (0.52, 0.145), "right_eye": (0.48, 0.145),
        "left_ear": (0.545, 0.155), "right_ear": (0.455, 0.155),
        "left_shoulder": (0.59, 0.27), "right_shoulder": (0.41, 0.27),
        "left_elbow": (0.63, 0.40), "right_elbow": (0.37, 0.40),
        "left_wrist": (0.68, 0.50), "right_wrist": (0.32, 0.50),
        "left_hip": (0.56, 0.53), "right_hip": (0.44, 0.53),
        "left_knee": (0.565, 0.71), "right_knee": (0.435, 0.71),
        "left_ankle": (0.56, 0.88), "right_ankle": (0.44, 0.88),
        "left_heel": (0.55, 0.905), "right_heel": (0.45, 0.905),
        "left_foot_index": (0.60, 0.92), "right_foot_index": (0.40, 0.92),
    }  # fmt: skip
    for name, (x, y) in placed.items():
        lm[LANDMARK[name]] = (x, y, 0.0, 0.99)
    return lm


def demo_live(width: int = 640, height: int = 480) -> LiveView:
    """A synthetic camera frame (a lit wall and floor; no real person is pictured)."""
    y = np.linspace(0.0, 1.0, height)[:, None]
    x = np.linspace(0.0, 1.0, width)[None, :]
    wall = 70 + 40 * (1 - y) + 10 * x
    floor = (y > 0.9) * 25.0
    grey = np.clip(wall - floor, 0, 255)
    img = np.stack([grey * 0.95, grey, grey * 1.08], axis=-1).clip(0, 255).astype(np.uint8)
    return LiveView(image=img, landmarks=demo_landmarks())
