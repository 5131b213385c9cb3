"""The view model: an immutable snapshot of everything the screen shows.

The runtime builds one :class:`ViewModel` per frame from the session (it owns the state: which
screen, the count, the lights) and hands it to :meth:`station.display.app.Display.draw`. The
renderer only draws what is here: it decides nothing, counts nothing and keeps no state apart
from caches of fonts, glyphs and static layers.

Everything is a frozen dataclass of plain values (numbers, strings, tuples), except the optional
live camera image and landmarks, which are numpy arrays the producer must not modify afterwards
(the same contract as :mod:`station.events`).

Which screen is shown is the type of ``ViewModel.screen``:

============== ======================= ==================================================
session phase  screen                  what it shows
============== ======================= ==================================================
idle           :class:`IdleView`       how to start, a demonstration of good form
calibrating    :class:`CalibratingView` "stand tall and still" and a countdown
active         :class:`ActiveView`     count, cadence, time, streak, the lights, cue, meter
summary        :class:`SummaryView`    totals, cadence chart, time per fault, one tip
============== ======================= ==================================================

Degraded devices are not a screen of their own: ``ViewModel.banners`` lays a banner over any
screen (see :data:`CAMERA_UNAVAILABLE`, :data:`MAT_UNAVAILABLE`; :data:`FEET_OUT_CAMERA_COUNTS`
and :data:`FEET_OUT_MAT_COUNTS` when the camera cannot see the feet) and ``config_notice`` shows
a discreet one-line notice for the trainer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from station.events import FAULTS, NUM_LANDMARKS, LightState

if TYPE_CHECKING:
    from station.session.model import SessionSummary

CountSource = Literal["mat", "camera"]
BannerKind = Literal["camera", "mat", "framing", "other"]
"""What a banner is about: a device that is off (camera, mat), what the camera can see
(framing: the member out of its picture), or anything else."""


@dataclass(frozen=True)
class Light:
    """One posture light. `fault` is one of :data:`station.events.FAULTS`.

    `value`/`unit` optionally carry the metric behind the light (e.g. 14.0, "°"). The member's
    screen shows only the state (a number means nothing at a glance from 3 m); the value rides
    along for whoever else reads the snapshot (logs, the trainers' console) and may be omitted."""

    fault: str
    state: LightState = "unknown"
    value: float | None = None
    unit: str = ""

    def __post_init__(self) -> None:
        if self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; expected one of {FAULTS}")


def unknown_lights() -> tuple[Light, ...]:
    """Every light `unknown` (no camera, or not judged yet)."""
    return tuple(Light(f) for f in FAULTS)


def lights_from_states(states: Mapping[str, LightState]) -> tuple[Light, ...]:
    """Five lights in screen order from a {fault: state} mapping; missing ones are unknown."""
    return tuple(Light(f, states.get(f, "unknown")) for f in FAULTS)


@dataclass(frozen=True)
class Cue:
    """One short coaching cue for one fault (see :mod:`station.display.cues`)."""

    fault: str
    text: str


@dataclass(frozen=True)
class LandingMeter:
    """The landing-softness meter, from the force mat.

    `softness` is 0 (a hard slap) .. 1 (soft, on the balls of the feet), e.g. of the last few
    landings; None when there is no force reading yet. `peak_bw` is the last landing's peak in
    body weights, shown as a number when known."""

    softness: float | None = None
    peak_bw: float | None = None

    def __post_init__(self) -> None:
        if self.softness is not None and not 0.0 <= self.softness <= 1.0:
            raise ValueError(f"softness must be within 0..1, got {self.softness}")


@dataclass(frozen=True, eq=False)
class LiveView:
    """The optional live camera view (config ``display.live_view``).

    `image` is RGB uint8 H×W×3 as captured (the screen mirrors it, so members see themselves
    as in a mirror); `landmarks` is 33×4 in MediaPipe's layout (x, y normalised to the image,
    z, visibility) or None when nobody is found. The skeleton is coloured by the lights."""

    image: NDArray[np.uint8]
    landmarks: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise ValueError(
                f"image must be H×W×3 uint8, got {self.image.shape} {self.image.dtype}"
            )
        if self.landmarks is not None and self.landmarks.shape[0] != NUM_LANDMARKS:
            raise ValueError(f"landmarks must be {NUM_LANDMARKS}×4, got {self.landmarks.shape}")


@dataclass(frozen=True)
class IdleView:
    """Attract screen. `demo_phase` (0..1, repeating) animates the good-form demonstration:
    the runtime advances it with its clock (e.g. ``(t / 0.8) % 1``) so the renderer stays
    stateless."""

    demo_phase: float = 0.0
    headline: str = "Step onto the mat"
    subline: str = "and start jumping - we count, you jump"


@dataclass(frozen=True)
class CalibratingView:
    """`seconds_left` of `total_s` while body weight and posture baseline are captured."""

    seconds_left: float
    total_s: float
    message: str = "Stand tall and still"


@dataclass(frozen=True)
class ActiveView:
    """The session in progress.

    `cadence_per_min` is None until there are two jumps; `lights` are one :class:`Light` per
    fault, in :data:`FAULTS` order; `cue` is the one cue for the worst current fault (None: all
    good); `landing` None hides the meter (contact-switch mat or no mat); `live` None hides the
    live view."""

    count: int
    elapsed_s: float
    streak: int
    cadence_per_min: float | None = None
    lights: tuple[Light, ...] = field(default_factory=unknown_lights)
    cue: Cue | None = None
    landing: LandingMeter | None = None
    live: LiveView | None = None

    def __post_init__(self) -> None:
        if tuple(light.fault for light in self.lights) != tuple(FAULTS):
            raise ValueError(f"lights must be the faults in order {tuple(FAULTS)}")
        if self.count < 0 or self.streak < 0:
            raise ValueError("count and streak cannot be negative")


QrModules = tuple[tuple[bool, ...], ...]

WELCOME_HEADLINE = "Welcome back!"
WELCOME_SUBLINE = "Step onto the mat - this session goes into your history"


@dataclass(frozen=True)
class SummaryView:
    """The end-of-session summary. `cadence_series` is (seconds into the session, jumps/min);
    `fault_share` maps each fault to the share of the session (0..1) it was at fault;
    `tip` is the one tip that matters most (None: nothing to fix); `returns_in_s` is how long
    until the session goes back to idle (the session decides, the screen shows it);
    `next_up` says someone is on the mat for a new session that starts counting at their first
    jump (the footer says so instead of the countdown);
    `take_home` is the QR code of the session's page (rows of modules, True = dark, quiet zone
    included; None: no code shown)."""

    total: int
    duration_s: float
    best_streak: int
    cadence_avg_per_min: float
    cadence_peak_per_min: float
    cadence_series: tuple[tuple[float, float], ...] = ()
    fault_share: tuple[tuple[str, float], ...] = field(default_factory=lambda: _no_shares())
    tip: Cue | None = None
    returns_in_s: float | None = None
    take_home: QrModules | None = None
    next_up: bool = False


def _no_shares() -> tuple[tuple[str, float], ...]:
    return tuple((f, 0.0) for f in FAULTS)


Screen = IdleView | CalibratingView | ActiveView | SummaryView


@dataclass(frozen=True)
class Banner:
    """A device banner across the top of any screen: a bold `title` and a `detail` line."""

    kind: BannerKind
    title: str
    detail: str = ""


CAMERA_UNAVAILABLE = Banner("camera", "Camera off", "Posture lights paused - counting from the mat")
MAT_UNAVAILABLE = Banner("mat", "Mat off", "Counting from the camera - stay in view")
# The feet out of the camera's picture (station.pose.framing): a member too close or a camera
# aimed too high. When the camera counts, its count misses about every other jump then
# (docs/counting.md, `nofeet`); when the mat counts, only the lights that need the feet suffer.
FEET_OUT_CAMERA_COUNTS = Banner(
    "framing", "Step back - feet out of view", "The camera counts your feet: jumps are missed"
)
FEET_OUT_MAT_COUNTS = Banner(
    "framing", "Step back - feet out of view", "The mat counts - posture lights need your feet"
)


@dataclass(frozen=True)
class ViewModel:
    """One frame's worth of screen state.

    `count_source` says who counts ("mat" or "camera"; with "camera" the active screen says so
    next to the count). `banners` are device banners (usually :data:`CAMERA_UNAVAILABLE` or
    :data:`MAT_UNAVAILABLE`); `config_notice` is a short trainer notice (e.g. "Config error in
    mat.sample_rate_hz - running on the last good config"), shown small in a corner."""

    screen: Screen
    count_source: CountSource = "mat"
    banners: tuple[Banner, ...] = ()
    config_notice: str | None = None


def summary_view(
    summary: SessionSummary, tip: Cue | None, returns_in_s: float | None
) -> SummaryView:
    """A :class:`SummaryView` from the session's :class:`SessionSummary` (a convenience for the
    runtime): fault share is time at fault over the session's duration."""
    duration = max(summary.duration_s, 1e-9)
    share = tuple((f, min(1.0, summary.fault_seconds.get(f, 0.0) / duration)) for f in FAULTS)
    return SummaryView(
        total=summary.jumps,
        duration_s=summary.duration_s,
        best_streak=summary.best_streak,
        cadence_avg_per_min=summary.cadence_avg_per_min,
        cadence_peak_per_min=summary.cadence_peak_per_min,
        cadence_series=tuple(summary.cadence_series),
        fault_share=share,
        tip=tip,
        returns_in_s=returns_in_s,
    )
