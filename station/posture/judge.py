"""The posture lights, one per fault: metric samples → windowed value → ok / warn / fault /
unknown.

Pure logic on timestamped frames: time comes only from `PoseFrame.t`, so a session replays
faster than real time and tests drive it with plain arrays. Per fault, each frame gives at most
one sample of the metric; the light is judged on the median of the samples inside the last
`posture.window_s` seconds, with hysteresis (a lit light needs the value to fall a margin below
the level that lit it) and a hold time (a new reading must persist `hold_s` before the light
changes). A light reads `unknown` when its metric cannot be measured from this placement, is
disabled, or has had no sample for `posture.unknown_after_s`.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from station.config.loader import Config
from station.events import LightState, PoseFrame
from station.faults.registry import specs
from station.faults.spec import FaultSpec
from station.posture.body import Body, NotVisible
from station.posture.metrics import FEET, Metric, NotMeasurable, foot_low_point

ConfigLike = Config | Mapping[str, Mapping[str, Any]]
"""A station Config, or the same nested mapping (e.g. `Config.to_dict()`)."""
RANK: dict[str, int] = {"ok": 0, "warn": 1, "fault": 2}
STATES: tuple[LightState, ...] = ("ok", "warn", "fault")
ESCALATE: tuple[LightState, ...] = ("fault", "warn")
RELAX: tuple[LightState, ...] = ("ok", "warn")
APPROACH_S = 0.25
"""A foot's angle up to this long before its touchdown frame counts as its approach."""
MIN_LANDING_FPS = 8.0
"""Below this pose frame rate a touchdown is caught at a random point of the contact (5 frames/s
at 120 jumps/min is 2.5 frames per jump; the simulator's heel landings then drown in false
warnings): the camera's landing light reads unknown. At 8 frames/s it still agreed with them."""


@dataclass(frozen=True)
class Light:
    """One light as the screen and the trainer console show it.

    `value` is the windowed metric the state is judged on; `frame_value` this frame's sample
    (None when this frame gave none); `warn`/`fault` the levels in force, in `unit`; a lower
    value is worse when `higher_is_worse` is False. `reason` says why a light is unknown."""

    fault: str
    state: LightState
    value: float | None
    frame_value: float | None
    raw: float | None
    warn: float
    fault_level: float
    unit: str
    higher_is_worse: bool
    since: float
    reason: str = ""


@dataclass(frozen=True)
class Lights:
    """All five lights at time `t`. `baseline` is 'none' (never started: population defaults),
    'collecting', or 'ready'."""

    t: float
    lights: Mapping[str, Light]
    baseline: str
    placement: str
    pose: bool

    def __getitem__(self, fault: str) -> Light:
        return self.lights[fault]

    def states(self) -> dict[str, LightState]:
        return {f: light.state for f, light in self.lights.items()}


@dataclass(frozen=True)
class Thresholds:
    enabled: bool
    warn: float
    fault: float
    hold_s: float


@dataclass(frozen=True)
class PostureSettings:
    placement: str
    min_visibility: float
    window_s: float
    baseline_s: float
    hysteresis: float
    unknown_after_s: float
    min_samples: int
    preset: str
    thresholds: Mapping[str, Thresholds]
    faults: tuple[FaultSpec, ...]
    """The faults judged, from the registry when the settings were made."""

    @classmethod
    def from_config(
        cls,
        config: ConfigLike,
        *,
        placement: str | None = None,
        preset: str | None = None,
    ) -> PostureSettings:
        """From a station Config (or the same nested mapping, e.g. `Config.to_dict()`)."""
        posture: Mapping[str, Any] = config["posture"]
        name = preset or str(posture["preset"])
        presets: Mapping[str, Any] = config["presets"]
        if name not in presets:
            raise KeyError(f"posture.preset = {name!r}: no such preset")
        chosen: Mapping[str, Any] = presets[name]
        thresholds = {}
        faults = specs()
        for spec in faults:
            t = chosen[spec.thresholds.section]
            thresholds[spec.name] = Thresholds(
                bool(t["enabled"]), float(t["warn"]), float(t["fault"]), float(t["hold_s"])
            )
        return cls(
            placement=placement or str(config["camera"]["placement"]),
            min_visibility=float(config["pose"]["min_visibility"]),
            window_s=float(posture["window_s"]),
            baseline_s=float(posture["baseline_s"]),
            hysteresis=float(posture["hysteresis"]),
            unknown_after_s=float(posture["unknown_after_s"]),
            min_samples=int(posture["min_samples"]),
            preset=name,
            thresholds=thresholds,
            faults=faults,
        )


class TouchdownFinder:
    """Finds the frames where each foot comes down, from the image height of its lowest point.

    The floor is the lowest the foot has been in the last window; a foot is in contact when
    within `band` leg lengths of it, and a touchdown is the first contact frame after being up.
    At 5–15 frames/s the touchdown frame is the first one caught on the ground, which is where
    a heel-first landing shows."""

    def __init__(self, window_s: float, band: float = 0.06) -> None:
        self.window_s = window_s
        self.band = band
        self._times: dict[str, deque[float]] = {s: deque() for s in FEET}
        self._lows: dict[str, deque[float]] = {s: deque() for s in FEET}
        self._down: dict[str, bool] = dict.fromkeys(FEET, True)

    def reset(self) -> None:
        for side in FEET:
            self._times[side].clear()
            self._lows[side].clear()
        self._down = dict.fromkeys(FEET, True)

    def touchdowns(self, t: float, body: Body) -> list[str]:
        found = []
        for side in FEET:
            try:
                low, leg = foot_low_point(body, side)
            except NotVisible:
                continue
            times, lows = self._times[side], self._lows[side]
            times.append(t)
            lows.append(low)
            while times and times[0] < t - self.window_s:
                times.popleft()
                lows.popleft()
            floor = max(lows)  # image y grows downward
            down = low >= floor - self.band * leg
            if down and not self._down[side] and len(lows) > 2:
                found.append(side)
            self._down[side] = down
        return found


@dataclass
class _LightTrack:
    """The mutable state behind one light."""

    state: LightState = "unknown"
    since: float = -math.inf
    samples: deque[tuple[float, float]] = field(default_factory=deque)
    last_sample_t: float = -math.inf
    # when the target reading last started to be at least (worse) / at most (better) each level
    worse_since: dict[str, float] = field(default_factory=dict)
    better_since: dict[str, float] = field(default_factory=dict)
    known_since: float | None = None


class PostureJudge:
    """Turns pose frames into the five lights. One instance per station; `reset()` per member.

    Typical use: `start_baseline()` when a member steps on and is asked to stand tall, then
    `update(frame)` for every PoseFrame; `baseline_ready` turns True after `posture.baseline_s`
    of frames. Without a baseline the population defaults in station.posture.metrics are used.
    """

    def __init__(
        self,
        config: ConfigLike,
        *,
        placement: str | None = None,
        preset: str | None = None,
    ) -> None:
        self.settings = PostureSettings.from_config(config, placement=placement, preset=preset)
        self._faults = self.settings.faults
        self._names = tuple(spec.name for spec in self._faults)
        self._metrics = {spec.name: spec.metric for spec in self._faults}
        self._touchdowns = TouchdownFinder(self.settings.window_s)
        self.reset()

    # --- lifecycle --------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the member: baseline, windows and light states."""
        self._tracks = {f: _LightTrack() for f in self._names}
        self._baseline_samples: dict[str, list[float]] | None = None
        self._baseline_start: float | None = None
        self._baseline: dict[str, float] = {}
        self._baseline_status = "none"
        self._touchdowns.reset()
        # (fault, foot) -> (time, sample) of the foot's last frame, for its touchdown approach
        self._last_foot: dict[tuple[str, str], tuple[float, float]] = {}
        self._last_frame_t: float | None = None
        self._frame_dts: deque[float] = deque(maxlen=30)

    def start_baseline(self) -> None:
        """Measure the member's baseline from the next `baseline_s` seconds of frames."""
        self._baseline_samples = {f: [] for f in self._names}
        self._baseline_start = None
        self._baseline = {}
        self._baseline_status = "collecting"
        for track in self._tracks.values():
            track.samples.clear()

    @property
    def baseline_ready(self) -> bool:
        return self._baseline_status == "ready"

    @property
    def baseline(self) -> dict[str, float | None]:
        """The baseline in force per fault (raw units), after clamping; None if not used."""
        return {f: m.clamp_baseline(self._baseline.get(f)) for f, m in self._metrics.items()}

    @property
    def measured_baseline(self) -> dict[str, float]:
        """The member's own baseline values (raw units), measured or set; a fault left on
        the population default is absent (:attr:`baseline` fills it with the default)."""
        return dict(self._baseline)

    def own_baseline(self) -> dict[str, bool]:
        """Per fault the camera judges against a baseline (enabled, measurable from this
        placement; not arms, which is judged absolutely): True when the member's own
        baseline is in force (measured while they stood tall, or carried over a config
        reload), False when the population default is: no baseline yet, or the calibration
        could not measure it (the feet out of the picture leave back and landing on the
        defaults, as `station analyze`'s `baseline.legs` says for a recording)."""
        s = self.settings
        return {
            fault: self.baseline_ready and fault in self._baseline
            for fault, metric in self._metrics.items()
            if s.thresholds[fault].enabled
            and s.placement in metric.placements
            and metric.baseline_range is not None
        }

    def measure_baseline(self, frames: Iterable[PoseFrame]) -> None:
        """Take the baseline from these frames at once (a recording's standing stretch, see
        station.posture.baseline), the median of each raw quantity as `start_baseline` does."""
        samples: dict[str, list[float]] = {f: [] for f in self._names}
        for frame in frames:
            body = Body.from_frame(frame, self.settings.min_visibility)
            for fault, metric in self._metrics.items():
                raw, _ = self._measure(metric, body)
                if raw is not None:
                    samples[fault].append(raw)
        self._settle_baseline(samples)

    def _settle_baseline(self, samples: Mapping[str, list[float]]) -> None:
        need = self.settings.min_samples
        self._baseline = {f: float(np.median(v)) for f, v in samples.items() if len(v) >= need}
        self._baseline_samples = None
        self._baseline_status = "ready"

    def set_baseline(self, values: Mapping[str, float]) -> None:
        """Use a known baseline (e.g. a trainer-saved one) instead of measuring it."""
        self._baseline = {f: float(v) for f, v in values.items() if f in self._metrics}
        self._baseline_samples = None
        self._baseline_status = "ready"

    # --- per frame --------------------------------------------------------------------------

    def update(self, frame: PoseFrame) -> Lights:
        s = self.settings
        t = float(frame.t)
        if self._last_frame_t is not None and t > self._last_frame_t:
            self._frame_dts.append(t - self._last_frame_t)
        self._last_frame_t = t
        body = Body.from_frame(frame, s.min_visibility)
        raws: dict[str, float | None] = {}
        reasons: dict[str, str] = {}
        for fault, metric in self._metrics.items():
            raws[fault], reasons[fault] = self._measure(metric, body)
        if self._baseline_status == "collecting":
            return self._collect_baseline(t, body is not None, raws, reasons)
        samples = self._samples(t, body, raws, reasons)
        lights = {f: self._judge(f, t, samples[f], raws[f], reasons[f]) for f in self._names}
        return Lights(t, lights, self._baseline_status, s.placement, body is not None)

    def _measure(self, metric: Metric, body: Body | None) -> tuple[float | None, str]:
        if not self.settings.thresholds[metric.fault].enabled:
            return None, "disabled"
        if self.settings.placement not in metric.placements:
            return None, f"not measurable from a {self.settings.placement} camera"
        if body is None:
            return None, "nobody in view"
        try:
            return metric.raw(body, self.settings.placement), ""
        except NotVisible as exc:
            return None, f"not visible: {exc}"
        except NotMeasurable as exc:
            return None, str(exc)

    def _samples(
        self, t: float, body: Body | None, raws: Mapping[str, float | None], reasons: dict[str, str]
    ) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        landed: list[str] | None = None  # the feet touching down in this frame, found once
        for spec in self._faults:
            fault, metric = spec.name, spec.metric
            raw = raws[fault]
            if spec.sampled == "touchdown":
                measurable = raw is not None
                raw = None
                if measurable and body is not None:
                    if landed is None:
                        landed = self._touchdowns.touchdowns(t, body)
                    raw = self._at_touchdown(spec, t, body, landed)
                fps = self.frame_rate()
                if measurable and fps < MIN_LANDING_FPS:
                    reasons[fault] = f"{fps:.1f} frames/s is too few to see touchdowns"
                    raw = None
            base = metric.clamp_baseline(self._baseline.get(fault))
            value = None if raw is None else metric.value(raw, base)
            if value is not None and not math.isfinite(value):
                value, reasons[fault] = None, "not measurable"
            out[fault] = value
        return out

    def frame_rate(self) -> float:
        """Pose frames per second over the recent frames (infinite until two have come)."""
        if not self._frame_dts:
            return math.inf
        return 1.0 / max(statistics.median(self._frame_dts), 1e-6)

    def _at_touchdown(
        self, spec: FaultSpec, t: float, body: Body, landed: list[str]
    ) -> float | None:
        """The worst sample of the feet touching down in this frame, or None.

        At 5–15 frames/s the touchdown itself usually falls between two frames, so the foot's
        sample in the last frame before touchdown (its approach: a foot coming down toes-up lands
        heel first) counts as well as the one in the first frame on the ground."""
        assert spec.at_touchdown is not None
        now: dict[str, float] = {}
        for side in FEET:
            try:
                now[side] = spec.at_touchdown(body, self.settings.placement, side)
            except (NotVisible, NotMeasurable):
                continue
        samples = []
        for side in landed:
            if side not in now:
                continue
            samples.append(now[side])
            before = self._last_foot.get((spec.name, side))
            if before is not None and t - before[0] <= APPROACH_S:
                samples.append(before[1])
        for side, sample in now.items():
            self._last_foot[spec.name, side] = (t, sample)
        if not samples:
            return None
        return max(samples) if spec.metric.higher_is_worse else min(samples)

    def _collect_baseline(
        self, t: float, pose: bool, raws: Mapping[str, float | None], reasons: Mapping[str, str]
    ) -> Lights:
        assert self._baseline_samples is not None
        if self._baseline_start is None and pose:
            self._baseline_start = t
        for fault, raw in raws.items():
            if raw is not None:
                self._baseline_samples[fault].append(raw)
        start = self._baseline_start
        if start is not None and t - start >= self.settings.baseline_s:
            self._settle_baseline(self._baseline_samples)
        lights = {}
        for fault, metric in self._metrics.items():
            th = self.settings.thresholds[fault]
            lights[fault] = Light(
                fault, "unknown", None, None, raws[fault], th.warn, th.fault, metric.unit,
                metric.higher_is_worse, t, reasons[fault] or "measuring the baseline",
            )  # fmt: skip
        return Lights(t, lights, "collecting", self.settings.placement, pose)

    # --- the light state machine ------------------------------------------------------------

    def _judge(
        self, fault: str, t: float, sample: float | None, raw: float | None, reason: str
    ) -> Light:
        s = self.settings
        th = s.thresholds[fault]
        metric = self._metrics[fault]
        track = self._tracks[fault]
        if sample is not None:
            track.samples.append((t, sample))
            track.last_sample_t = t
        while track.samples and track.samples[0][0] <= t - s.window_s:
            track.samples.popleft()
        value: float | None = None
        if len(track.samples) >= s.min_samples:
            value = float(statistics.median(v for _, v in track.samples))
        if t - track.last_sample_t >= s.unknown_after_s:
            self._set(track, "unknown", t)
            track.known_since = None
            track.worse_since.clear()
            track.better_since.clear()
            reason = reason or f"no measurement for {s.unknown_after_s:g} s"
        else:
            if value is not None:
                self._step(track, self._target(value, track.state, th, metric), t, th.hold_s)
            reason = ""
            if track.state == "unknown":
                reason = "measuring" if value is None else "waiting for a steady reading"
        return Light(
            fault, track.state, value, sample, raw, th.warn, th.fault, metric.unit,
            metric.higher_is_worse, track.since, reason,
        )  # fmt: skip

    def _target(self, value: float, current: str, th: Thresholds, metric: Metric) -> LightState:
        """The level `value` reads at, with hysteresis toward the current state."""
        sign = 1.0 if metric.higher_is_worse else -1.0
        v, warn, fault = sign * value, sign * th.warn, sign * th.fault
        margin = self.settings.hysteresis * abs(fault - warn)
        rank = RANK.get(current, -1)
        if v >= fault or (rank >= 2 and v >= fault - margin):
            return "fault"
        if v >= warn or (rank >= 1 and v >= warn - margin):
            return "warn"
        return "ok"

    def _step(self, track: _LightTrack, target: LightState, t: float, hold_s: float) -> None:
        if track.state == "unknown":
            # The first reading after unknown is not a change of a shown state: it shows as
            # soon as the window holds posture.min_samples (a median already), so a member
            # stepping into view is judged from their first half second, not after the hold.
            if track.known_since is None:
                track.known_since = t
            self._set(track, target, t)
            return
        target_rank = RANK[target]
        for level in STATES:
            r = RANK[level]
            if target_rank >= r:
                track.worse_since.setdefault(level, t)
            else:
                track.worse_since.pop(level, None)
            if target_rank <= r:
                track.better_since.setdefault(level, t)
            else:
                track.better_since.pop(level, None)
        current = RANK[track.state]
        # escalate to the worst level that has held; otherwise relax to the best that has held
        for level in ESCALATE:
            if RANK[level] > current and t - track.worse_since.get(level, math.inf) >= hold_s:
                self._set(track, level, t)
                return
        for level in RELAX:
            if RANK[level] < current and t - track.better_since.get(level, math.inf) >= hold_s:
                self._set(track, level, t)
                return

    @staticmethod
    def _set(track: _LightTrack, state: LightState, t: float) -> None:
        if track.state != state:
            track.state = state
            track.since = t
