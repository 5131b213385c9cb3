"""Camera-only jump counting from pose landmarks.

Two signals, both in torso lengths (so distance to the camera does not matter):

- **bounce** ``b``: the body's height in the image (mean y of the hips and the lowest foot,
  the one on the ground). Each landing lowers it once; two-foot bounces and double-unders
  give one cycle per jump.
- **alternation** ``a``: left foot height minus right foot height. In alternate-foot and
  speed-step jumping every foot contact swaps which foot is lower, so each sign change of
  ``a`` is one contact, while the body's bounce is small.

A frame whose torso changed length by more than a factor e^0.5 since the last accepted one is a
collapsed pose fit (legs and hips folded up toward the shoulders), not a body, and counts as a
missing frame until a torso is back within that factor of the last accepted one.

Frames are first resampled onto a uniform 30 Hz grid (linear interpolation between
consecutive frames): a live camera thread drops frames at uneven intervals and a Pi infers at
5–15 frames/s, and on the grid every later step sees the same sampling, whatever the input's.
Both signals are high-passed (an exponential moving average is subtracted, which removes a
member drifting on the mat) and smoothed over ± 1 grid point. A Schmitt trigger with a
threshold that follows the recent amplitude turns them into events: for ``b`` one event per
downward pass (a landing), for ``a`` one per swap. The style is decided continuously by which signal
oscillates more (alternation when the feet swap by more than ``alternate_ratio`` times the
body's bounce). Jumping starts when two events arrive within ``max_gap_s`` of each other (the
first is then counted too), and stops when none arrives for ``max_gap_s``; a single twitch
is never counted. The only look-ahead is half the centred smoothing window (one grid point,
33 ms) plus the wait for the next frame to interpolate up to it; contacts filled from the
rhythm (a gap, a bout's opening) are reported late, with the event that confirms them.

Double-unders: a jump whose bounce is clearly bigger and slower than the member's recent
jumps is marked ``double`` (a heuristic: the camera cannot see the rope).
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from station.events import LANDMARK, PoseFrame

HIPS = [LANDMARK["left_hip"], LANDMARK["right_hip"]]
SHOULDERS = [LANDMARK["left_shoulder"], LANDMARK["right_shoulder"]]
LEFT_FOOT = [LANDMARK[n] for n in ("left_ankle", "left_heel", "left_foot_index")]
RIGHT_FOOT = [LANDMARK[n] for n in ("right_ankle", "right_heel", "right_foot_index")]


MAX_WINDOW = 7  # frames kept for smoothing (± 3)
SHORTEST_PERIOD_S = 0.1  # one jump or one foot contact: 10 a second is beyond anyone
LONGEST_PERIOD_S = 1.2
RHYTHM_INTERVALS = 8  # the recent rhythm: median of this many intervals between contacts
FUNDAMENTAL_SHARE = 0.4  # the first autocorrelation peak this high (× the highest) is the period
# How far a jumper's cadence drifts within the 2 s rhythm window: a rope turns at a steady
# rate, jump-to-jump intervals vary by a few per cent, so 10 % is generous.
CADENCE_DRIFT = 0.1


def whole_multiple(long: float, short: float, slack: float) -> int:
    """n (1 or more) when `long` is n times `short` within `slack` plus CADENCE_DRIFT × `long`,
    else 0. `slack` is one grid point in the units of the two (a period read to a point)."""
    n = max(1, round(long / short))
    return n if abs(long - n * short) <= slack + CADENCE_DRIFT * long else 0


def autocorrelation(x: NDArray[np.float64], max_lag: int) -> NDArray[np.float64]:
    """Normalised autocorrelation r[0..max_lag] of a zero-mean-ish signal: each lag is the
    correlation coefficient of the overlapping parts (no bias toward short lags)."""
    r = np.zeros(max_lag + 1)
    r[0] = 1.0
    for lag in range(1, min(max_lag, len(x) - 2) + 1):
        a, b = x[:-lag], x[lag:]
        a = a - a.mean()
        b = b - b.mean()
        den = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
        r[lag] = float(np.dot(a, b)) / den if den > 0 else 0.0
    return r


def dominant_period(
    x: NDArray[np.float64], dt: float, shortest_s: float, longest_s: float
) -> tuple[float, float]:
    """(period in seconds, strength) of the signal's repetition, or (0, 0).

    The strength is the highest autocorrelation peak in the lag range. The period is the
    first peak at least FUNDAMENTAL_SHARE × that high *of which the highest is a whole
    multiple* (within a grid point and CADENCE_DRIFT): a signal that repeats every jump also
    repeats every two or three, and the strongest of those peaks is often a multiple (every
    second contact by the same foot, a weak contact between strong ones, few frames per
    contact). A peak at a multiple confirms the period; it does not replace it. Parabolic
    interpolation gives the period to a fraction of a grid point (at 15 frames/s a contact
    lasts 2–4 frames, so whole frames would be 25 % steps)."""
    lo = max(1, int(np.floor(shortest_s / dt)))
    hi = int(np.ceil(longest_s / dt))
    if len(x) < 2 * lo + 4:
        return 0.0, 0.0
    r = autocorrelation(x, min(hi + 1, len(x) - 3))
    peaks = [k for k in range(max(lo, 1), len(r) - 1) if r[k] >= r[k - 1] and r[k] >= r[k + 1]]
    if not peaks:
        return 0.0, 0.0
    strongest = max(peaks, key=lambda k: r[k])
    top = float(r[strongest])
    if top <= 0:
        return 0.0, 0.0
    k = next(
        k for k in peaks if r[k] >= FUNDAMENTAL_SHARE * top and whole_multiple(strongest, k, 1)
    )
    den = r[k - 1] - 2 * r[k] + r[k + 1]
    shift = 0.5 * (r[k - 1] - r[k + 1]) / den if den < 0 else 0.0
    return (k + max(-0.5, min(0.5, shift))) * dt, top


@dataclass(frozen=True)
class CounterParams:
    """One parameter set for every style and clip (see docs/counting.md)."""

    grid_hz: float = 30.0  # frames are resampled onto a uniform grid this fine
    smooth_half_s: float = 0.03  # centred moving average of ± round(this × grid_hz) points
    highpass_s: float = 0.3  # time constant of the drift removal
    amplitude_s: float = 0.5  # time constant of the amplitude follower
    hysteresis: float = 0.3  # trigger at ± this fraction of the recent amplitude …
    min_threshold: float = 0.02  # … but never below this many torso lengths (bounce) …
    min_swap: float = 0.05  # … or this many between the feet (standing still jitters)
    min_gap_s: float = 0.09  # two contacts closer than this are one (≈ 11 contacts/s)
    max_gap_s: float = 1.0  # no contact for this long: jumping has stopped
    start_gap_s: float = 0.7  # the first two contacts of a bout must be at most this apart …
    start_min_gap_s: float = 0.0  # … at least this apart, and of the same style
    style_s: float = 0.3  # time constant of the style decision
    alternate_below: float = -0.1  # feet correlation below this: "alternate" …
    bounce_above: float = 0.0  # … above this: "bounce" again (hysteresis)
    style_hold_s: float = 0.5  # within a bout, the other style must last this long
    max_missing_s: float = 0.25  # a longer pose gap resets the signals
    # A pose whose torso (shoulders to hips) is this much longer or shorter than the last
    # accepted one (|ln ratio|) is a failed fit, not a body: a torso cannot halve in a frame.
    max_torso_step: float = 0.5
    double_ratio: float = 1.35  # bounce this much bigger than recent jumps = double-under
    max_travel_per_s: float = 2.0  # hips moving sideways faster (torso lengths/s): walking
    travel_s: float = 1.0  # measured as the displacement over this long
    # The signal's own period (autocorrelation over the last `period_window_s`):
    period_window_s: float = 2.0
    min_periodicity: float = 0.5  # autocorrelation at the period needed to trust it
    fill_ratio: float = 1.6  # a gap this many periods long holds missed contacts …
    max_fill: int = 3  # … at most this many, counted evenly spaced
    rhythm_events: int = 0  # not periodic enough: the median of the bout's last intervals,
    # once this many are known (0: only the autocorrelation's period fills gaps)
    # Two events less than this fraction of the rhythm's interval apart are one contact: the
    # midpoint between "the same contact" (0) and "the next one" (1). A real contact that
    # early would mean the cadence doubled from one contact to the next.
    refractory: float = 0.5
    # Alternating feet whose own rhythm is not clear (labels that follow the feet's heights,
    # a side view, few frames per contact): every foot contact also lowers the body once,
    # so the bounce's period is the contact interval (1: use it then, 0: never).
    cross_rhythm: int = 1
    # A bout's edges (1: on, 0: off; tried in round 24, not adopted, see docs/counting.md).
    # The first contact is the swap or landing that turns the
    # style: its trigger fired while the style was still the other, one event before the
    # bout's first; counted when it keeps the bout's first interval. The last: a bout's
    # newest event that breaks the rhythm (the body coming to rest, a step after the rope
    # stopped) is held until the next event shows the jumping went on, else not counted.
    bout_edges: int = 0
    # An interval keeps the rhythm when it is within this factor of the rhythm's, either way
    # (1 + this longer or 1 / (1 + this) shorter).
    edge_rhythm: float = 0.3
    # The bout's opening: contacts counted before its rhythm was known (1: once it is, fill
    # the opening's gaps so that it holds as many contacts as its span at that rhythm; 0: off).
    opening_fill: int = 1
    # Alternating feet whose period reads as a whole multiple (2, 3 …) of a clearly periodic
    # bounce: the feet's autocorrelation locked onto every second or third contact, and the
    # bounce's period is the contact interval (1: use it then, 0: never).
    bounce_paces: int = 1


DEFAULT_PARAMS = CounterParams()


@dataclass(frozen=True)
class CameraJump:
    t: float  # seconds, the frame where the landing / foot swap was seen
    style: str  # "bounce" (two-foot, double-under) or "alternate" (every foot contact)
    double: bool = False


@dataclass
class _Trigger:
    """Schmitt trigger on a zero-mean signal with an amplitude-following threshold."""

    params: CounterParams
    floor: float
    count_first: bool = True  # does leaving the unknown state count as a switch?
    amplitude: float = 0.0
    state: int = 0  # -1 below, +1 above, 0 unknown
    peak: float = 0.0  # largest |value| since the last switch (for double-under marking)

    def reset(self) -> None:
        self.amplitude = 0.0
        self.state = 0

    def update(self, value: float, dt: float) -> int:
        """+1 when the signal switches to above, -1 when to below, 0 otherwise."""
        p = self.params
        decay = float(np.exp(-dt / p.amplitude_s))
        self.amplitude = max(abs(value), self.amplitude * decay)
        threshold = max(self.floor, p.hysteresis * self.amplitude)
        self.peak = max(self.peak, abs(value))
        if value > threshold and self.state != 1:
            switched = 1 if self.state == -1 or self.count_first else 0
            self.state = 1
            return switched
        if value < -threshold and self.state != -1:
            switched = -1 if self.state == 1 or self.count_first else 0
            self.state = -1
            return switched
        return 0


@dataclass
class CameraJumpCounter:
    """Feed PoseFrames in time order with :meth:`update`; it returns the jumps it has become
    sure of (each once). :attr:`jumps` keeps them all, in time order (a contact filled from
    the rhythm is reported late, after events that came after it)."""

    params: CounterParams = DEFAULT_PARAMS
    jumps: list[CameraJump] = field(default_factory=list)

    def __post_init__(self) -> None:
        # t, bounce, alternation, feet, scale
        self._raw: deque[tuple[float, float, float, float, float]] = deque(maxlen=MAX_WINDOW)
        self._last_sample: tuple[float, float, float, float, float] | None = None
        self._next_grid: float | None = None  # time of the next point on the uniform grid
        self._torso: deque[float] = deque(maxlen=90)
        self._last_torso: float | None = None  # the last accepted frame's, image units
        self._last_t: float | None = None
        self._last_valid_t: float | None = None
        self._trend_b: float | None = None
        self._trend_a: float | None = None
        self._bounce = _Trigger(self.params, self.params.min_threshold)
        # From feet level, the first foot leaving the ground is a lift, not a contact.
        self._alternate = _Trigger(self.params, self.params.min_swap, count_first=False)
        self._trend_f: float | None = None
        self._power_f = 0.0
        self._power_a = 0.0
        self.feet_correlation = 0.0
        self._last_event_t: float | None = None
        self._pending: CameraJump | None = None  # first event of a possible bout
        self._bout_peaks: deque[float] = deque(maxlen=8)
        self.jumping = False
        self.style = "bounce"
        self._xs: deque[tuple[float, float]] = deque()
        self.travel_per_s = 0.0
        # t, high-passed bounce, high-passed alternation (torso lengths), for the period
        self._history: deque[tuple[float, float, float]] = deque()
        self.filled = 0  # contacts counted from the period, not seen as a trigger
        self._style_since: float | None = None  # when the other style began to show
        self._hold_started: float | None = None
        self._held_other: list[float] = []  # its events since then (for the switch)
        self._intervals: deque[float] = deque(maxlen=RHYTHM_INTERVALS)  # within the bout
        # contacts filled into the last gap, and the interval then, until the next event
        self._unconfirmed: tuple[list[CameraJump], float] = ([], 0.0)
        # The latest trigger events of each style, whatever the style was then (bout start)
        self._seen: dict[str, deque[float]] = {s: deque(maxlen=4) for s in ("bounce", "alternate")}
        self._held: CameraJump | None = None  # a newest event off the rhythm, not yet counted
        self._opening: float | None = None  # the bout's first event, while its rhythm is unknown
        self._opening_reading = 0.0  # the rhythm's first trusted interval, awaiting a second

    def _record(self, events: list[CameraJump]) -> None:
        """Count `events` into :attr:`jumps`, each in its place in time."""
        for event in events:
            bisect.insort(self.jumps, event, key=lambda j: j.t)

    @property
    def count(self) -> int:
        return len(self.jumps)

    @property
    def doubles(self) -> int:
        return sum(1 for j in self.jumps if j.double)

    # -- signals -----------------------------------------------------------------------
    def _signals(self, lm: NDArray[np.float64]) -> tuple[float, float, float, float] | None:
        y = lm[:, 1]
        hips, shoulders = y[HIPS], y[SHOULDERS]
        left, right = y[LEFT_FOOT], y[RIGHT_FOOT]
        if not (np.isfinite(hips).all() and np.isfinite(left).all() and np.isfinite(right).all()):
            return None
        if np.isfinite(shoulders).all():
            torso = float(hips.mean() - shoulders.mean())
            if torso > 0.01:
                if self._misfit(torso):
                    return None
                self._torso.append(torso)
        if not self._torso:
            return None
        scale = float(np.median(self._torso))
        left_y, right_y = float(left.mean()), float(right.mean())
        # Image units here; divided by the torso length only after the drift is removed, so
        # a change of scale (member leaning, stepping back) cannot look like a jump.
        feet = 0.5 * (left_y + right_y)
        # The body's height from the foot lowest in the picture (image y grows downward):
        # the one on the ground, which comes down at every landing, two-foot or one foot at
        # a time. The swinging foot is not a landing, and the lowest foot needs no left/right
        # labels, which swap in a side view (MediaPipe then often calls the higher foot
        # "left"). For feet together it is their mean, as before.
        bounce = (float(hips.mean()) + max(left_y, right_y)) / 2.0
        alternation = left_y - right_y
        return bounce, alternation, feet, scale

    def _misfit(self, torso: float) -> bool:
        """A pose fit that has collapsed: the torso jumped in length from the last accepted
        frame by more than `max_torso_step` (log ratio). MediaPipe sometimes folds the legs
        and hips of a small or blurred person up toward the shoulders for a few frames while
        the shoulders stay put; the feet then rise by a torso length or more at once, which
        reads as a huge bounce and flips the style for a second. Frame-to-frame torso
        changes of real jumping stay below 0.36 on every shared track (landmark jitter, a
        lean), so the bound is a failed fit, not a fast jumper. Such frames count as
        missing (interpolated across, or a reset after `max_missing_s`) until one is back
        within the bound of the last good fit. (Re-accepting only within half the bound, as
        the fit unfolds gradually, was tried: it lost 5 contacts of `hb_alternating_01` in
        one of 8 draws of live-like drops at 15 frames/s, whose torso really shrinks by a
        third over 0.3 s.) A fit that unfolds through ratios just inside the bound is let
        back early and can still flip the style (constructed: 31 of 40 either way)."""
        last, self._last_torso = self._last_torso, torso
        if last is not None and abs(float(np.log(torso / last))) > self.params.max_torso_step:
            self._last_torso = last  # keep comparing with the last good fit
            return True
        return False

    def update(self, frame: PoseFrame) -> list[CameraJump]:
        signals = None if frame.lm is None else self._signals(frame.lm)
        if signals is None:
            if self._last_valid_t is not None and frame.t - self._last_valid_t > (
                self.params.max_missing_s
            ):
                self._reset_signals()
            return self._expire(frame.t)
        if self._last_valid_t is not None and frame.t - self._last_valid_t > (
            self.params.max_gap_s
        ):
            # No frame at all for as long as ends a bout (a stalled camera): nothing to
            # interpolate across. Shorter gaps are a slow model (a Pi 4 infers every 0.2 s).
            self._reset_signals()
        self._track_travel(frame, signals[3])
        self._last_valid_t = frame.t
        out: list[CameraJump] = []
        for sample in self._resample(frame.t, signals):
            self._raw.append(sample)
            out += self._smooth_step()
        # Filled contacts come late, with the event that confirms them: in time order here,
        # but possibly earlier than events an earlier update returned.
        return sorted(out, key=lambda j: j.t)

    def _resample(
        self, t: float, signals: tuple[float, float, float, float]
    ) -> list[tuple[float, float, float, float, float]]:
        """The grid points up to `t`, linearly interpolated from the last sample to this one.
        Frames come at whatever rate the camera and the model manage, and a live camera
        thread drops them at uneven intervals; on a uniform grid every later step (smoothing,
        drift, trigger, autocorrelation) sees the same sampling whatever the input's."""
        step = 1.0 / self.params.grid_hz
        last, self._last_sample = self._last_sample, (t, *signals)
        if last is None or self._next_grid is None:
            self._next_grid = t + step
            return [(t, *signals)]
        t0, s0 = last[0], last[1:]
        out = []
        while self._next_grid <= t + 1e-9:
            w = (self._next_grid - t0) / (t - t0) if t > t0 else 1.0
            b, a, feet, scale = (x0 + w * (x1 - x0) for x0, x1 in zip(s0, signals, strict=True))
            out.append((self._next_grid, b, a, feet, scale))
            self._next_grid += step
        return out

    def _smooth_step(self) -> list[CameraJump]:
        half = min(MAX_WINDOW // 2, round(self.params.smooth_half_s * self.params.grid_hz))
        n = 2 * half + 1
        if len(self._raw) < n:
            return []
        window = list(self._raw)[-n:]
        # Centre of the smoothing window: the grid point we decide about now.
        t_mid = window[half][0]
        b = float(np.mean([r[1] for r in window]))
        a = float(np.mean([r[2] for r in window]))
        feet = float(np.mean([r[3] for r in window]))
        return self._step(t_mid, b, a, feet, window[-1][4])

    def _track_travel(self, frame: PoseFrame, scale: float) -> None:
        """Sideways speed of the hips in torso lengths per second, as the displacement over
        the last `travel_s` (per-frame differences would mostly measure landmark jitter).
        Someone walking through moves their feet alternately too; a jumper stays put."""
        assert frame.lm is not None
        x = float(frame.lm[HIPS, 0].mean()) * frame.width / (scale * frame.height)
        self._xs.append((frame.t, x))
        while self._xs and frame.t - self._xs[0][0] > self.params.travel_s:
            self._xs.popleft()
        span = self._xs[-1][0] - self._xs[0][0]
        if span >= 0.5 * self.params.travel_s:
            head = [v for _, v in list(self._xs)[:3]]
            tail = [v for _, v in list(self._xs)[-3:]]
            self.travel_per_s = abs(float(np.mean(tail)) - float(np.mean(head))) / span
        else:
            self.travel_per_s = 0.0

    @property
    def travelling(self) -> bool:
        return self.travel_per_s > self.params.max_travel_per_s

    def finish(self) -> list[CameraJump]:
        """End of input: nothing more will confirm a pending first jump or a held last one."""
        self._pending = None
        self._opening = None
        self._drop_held()
        return []

    def _reset_signals(self) -> None:
        self._raw.clear()
        self._last_sample = None
        self._next_grid = None
        self._xs.clear()
        self._last_torso = None  # after a long gap, whoever is seen now is the reference
        self.travel_per_s = 0.0
        self._trend_b = self._trend_a = self._trend_f = None
        self._bounce.reset()
        self._alternate.reset()
        self._last_t = None
        self._history.clear()

    def _expire(self, now: float) -> list[CameraJump]:
        if self._last_event_t is not None and now - self._last_event_t > self.params.max_gap_s:
            self.jumping = False
            self._pending = None
            self._opening = None
            self._drop_held()
            return self._confirm_last_fill()
        return []

    def _drop_held(self) -> None:
        """The bout ended on an event off its rhythm: not a contact of the jumping (the body
        coming to rest, a step after the rope stopped), nor the contacts filled before it."""
        if self._held is not None:
            self._held = None
            self._unconfirmed = ([], 0.0)

    def _step(self, t: float, b: float, a: float, feet: float, scale: float) -> list[CameraJump]:
        p = self.params
        dt = 1.0 / 30.0 if self._last_t is None else max(1e-3, t - self._last_t)
        self._last_t = t
        if self._trend_b is None or self._trend_a is None or self._trend_f is None:
            self._trend_b, self._trend_a, self._trend_f = b, a, feet
        alpha = 1.0 - float(np.exp(-dt / p.highpass_s))
        self._trend_b += alpha * (b - self._trend_b)
        self._trend_a += alpha * (a - self._trend_a)
        self._trend_f += alpha * (feet - self._trend_f)
        hb, ha = (b - self._trend_b) / scale, (a - self._trend_a) / scale
        hf = (feet - self._trend_f) / scale
        self._history.append((t, hb, ha))
        while self._history and t - self._history[0][0] > p.period_window_s:
            self._history.popleft()
        # Style: do the feet move together (bounce) or against each other (alternate)?
        # With l, r the feet heights: var((l+r)/2) - var((l-r)/2) = cov(l, r), and the sum of
        # the two is (var l + var r) / 2, so their ratio is the feet's correlation.
        beta = 1.0 - float(np.exp(-dt / p.style_s))
        self._power_f += beta * (hf * hf - self._power_f)
        self._power_a += beta * (0.25 * ha * ha - self._power_a)
        total = self._power_f + self._power_a
        self.feet_correlation = (self._power_f - self._power_a) / total if total > 0 else 0.0
        switched = self._update_style(t)

        bounce_switch = self._bounce.update(hb, dt)
        alternate_switch = self._alternate.update(ha, dt)
        if bounce_switch == 1:
            self._seen["bounce"].append(t)
        if alternate_switch != 0:
            self._seen["alternate"].append(t)
        out = self._expire(t)
        if switched:
            out += self._recount_hold(t)
        other_event = alternate_switch != 0 if self.style == "bounce" else bounce_switch == 1
        if self._style_since is not None and other_event:  # the other style is showing
            self._held_other.append(t)
        if self.style == "bounce" and bounce_switch == 1:  # body moved down: a landing
            peak, self._bounce.peak = self._bounce.peak, 0.0
            out += self._event(t, "bounce", peak)
        elif self.style == "alternate" and alternate_switch != 0:
            self._alternate.peak = 0.0
            out += self._event(t, "alternate", 0.0)
        return out

    def _recount_hold(self, t: float) -> list[CameraJump]:
        """The style just switched inside a bout after `style_hold_s`: the contacts of the
        new style seen during the hold were real, and those the old style counted then were
        its blurred view of them. Count the difference, at the new style's event times."""
        since, held, self._hold_started = self._hold_started, self._held_other, None
        self._held_other = []
        if since is None or not self.jumping:
            return []
        counted = sum(1 for j in self.jumps if j.t >= since)
        missing = [CameraJump(h, self.style) for h in held[counted:]]
        self.filled += len(missing)
        self._record(missing)
        return missing

    def _update_style(self, t: float) -> bool:
        """Feet together (bounce) or against each other (alternate), with hysteresis. Within a
        bout the other style must hold for `style_hold_s` first: in a side view the legs
        cross and the left/right labels swap, and a flip on that noise would drop the
        contacts of the style really being jumped."""
        p = self.params
        if self.style == "bounce":
            other = "alternate" if self.feet_correlation < p.alternate_below else None
        else:
            other = "bounce" if self.feet_correlation > p.bounce_above else None
        if other is None:
            self._style_since = None
            self._held_other = []
            return False
        if self._style_since is None:
            self._style_since = t
        if not self.jumping or t - self._style_since >= p.style_hold_s:
            self.style = other
            self._hold_started, self._style_since = self._style_since, None
            return self.jumping
        return False

    def _event(self, t: float, style: str, peak: float) -> list[CameraJump]:
        p = self.params
        # Walking past, not jumping: feet alternating while the hips travel. Feet moving
        # together are never walking (a camera panning after a jumper moves the hips too).
        if self.travelling and style == "alternate":
            self.jumping = False
            self._pending = None
            self._opening = None
            return []
        if self._last_event_t is not None and t - self._last_event_t < p.min_gap_s:
            return []
        interval = self.expected_interval(style) if self.jumping else 0.0
        if (
            interval > 0
            and self._last_event_t is not None
            and t - self._last_event_t < p.refractory * interval
        ):
            return []  # a wobble of the same contact, far sooner than the rhythm allows
        previous, self._last_event_t = self._last_event_t, t
        double = False
        if style == "bounce":
            if len(self._bout_peaks) >= 4:
                double = peak > p.double_ratio * float(np.median(self._bout_peaks))
            self._bout_peaks.append(peak)
        jump = CameraJump(t, style, double)
        if self.jumping:
            opening = self._fill_opening(previous, interval)
            confirmed = self._confirm_fill(previous, t)
            missed = self._missed(previous, t, interval, style)
            rhythm = float(np.median(self._intervals)) if len(self._intervals) >= 2 else 0.0
            step = 0.0
            if previous is not None:
                step = (t - previous) / (len(missed) + 1)
                self._intervals.append(step)
            self._unconfirmed = (missed, interval)
            released = [*confirmed, *([self._held] if self._held is not None else [])]
            self._held = None
            if p.bout_edges and rhythm > 0 and (missed or not self._keeps(step, rhythm)):
                self._held = jump  # counted when the next event shows the jumping went on
            else:
                released.append(jump)
            self._record(released)
            return [*opening, *released]
        if (
            self._pending is not None
            and previous is not None
            and p.start_min_gap_s <= t - previous <= p.start_gap_s
            and self._pending.style == style
        ):
            first, self._pending = self._pending, None
            self.jumping = True
            self._intervals.clear()
            self._intervals.append(t - previous)
            started = [*self._first_contact(first, t - previous), first, jump]
            self._opening = started[0].t if self.params.opening_fill else None
            self._opening_reading = 0.0
            self._record(started)
            return started
        self._pending = jump
        return []

    def _fill_opening(self, previous: float | None, interval: float) -> list[CameraJump]:
        """The bout's rhythm has become known (`interval` > 0, and the same at the event
        before, within CADENCE_DRIFT: one reading could be a harmonic, and a whole opening
        filled by half the interval would double it): its opening, counted while no rhythm
        was trusted, held as many contacts as its span at that rhythm. Until a signal repeats
        clearly over the period window, no gap can be filled, and the opening is where the
        counting is weakest (the style still turning, the filters settling, at 15 frames/s
        the bounce seeing one contact in two). A rope turns at a steady rate, so the rhythm
        the next events show was the opening's too, as far back as the period window that
        measured it (`period_window_s`), no further. The shortfall goes into the opening's
        longest gaps (in intervals), each gap of k >= `fill_ratio` intervals taking at most
        round(k) - 1 and at most `max_fill`, as `_missed` fills one gap."""
        if self._opening is None or interval <= 0 or previous is None:
            return []
        first_reading, self._opening_reading = self._opening_reading, interval
        if abs(interval - first_reading) > CADENCE_DRIFT * interval:
            return []  # wait for a second reading that agrees
        p = self.params
        since = max(self._opening, previous - p.period_window_s)
        self._opening = None
        # What the opening holds already: the counted events, those filled into the gap
        # before the previous event (confirmed by this one right after), and with bout_edges
        # a held event (a contact's slot, released or dropped later).
        counted = [j.t for j in self.jumps] + [j.t for j in self._unconfirmed[0]]
        if self._held is not None:
            counted.append(self._held.t)
        times = sorted(t for t in counted if since - 1e-9 <= t <= previous + 1e-9)
        if not times:
            return []
        short = round((previous - times[0]) / interval) + 1 - len(times)
        gaps = sorted((((b - a) / interval, a, b) for a, b in pairwise(times)), reverse=True)
        filled: list[CameraJump] = []
        for ratio, a, b in gaps:
            k = min(p.max_fill, round(ratio) - 1, short - len(filled))
            if k <= 0 or ratio < p.fill_ratio:  # the gaps come longest first: none left
                break
            filled += [CameraJump(a + (b - a) * i / (k + 1), self.style) for i in range(1, k + 1)]
        self.filled += len(filled)
        self._record(filled)
        return filled

    def _keeps(self, interval: float, rhythm: float) -> bool:
        """Does `interval` keep the `rhythm` (within edge_rhythm either way)?"""
        factor = 1.0 + self.params.edge_rhythm
        return rhythm / factor <= interval <= rhythm * factor

    def _first_contact(self, first: CameraJump, interval: float) -> list[CameraJump]:
        """The bout's first contact, seen before its first event: the style follows the feet's
        correlation with a lag (style_s), so the swap or landing that turned it fired while
        the style was still the other one. The trigger event of the bout's style just before
        its first event, if it keeps the bout's first interval and was not counted already."""
        if not self.params.bout_edges:
            return []
        before = [s for s in self._seen[first.style] if s < first.t - 1e-9]
        if not before:
            return []
        t = before[-1]
        counted = self.jumps[-1].t if self.jumps else float("-inf")
        gap = first.t - t
        if t <= counted or gap < self.params.min_gap_s or not self._keeps(gap, interval):
            return []
        return [CameraJump(t, first.style)]

    def expected_interval(self, style: str) -> float:
        """Seconds between two counted events at the current rhythm, from the signal's own
        period, or 0 when the signal is not clearly periodic. Alternation: a full cycle is
        two foot contacts."""
        p = self.params
        if len(self._history) < 8:
            return 0.0
        interval, strength = self._rhythm(style)
        # Alternating feet: each foot contact also lowers the body once, so the bounce's
        # rhythm (read once here, for both rules below) can pace or confirm the feet's.
        feet_with_bounce = style == "alternate" and interval > 0
        bounce, bounce_strength = self._rhythm("bounce") if feet_with_bounce else (0.0, 0.0)
        if feet_with_bounce and p.bounce_paces:
            paced = self._bounce_pace(interval, bounce, bounce_strength)
            if paced > 0:
                return paced
        if strength >= p.min_periodicity:
            return interval
        if feet_with_bounce and p.cross_rhythm:
            # The feet's own rhythm is unclear: when the bounce repeats clearly at the same
            # interval, two signals agree. (Not the other way round: feet together make no
            # alternation to go by.)
            agree = abs(bounce - interval) <= 1.0 / p.grid_hz + CADENCE_DRIFT * interval
            if bounce_strength >= p.min_periodicity and agree:
                return interval
        # Not clearly periodic (a noisy side view, few frames per contact): the rhythm of
        # the contacts counted so far in this bout, robust to the odd miss or extra.
        if p.rhythm_events > 0 and len(self._intervals) >= p.rhythm_events:
            return float(np.median(self._intervals))
        return 0.0

    def _bounce_pace(self, feet: float, bounce: float, strength: float) -> float:
        """The bounce's period (`bounce`, periodicity `strength`) when the feet's (`feet`) is a
        whole multiple of it, 2 or more (dominant_period's test, :func:`whole_multiple`), and
        the bounce is clearly periodic; else 0. Every foot contact lowers the body once, so a
        clear bounce at a half or a third of the feet's period is the contacts' own interval."""
        if strength < self.params.min_periodicity or bounce <= 0 or len(self._intervals) < 2:
            return 0.0
        multiple = whole_multiple(feet, bounce, 1.0 / self.params.grid_hz) >= 2
        # Which of the two is the contact interval, the events the trigger counted in this
        # bout say: a bounce with two dips a contact (the landing and a rebound) reads at
        # half the feet's period too, and then the counted intervals are the feet's.
        counted = float(np.median(self._intervals))
        return bounce if multiple and abs(counted - bounce) < abs(counted - feet) else 0.0

    def _rhythm(self, style: str) -> tuple[float, float]:
        """(seconds between two events of `style`, periodicity) from its signal's recent
        direction of motion."""
        column = 1 if style == "bounce" else 2
        # The direction of motion (up or down), not the signal itself: a low jump after a
        # high one rises and falls just the same, so the rhythm holds whatever the heights.
        x = np.sign(np.diff([h[column] for h in self._history]))
        dt = 1.0 / self.params.grid_hz  # the history is on the uniform grid
        cycles_per_event = 1.0 if style == "bounce" else 0.5
        period, strength = dominant_period(
            x, dt, SHORTEST_PERIOD_S / cycles_per_event, LONGEST_PERIOD_S
        )
        return period * cycles_per_event, strength

    def _confirm_fill(self, previous: float | None, t: float) -> list[CameraJump]:
        """The contacts filled into the gap before the previous event, once this event shows
        the rhythm went on (it came within a gap that could be filled too: every other jump
        too low to trigger makes such gaps one after another). A member who stops and then
        steps or shifts their weight once makes one late event and no more: not filled."""
        missed, interval = self._unconfirmed
        self._unconfirmed = ([], 0.0)
        went_on = (self.params.max_fill + 1.5) * interval  # a gap that could be filled too
        if not missed or previous is None or t - previous > went_on:
            return []
        self.filled += len(missed)
        return missed

    def _confirm_last_fill(self) -> list[CameraJump]:
        """The bout has ended: no later event can show that the rhythm went on through its
        last gap, but the motion itself can. A missed contact still turns the motion round
        (once per contact for `a`, twice per jump for `b`); a member who stopped and then
        shifted their weight shows no turns in the gap."""
        missed, _interval = self._unconfirmed
        self._unconfirmed = ([], 0.0)
        if not missed or self._last_event_t is None:
            return []
        style = missed[0].style
        since = 2 * missed[0].t - (missed[1].t if len(missed) > 1 else self._last_event_t)
        per_event = 2 if style == "bounce" else 1
        seen = round(self._turns(since, self._last_event_t, style) / per_event)
        confirmed = missed[: max(0, seen - 1)]
        self.filled += len(confirmed)
        self._record(confirmed)
        return confirmed

    def _turns(self, since: float, until: float, style: str) -> int:
        """Reversals of the (high-passed, smoothed) signal between two times whose swing
        from the previous turn is above the trigger's floor (the jitter of still feet)."""
        column = 1 if style == "bounce" else 2
        floor = self.params.min_threshold if style == "bounce" else self.params.min_swap
        values = [h[column] for h in self._history if since <= h[0] <= until]
        turns, direction, extreme = 0, 0, values[0] if values else 0.0
        for v in values[1:]:
            if (direction >= 0 and v > extreme) or (direction <= 0 and v < extreme):
                extreme = v  # still moving the same way
            elif abs(v - extreme) >= floor:  # turned round by more than the jitter
                turns += direction != 0
                direction = 1 if v > extreme else -1
                extreme = v
        return turns

    def _missed(
        self, previous: float | None, t: float, interval: float, style: str
    ) -> list[CameraJump]:
        """Contacts the trigger did not see (a low jump, feet hidden for a moment, the left
        and right labels swapped): a gap of k rhythm intervals holds k - 1 of them."""
        p = self.params
        if previous is None or interval <= 0:
            return []
        gap = t - previous
        if gap < p.fill_ratio * interval:
            return []
        k = min(p.max_fill + 1, round(gap / interval))
        if k < 2:
            return []
        return [CameraJump(previous + gap * i / k, style) for i in range(1, k)]


def count_frames(frames: list[PoseFrame], params: CounterParams = DEFAULT_PARAMS) -> list[float]:
    """All jump times in a recording (convenience for offline use and tests)."""
    counter = CameraJumpCounter(params)
    for frame in frames:
        counter.update(frame)
    counter.finish()
    return [j.t for j in counter.jumps]
