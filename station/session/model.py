"""A member's session: the lifecycle and its statistics, as pure logic on timestamped inputs.

idle → calibrating → active → summary → idle, or summary → calibrating when the next member
steps on while the summary still shows. The runtime feeds an :class:`Observation` every
frame plus jump, landing and light updates; everything here depends only on the timestamps it
is given, so a whole session replays deterministically faster than real time.

A session is a session once it has a jump (:attr:`Session.counts`, the one home of that rule):
someone who steps on and off again without jumping, stands and leaves, or steps back on to scan
the summary's QR code leaves no session behind (``"dropped"``: no summary, nothing to log).
Whoever steps on while a summary shows starts their own session underneath it, and the summary
(with its QR code) stays on the screen until that session's first jump (:meth:`Session.screen`).

Who counts: the mat when it works, the camera otherwise (the summary records which). A session
starts on the mat's presence (a person walking past the camera does not start one) or, with no
working mat, on a person standing in the camera's region of interest for a moment.
"""

from __future__ import annotations

import bisect
import itertools
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from station.events import FAULTS, LightState

Phase = Literal["idle", "calibrating", "active", "summary"]
Change = Literal["idle", "calibrating", "active", "summary", "dropped"]
"""What :meth:`Session.observe` reports: the phase entered, or "dropped" when a session ended
without a jump (no summary; the phase is back to the summary still showing, or idle)."""

SESSION_MIN_JUMPS = 1
"""A session is a session once it has this many jumps (one): the one rule, read by
:attr:`Session.counts` live and by :func:`counts_as_session` (and the session log's
:func:`station.storage.sessions.counted_sql`) for rows already written."""


def counts_as_session(jumps: int) -> bool:
    """Whether a session with `jumps` is a session (logged, summarised, offered to consumers).
    Rows of 0 jumps written by older versions, or begun at a first jump and cut off before
    their first checkpoint, stay in the log but are offered to no one."""
    return jumps >= SESSION_MIN_JUMPS


def in_session(screen: str, jumps: int) -> bool:
    """Whether the station is in a session, as the fleet reports it (the uplink's status
    ``in_session`` and its live progress): the screen shows a session (``calibrating`` or
    ``active``: not idle, not a summary) and that session counts (:func:`counts_as_session`,
    its first jump). Someone calibrating without a jump yet is not in a session (it may be
    dropped, and would then never have been one); the summary screen, even with the next
    person already on the mat, is not either, until their first jump replaces it. `screen`
    is :meth:`Session.screen` (live.json's ``phase``), `jumps` the session's count."""
    return screen in ("calibrating", "active") and counts_as_session(jumps)


CAMERA_PRESENCE_S = 1.0
"""Without a mat, a person must stay in the region of interest this long to start a session."""

CADENCE_WINDOW_S = 6.0
"""Cadence is jumps per minute over this trailing window: long enough to be steady at
60 jumps/min, short enough to follow a member speeding up."""


@dataclass(frozen=True)
class Observation:
    """What the sensors say at time `t`. None means "this sensor cannot tell right now"."""

    t: float
    on_mat: bool | None = None  # None: no working mat
    mat_still: bool = False  # quiet standing, body weight captured (or being captured)
    person_in_view: bool | None = None  # None: no working camera
    baseline_ready: bool = False  # posture baseline captured


@dataclass
class FaultStats:
    seconds: float = 0.0
    warn_seconds: float = 0.0
    onsets: list[float] = field(default_factory=list)  # seconds since the session started


@dataclass
class SessionStats:
    """Running statistics of the session in progress (also the checkpoint payload)."""

    started_t: float
    count_source: Literal["mat", "camera"] = "mat"
    jumps: int = 0
    jump_times: list[float] = field(default_factory=list)
    doubles: int = 0
    streak: int = 0
    best_streak: int = 0
    misses: int = 0
    cadence_series: list[tuple[float, float]] = field(default_factory=list)  # (s, jumps/min)
    faults: dict[str, FaultStats] = field(default_factory=lambda: {f: FaultStats() for f in FAULTS})
    landing_peaks_bw: list[float] = field(default_factory=list)
    landing_rates_bw_s: list[float] = field(default_factory=list)
    hard_landings: int = 0
    active_t: float | None = None
    ended_t: float | None = None


@dataclass(frozen=True)
class SessionSummary:
    """What the summary screen shows and the session log stores: no images, no identity."""

    duration_s: float
    jumps: int
    doubles: int
    best_streak: int
    misses: int
    cadence_avg_per_min: float
    cadence_peak_per_min: float
    cadence_series: tuple[tuple[float, float], ...]
    fault_seconds: Mapping[str, float]
    fault_warn_seconds: Mapping[str, float]
    fault_onsets: Mapping[str, tuple[float, ...]]
    landings: int
    landing_peak_bw_mean: float | None
    landing_peak_bw_max: float | None
    landing_rate_bw_s_mean: float | None
    hard_landings: int
    count_source: str
    top_fault: str | None  # the one fault that matters most (longest time at fault)

    def to_dict(self) -> dict[str, Any]:
        return {
            "duration_s": round(self.duration_s, 3),
            "jumps": self.jumps,
            "doubles": self.doubles,
            "best_streak": self.best_streak,
            "misses": self.misses,
            "cadence_avg_per_min": round(self.cadence_avg_per_min, 2),
            "cadence_peak_per_min": round(self.cadence_peak_per_min, 2),
            "fault_seconds": {k: round(v, 3) for k, v in self.fault_seconds.items()},
            "fault_warn_seconds": {k: round(v, 3) for k, v in self.fault_warn_seconds.items()},
            "fault_onsets": {k: [round(x, 3) for x in v] for k, v in self.fault_onsets.items()},
            "landings": self.landings,
            "landing_peak_bw_mean": _round(self.landing_peak_bw_mean),
            "landing_peak_bw_max": _round(self.landing_peak_bw_max),
            "landing_rate_bw_s_mean": _round(self.landing_rate_bw_s_mean),
            "hard_landings": self.hard_landings,
            "count_source": self.count_source,
            "top_fault": self.top_fault,
        }


class Session:
    """The lifecycle state machine. `settings` is the [session] config section."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = settings
        self.phase: Phase = "idle"
        self.phase_since = 0.0
        self.stats: SessionStats | None = None
        self.last_summary: SessionSummary | None = None
        self.summary_since: float | None = None  # when last_summary went up
        self._over_summary = False  # the session in progress began while a summary showed
        self._present_since: float | None = None
        self._absent_since: float | None = None
        self._last_light_t: float | None = None
        self._lights: dict[str, LightState] = {f: "unknown" for f in FAULTS}

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def counts(self) -> bool:
        """The session in progress is a session: it has a jump. Only then is it logged, shown
        as a summary, published or given a take-home page."""
        return self.stats is not None and counts_as_session(self.stats.jumps)

    def screen(self, t: float) -> Phase:
        """What the screen shows at `t`: the phase, except that the last summary stays up over
        a session that has no jump yet (the member who just finished stepping back on to scan
        their QR code, or the next one, whose count replaces it at their first jump)."""
        return "summary" if self.summary_waiting(t) else self.phase

    def summary_waiting(self, t: float) -> bool:
        """The summary is up over a new session that has not jumped yet."""
        return (
            self.phase in ("calibrating", "active")
            and self.last_summary is not None
            and self.summary_since is not None
            and self.summary_since <= t
            and not self.counts
            and self._over_summary
        )

    def summary_left_s(self, t: float) -> float:
        """Seconds until the summary gives way to the idle screen (0 once its time is up)."""
        if self.summary_since is None:
            return 0.0
        return max(0.0, self.summary_since + self.settings["summary_s"] - t)

    def observe(self, obs: Observation) -> Change | None:
        """Advance the lifecycle; returns the new phase when it changed, or "dropped"."""
        present = self._present(obs)
        if present:
            self._absent_since = None
            self._present_since = self._present_since if self._present_since is not None else obs.t
        else:
            self._present_since = None
            self._absent_since = self._absent_since if self._absent_since is not None else obs.t
        if self.phase == "idle":
            return self._from_idle(obs)
        if self.phase == "calibrating":
            return self._from_calibrating(obs, present)
        if self.phase == "active":
            return self._from_active(obs)
        return self._from_summary(obs)

    def _present(self, obs: Observation) -> bool:
        if obs.on_mat is not None:
            return obs.on_mat
        return bool(obs.person_in_view)

    def _from_idle(self, obs: Observation) -> Phase | None:
        if not self._someone_arrived(obs):
            return None
        return self._begin(obs)

    def _someone_arrived(self, obs: Observation) -> bool:
        """On the mat (it has one), or in the camera's view for a moment (it has none)."""
        if self._present_since is None:
            return False
        needed = 0.0 if obs.on_mat is not None else CAMERA_PRESENCE_S
        return obs.t - self._present_since >= needed

    def _begin(self, obs: Observation) -> Phase:
        self._over_summary = self.phase == "summary"
        self.stats = SessionStats(started_t=obs.t)
        self.stats.count_source = "mat" if obs.on_mat is not None else "camera"
        return self._enter("calibrating", obs.t)

    def _drop(self, t: float) -> Change:
        """A session without a jump ended: it was no session. Back to the summary it began
        over while that still has time, else to idle."""
        self.stats = None
        back: Phase = "summary" if self._over_summary and self.summary_left_s(t) > 0 else "idle"
        self._enter(back, t)
        return "dropped"

    def _from_calibrating(self, obs: Observation, present: bool) -> Change | None:
        if not present and obs.t - (self._absent_since or obs.t) >= 1.0:
            return self._drop(obs.t)  # stepped on and straight off again
        waited = obs.t - self.phase_since
        mat_ready = obs.on_mat is None or obs.mat_still
        cam_ready = obs.person_in_view is None or obs.baseline_ready
        jumping = self.counts
        # Start when both sensors have their baseline, or when the member starts jumping
        # anyway, or after twice the calibration time (a fidgety member still gets counted).
        if (
            (mat_ready and cam_ready and waited >= self.settings["calibrate_s"])
            or jumping
            or (waited >= 2 * self.settings["calibrate_s"])
        ):
            assert self.stats is not None
            self.stats.active_t = obs.t
            return self._enter("active", obs.t)
        return None

    def _from_active(self, obs: Observation) -> Change | None:
        if self._absent_since is not None and (
            obs.t - self._absent_since >= self.settings["end_after_off_s"]
        ):
            if not self.counts:
                return self._drop(obs.t)  # stood and left without a jump
            # The session ended when the member left, not when we noticed.
            self.last_summary = self.finish(self._absent_since)
            self.summary_since = obs.t
            return self._enter("summary", obs.t)
        return None

    def _from_summary(self, obs: Observation) -> Phase | None:
        # Whoever steps on while the summary shows starts a session of their own at once,
        # counted from their first jump (the member it belongs to left at least
        # end_after_off_s ago); the summary stays on the screen until that first jump.
        if self._someone_arrived(obs):
            return self._begin(obs)
        if self.summary_left_s(obs.t) <= 0:
            self.stats = None
            return self._enter("idle", obs.t)
        return None

    def _enter(self, phase: Phase, t: float) -> Phase:
        self.phase = phase
        self.phase_since = t
        self._last_light_t = None
        self._lights = {f: "unknown" for f in FAULTS}
        return phase

    # --- what happens during a session -----------------------------------------------------

    def add_jump(self, t: float, *, double: bool = False) -> None:
        """A counted jump (from the mat, or from the camera when it is the counter)."""
        if self.stats is None or self.phase not in ("calibrating", "active"):
            return
        s = self.stats
        if s.jump_times and self._is_miss(t - s.jump_times[-1]):
            s.misses += 1
            s.streak = 0
        s.jumps += 1
        s.doubles += int(double)
        # The camera reports a contact it filled from the rhythm late, with the event that
        # confirmed it, so its time can precede jumps already added: kept in time order for
        # the cadence, the span and the summary's chart.
        bisect.insort(s.jump_times, t)
        s.streak += 1
        s.best_streak = max(s.best_streak, s.streak)
        bisect.insort(s.cadence_series, (t - s.started_t, self.cadence(t)))

    def _is_miss(self, gap: float) -> bool:
        """A trip or a stop breaks the streak: a gap well beyond the member's own rhythm."""
        assert self.stats is not None
        times = self.stats.jump_times[-9:]
        intervals = [b - a for a, b in itertools.pairwise(times)]
        usual = statistics.median(intervals) if len(intervals) >= 3 else 0.5
        return gap > max(1.0, 2.5 * usual)

    def add_landing(self, peak_bw: float | None, rate_bw_s: float | None, hard: bool) -> None:
        if self.stats is None or self.phase != "active":
            return
        if peak_bw is not None:
            self.stats.landing_peaks_bw.append(peak_bw)
        if rate_bw_s is not None:
            self.stats.landing_rates_bw_s.append(rate_bw_s)
        self.stats.hard_landings += int(hard)

    def update_lights(self, t: float, lights: Mapping[str, LightState]) -> None:
        """Accumulate time at warn/fault and record onsets (only while active)."""
        if self.stats is None or self.phase != "active":
            return
        dt = 0.0 if self._last_light_t is None else max(0.0, t - self._last_light_t)
        since_start = t - self.stats.started_t
        for fault in FAULTS:
            before = self._lights[fault]
            now = lights.get(fault, "unknown")
            stats = self.stats.faults[fault]
            if before == "fault":
                stats.seconds += dt
            elif before == "warn":
                stats.warn_seconds += dt
            if now == "fault" and before != "fault":
                stats.onsets.append(since_start)
            self._lights[fault] = now
        self._last_light_t = t

    def cadence(self, t: float) -> float:
        """Jumps per minute over the trailing window."""
        if self.stats is None:
            return 0.0
        recent = [x for x in self.stats.jump_times if t - CADENCE_WINDOW_S < x <= t]
        if len(recent) < 2:
            return 0.0
        span = recent[-1] - recent[0]
        return 60.0 * (len(recent) - 1) / span if span > 0 else 0.0

    def elapsed(self, t: float) -> float:
        if self.stats is None:
            return 0.0
        return max(0.0, t - (self.stats.active_t or self.stats.started_t))

    def finish(self, end_t: float) -> SessionSummary:
        """The session ended at `end_t`: its final summary."""
        assert self.stats is not None
        self.stats.ended_t = end_t
        return self.snapshot(end_t)

    def snapshot(self, end_t: float) -> SessionSummary:
        """The summary as it stands at `end_t` (checkpoints use this mid-session)."""
        assert self.stats is not None
        s = self.stats
        self.update_lights(end_t, self._lights)
        rates = [c for _, c in s.cadence_series if c > 0]
        start = s.active_t or s.started_t
        span = (s.jump_times[-1] - s.jump_times[0]) if len(s.jump_times) > 1 else 0.0
        fault_s = {f: s.faults[f].seconds for f in FAULTS}
        top = max(FAULTS, key=lambda f: fault_s[f])
        peaks = s.landing_peaks_bw
        return SessionSummary(
            duration_s=max(0.0, end_t - start),
            jumps=s.jumps,
            doubles=s.doubles,
            best_streak=s.best_streak,
            misses=s.misses,
            cadence_avg_per_min=60.0 * (len(s.jump_times) - 1) / span if span > 0 else 0.0,
            cadence_peak_per_min=max(rates, default=0.0),
            cadence_series=tuple(s.cadence_series),
            fault_seconds=fault_s,
            fault_warn_seconds={f: s.faults[f].warn_seconds for f in FAULTS},
            fault_onsets={f: tuple(s.faults[f].onsets) for f in FAULTS},
            landings=len(peaks),
            landing_peak_bw_mean=statistics.fmean(peaks) if peaks else None,
            landing_peak_bw_max=max(peaks) if peaks else None,
            landing_rate_bw_s_mean=(
                statistics.fmean(s.landing_rates_bw_s) if s.landing_rates_bw_s else None
            ),
            hard_landings=s.hard_landings,
            count_source=s.count_source,
            top_fault=top if fault_s[top] > 0 else None,
        )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
