"""Building the screen's view model from the station's state: the only place that knows both.

The renderer decides nothing; this module decides what the member sees: which screen, the
count, the five lights, the one cue, the banners and the trainer notice.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from station.display.cues import cue_for, tip_for
from station.display.viewmodel import (
    CAMERA_UNAVAILABLE,
    FEET_OUT_CAMERA_COUNTS,
    FEET_OUT_MAT_COUNTS,
    MAT_UNAVAILABLE,
    WELCOME_HEADLINE,
    WELCOME_SUBLINE,
    ActiveView,
    Banner,
    CalibratingView,
    IdleView,
    LandingMeter,
    Light,
    LiveView,
    Screen,
    ViewModel,
    summary_view,
)
from station.events import FAULTS
from station.faults.registry import spec

if TYPE_CHECKING:
    from station.runtime.station import Station

DEMO_PERIOD_S = 0.8
"""One cycle of the idle screen's good-form demonstration."""


def build_view(station: Station, now: float) -> ViewModel:
    session = station.session
    screen: Screen
    shown = session.screen(now)
    if shown == "calibrating":
        total = float(station.config["session"]["calibrate_s"])
        left = max(0.0, total - (now - session.phase_since))
        screen = CalibratingView(seconds_left=left, total_s=total)
    elif shown == "active":
        screen = _active(station, now)
    elif shown == "summary" and session.last_summary is not None:
        waiting = session.summary_waiting(now)  # a new session under it, not jumping yet
        screen = summary_view(
            session.last_summary,
            tip_for(session.last_summary.top_fault),
            None if waiting else session.summary_left_s(now),
        )
        screen = replace(screen, next_up=waiting)
        take_home = station.members.take_home if station.members is not None else None
        if take_home is not None:
            screen = replace(screen, take_home=take_home.matrix.rows)
    else:
        screen = IdleView(demo_phase=(now / DEMO_PERIOD_S) % 1.0)
        if station.members is not None and station.members.greeting:
            screen = replace(screen, headline=WELCOME_HEADLINE, subline=WELCOME_SUBLINE)
    return ViewModel(
        screen=screen,
        count_source="mat" if station.counting_source == "mat" else "camera",
        banners=_banners(station, shown),
        config_notice=_notice(station),
    )


def _notice(station: Station) -> str | None:
    """The discreet trainer line: a rejected config, and which devices are not real."""
    notices = [n for n in (station.config_notice, station.devices_notice) if n]
    return " · ".join(notices) or None


def _active(station: Station, now: float) -> ActiveView:
    stats = station.session.stats
    assert stats is not None
    lights = tuple(_light(station, fault) for fault in FAULTS)
    cadence = station.session.cadence(now)
    return ActiveView(
        count=stats.jumps,
        elapsed_s=station.session.elapsed(now),
        streak=stats.streak,
        cadence_per_min=cadence if cadence > 0 else None,
        lights=lights,
        cue=cue_for(lights),
        landing=_meter(station),
        live=_live_view(station),
    )


def _live_view(station: Station) -> LiveView | None:
    """The mirrored live view (display.live_view): the camera's picture with the skeleton, or
    the skeleton alone on a dark picture where there is none (the simulator)."""
    frame = station.live.last_pose
    if not station.config["display"]["live_view"] or not station.camera_working or frame is None:
        return None
    image = frame.image if frame.image is not None else _blank(frame.width, frame.height)
    return LiveView(image=image, landmarks=frame.lm)


@functools.lru_cache(maxsize=2)
def _blank(width: int, height: int) -> NDArray[np.uint8]:
    return np.zeros((height, width, 3), dtype=np.uint8)


def _light(station: Station, fault: str) -> Light:
    state = station.live.lights.get(fault, "unknown")
    posture = station.live.posture
    if posture is not None and fault in posture.lights and spec(fault).show_value:
        light = posture.lights[fault]
        return Light(fault, state, light.value, light.unit)
    return Light(fault, state)


def _meter(station: Station) -> LandingMeter | None:
    """Softness from the last landing's peak against the preset's warn..fault band."""
    if not station.mat_working or not station.mat_weighs:
        return None
    landing = station.live.last_landing
    if landing is None or landing.peak_bw is None:
        return LandingMeter()
    cfg = station.config["presets"][station.config["posture"]["preset"]]["landing"]
    soft_until = 0.6 * cfg["peak_warn_bw"]  # well under the warn level reads fully soft
    hard_from = cfg["peak_fault_bw"]
    share = (landing.peak_bw - soft_until) / max(1e-6, hard_from - soft_until)
    return LandingMeter(softness=min(1.0, max(0.0, 1.0 - share)), peak_bw=landing.peak_bw)


def _banners(station: Station, shown: str) -> tuple[Banner, ...]:
    banners: list[Banner] = []
    if station.devices["camera"].fitted and not station.camera_working:
        banners.append(CAMERA_UNAVAILABLE)
    if station.devices["mat"].fitted and not station.mat_working:
        banners.append(MAT_UNAVAILABLE)
    feet_out = _feet_out_banner(station, shown)
    if feet_out is not None:
        banners.append(feet_out)  # its detail says who counts: it replaces "No mat fitted"
    elif not station.devices["mat"].fitted and shown == "active":
        banners.append(Banner("other", "No mat fitted", "Counting from the camera"))
    return tuple(banners)


def _feet_out_banner(station: Station, shown: str) -> Banner | None:
    """While a member is calibrating or jumping (not to a passer-by on the idle screen, nor
    over a summary) and the camera has not seen their feet for most of the last seconds
    (station.pose.framing, with hysteresis: it does not blink at the edge)."""
    if shown not in ("calibrating", "active") or not station.camera_working:
        return None
    if not station.live.framing.feet_out:
        return None
    return FEET_OUT_CAMERA_COUNTS if station.counting_source == "camera" else FEET_OUT_MAT_COUNTS
