"""The mat's signal pipeline: pure code on timestamped force samples.

Feed it blocks of calibrated samples (`t` seconds, `force[i, zone]` newtons) in time order;
it finds who is on the mat, their body weight, every contact and flight, and judges each
landing. It is a state machine driven sample by sample, so feeding a recording in 5 ms blocks
or all at once gives identical results (tests check this), and it needs no clock but the
samples' own timestamps.

How it decides, in order:

* **Contact / flight.** The total force over all zones crosses hysteresis thresholds that are
  relative to body weight with an absolute floor (``contact_on_bw``, ``contact_off_bw``,
  ``floor_n``). An unloading shorter than ``min_flight_s`` is part of the contact (the
  double-contact filter: feet touching twice, a plate ringing); a loading shorter than
  ``min_contact_s`` is a glitch.
* **Landing or step.** A contact after a flight is a landing if the flight began with a jump's
  push-off (the force fell from half its peak to nothing within ``PUSH_OFF_S``) or if it is an
  impact (the force reaches half body weight within ``impact_rise_s``). A foot lifted and put
  down slowly - one plate of a two-plate mat while stepping - is neither, and arriving on an
  empty mat counts only as an impact (a drop landing), never as stepping on. A recording that
  starts loaded has no touchdown to judge, so its first contact is never a landing.
* **Body weight.** Impulse-momentum (``station.mat.weight``): the mean force over a stretch
  that starts and ends with the centre of mass at rest is the body weight, and the centre of
  mass of someone on the mat stays within a few centimetres. A least-squares fit of the
  force's first and second integrals to flight apexes (at rest, exactly) and standing chunks
  (bounded height) gives the weight and its uncertainty; it is refined all stay long. Quiet
  standing (``quiet_s``, standard deviation within ``quiet_tolerance_pct``) is its
  cross-check and the first value used, until the fit has settled (``SETTLED_PCT``). Landings
  that happen before any weight is known are held and judged as soon as it is (their events
  then arrive late, with their true touchdown times). Stepping off ends the stay: each
  session captures its own.
* **Per landing** (emitted at the take-off that ends its contact, or when the contact becomes a
  stop): peak force, loading rate and time to the first force peak within ``impact_window_s``,
  heel-first contact when a ``*_heel`` zone exists, left/right asymmetry when ``left*`` and
  ``right*`` zones exist, single or double-under from the flight time, and the hard-landing
  verdict with its reasons.
* **Per session**: count, rolling cadence, streaks; a contact longer than ``stop_contact_s`` is a
  stop (it breaks the streak; jumping again after it counts a miss); an empty mat for longer
  than ``step_off_s`` is stepping off.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from station.events import DeviceStatus, Event, Landing, MatPresence
from station.mat.settings import MatSettings
from station.mat.weight import STAND_BAND, STEP_OFF_GUARD_S, ImpulseWeight, WeightEstimate

if TYPE_CHECKING:
    from station.config.loader import Config

FloatArray = NDArray[np.float64]

QUIET_CHUNKS = 10
"""Quiet standing is judged over this many consecutive chunks of quiet_s / QUIET_CHUNKS."""

SHORT_QUIET_CHUNKS = 5
"""If no full quiet_s of quiet standing comes before the member stops or steps off, the
quietest half of it (this many chunks) stands in, so landings are still judged."""

FORCED_PCT = 5.0
"""... and when a landing cannot wait (a stop, stepping off), an unsettled fit within this
share is better than nothing (a stance of under a second says little)."""

SETTLED_PCT = 1.0
"""The impulse-momentum weight is used (and held landings judged) once its standard error is
within this share of it; before that only quiet standing, or a forced judgement, sets it."""

DEAD_ZONE_LANDINGS = 10
"""A zone that carries nothing through this many landings in a row is reported dead."""

DEAD_ZONE_SHARE = 0.02
"""... where "nothing" is a peak under this share of the landing's total peak."""

PEAK_HALF_WIDTH = 5
"""A force peak is a sample no lower than its neighbours this many samples either side."""

SMOOTH_SAMPLES = 5
"""Loading rate is measured on a moving average this long (one-sample spikes are not peaks)."""

PEAK_PLATEAU = 0.01
"""The time of a force peak is the middle of the stretch around it where the force stays
within this share of the peak. A soft landing's peak is flat (a half-sine of 0.2-0.3 s stays
within 1 % of its top for ±10 ms), so the sample where it happens to be highest is decided by
sensor noise, and one ms of it is 1 % of the loading rate; the plateau's middle is not. A
sharp peak (a heel slap's) is one or two samples wide, so it is its own middle."""

PUSH_OFF_S = 0.1
"""A take-off is a jump's push-off when the force falls from half its recent peak to nothing
within this time (22-65 ms in the force-plate recordings; a foot lifted to step takes
130-150 ms). A flight that began with a push-off ends in a landing however soft."""

PUSH_OFF_WINDOW_S = 0.4
"""... where "recent" is this long before the take-off."""

PROBLEM_REPEAT_S = 5.0
"""An input problem that goes on is reported again (as a DeviceStatus) at most this often."""

HEEL_WINDOW_S = 0.01
"""Heel-first: heel zones carry most of the force over this long after touchdown."""


@dataclass(frozen=True)
class PipelineParams:
    """Everything the pipeline needs, from `[mat]` and the preset's `landing` thresholds."""

    sample_rate_hz: float = 1000.0
    floor_n: float = 30.0
    contact_on_bw: float = 0.08
    contact_off_bw: float = 0.03
    min_flight_s: float = 0.05
    min_contact_s: float = 0.015
    impact_rise_s: float = 0.04
    impact_window_s: float = 0.25
    quiet_s: float = 1.0
    quiet_tolerance_pct: float = 2.5
    step_off_s: float = 1.0
    stop_contact_s: float = 0.6
    double_under_flight_s: float = 0.33
    cadence_window_s: float = 6.0
    judge_landings: bool = True
    peak_warn_bw: float = 3.5
    peak_fault_bw: float = 5.0
    loading_rate_warn_bw_s: float = 100.0
    loading_rate_fault_bw_s: float = 170.0
    heel_first_is_fault: bool = True

    @classmethod
    def from_sections(
        cls,
        mat: MatSettings,
        landing: Mapping[str, Any] | None = None,
        sample_rate_hz: float | None = None,
    ) -> PipelineParams:
        """From the `[mat]` section and one preset's `landing` table; `sample_rate_hz` (a
        recording's own) overrides mat.sample_rate_hz."""
        # the [mat] keys the pipeline reads are the fields both have, by the same name
        shared = {f.name for f in fields(cls)} & {f.name for f in fields(mat)}
        kw: dict[str, Any] = {name: getattr(mat, name) for name in shared}
        kw["sample_rate_hz"] = float(sample_rate_hz or mat.sample_rate_hz)
        if landing is not None:
            kw.update(
                judge_landings=bool(landing["enabled"]),
                peak_warn_bw=float(landing["peak_warn_bw"]),
                peak_fault_bw=float(landing["peak_fault_bw"]),
                loading_rate_warn_bw_s=float(landing["loading_rate_warn_bw_s"]),
                loading_rate_fault_bw_s=float(landing["loading_rate_fault_bw_s"]),
                heel_first_is_fault=bool(landing["heel_first_is_fault"]),
            )
        return cls(**kw)

    @classmethod
    def from_config(cls, config: Config, sample_rate_hz: float | None = None) -> PipelineParams:
        """From a whole station config: `[mat]` and the landing table of `posture.preset`."""
        preset = config["posture"]["preset"]
        landing = config["presets"][preset]["landing"]
        return cls.from_sections(MatSettings.from_config(config), landing, sample_rate_hz)


@dataclass
class MatState:
    """What the runtime and the screen read between events. Updated by the pipeline only."""

    on_mat: bool = False
    still: bool = False  # quiet standing right now (the last quiet_s)
    body_weight_n: float | None = None
    body_weight_source: str = ""  # "quiet standing", "impulse-momentum", "short quiet standing"
    body_weight_sd_n: float | None = None  # its standard error
    count: int = 0
    doubles: int = 0
    streak: int = 0
    best_streak: int = 0
    misses: int = 0
    hard_landings: int = 0
    cadence_per_min: float | None = None
    last_landing: Landing | None = None
    zone_status: dict[str, str] = field(default_factory=dict)  # zone -> "ok" or the problem
    problems: list[str] = field(default_factory=list)  # input problems, newest last (max 10)

    @property
    def degraded(self) -> bool:
        return any(s != "ok" for s in self.zone_status.values())


@dataclass
class _Contact:
    td_t: float
    td_g: int
    mark_g: int  # the sample that crossed the contact threshold (cycle bookkeeping)
    takeoff_t: float | None  # the take-off that began the flight ending here
    seen_touchdown: bool
    after_push_off: bool  # the flight before it began with a jump's push-off
    close_t: float = math.inf
    closed_by_takeoff: float | None = None
    window_t: FloatArray | None = None
    window_f: FloatArray | None = None  # samples × zones


class Tally:
    """The session's counting, shared by the force and the contact-switch pipelines: count,
    doubles, hard landings, streaks, misses (jumping again after a stop) and rolling cadence."""

    def __init__(self, state: MatState, cadence_window_s: float) -> None:
        self.state = state
        self.window = cadence_window_s
        self._times: deque[float] = deque()
        self._stopped = False

    def landing(self, t: float, double: bool, hard: bool) -> None:
        st = self.state
        if self._stopped:
            st.misses += 1
            self._stopped = False
        st.count += 1
        st.doubles += int(double)
        st.hard_landings += int(hard)
        st.streak += 1
        st.best_streak = max(st.best_streak, st.streak)
        self._times.append(t)
        while self._times[0] < t - self.window:
            self._times.popleft()
        n, span = len(self._times), self._times[-1] - self._times[0]
        st.cadence_per_min = 60.0 * (n - 1) / span if n >= 2 and span > 0 else None

    def break_streak(self, stop: bool) -> None:
        """A stop after jumping (jumping again will count a miss), or a step (no miss)."""
        if stop and self.state.streak > 0:
            self._stopped = True
        self.state.streak = 0

    def end_presence(self) -> None:
        """Stepped off: the streak ends; a final stop was not a miss."""
        self.state.streak = 0
        self._stopped = False


class _History:
    """The last few seconds of samples, by global sample index, for the landing windows."""

    def __init__(self, zones: int, keep: int) -> None:
        self.keep = keep
        self.start_g = 0  # global index of row 0
        self.n = 0  # rows in use
        self.t: FloatArray = np.empty(4 * keep)
        self.f: FloatArray = np.empty((4 * keep, zones))
        self.total: FloatArray = np.empty(4 * keep)

    def append(self, t: FloatArray, f: FloatArray, total: FloatArray) -> None:
        # Keep `keep` samples from before this block, whatever the block size: the windows of
        # contacts that close during this block may reach back that far. Rows are appended in
        # place and compacted only when the buffer fills (a few times a second at most).
        m = len(t)
        if self.n + m > len(self.t):
            drop = max(0, self.n - self.keep)
            kept = self.n - drop
            size = max(len(self.t), 2 * (kept + m))
            for name in ("t", "f", "total"):
                old = getattr(self, name)
                new = np.empty((size, *old.shape[1:]))
                new[:kept] = old[drop : self.n]
                setattr(self, name, new)
            self.start_g += drop
            self.n = kept
        self.t[self.n : self.n + m] = t
        self.f[self.n : self.n + m] = f
        self.total[self.n : self.n + m] = total
        self.n += m

    def span(self, g0: int, g1: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        a = max(0, g0 - self.start_g)
        b = min(self.n, max(a, g1 - self.start_g))
        return self.t[a:b], self.f[a:b], self.total[a:b]


class MatPipeline:
    """Incremental landing detection. `feed()` blocks, read `state`, call `finish()` at the end.

    Never raises on mat input: NaN samples, times that go backwards and dead zones become
    problems in `state` and DeviceStatus events, and the rest carries on."""

    def __init__(self, zones: Iterable[str], params: PipelineParams | None = None) -> None:
        self.zones = tuple(zones)
        if not self.zones:
            raise ValueError("a mat needs at least one zone")
        self.p = params or PipelineParams()
        p = self.p
        self.state = MatState(zone_status={z: "ok" for z in self.zones})
        self._chunk = max(1, round(p.sample_rate_hz * p.quiet_s / QUIET_CHUNKS))
        keep_s = max(p.stop_contact_s, p.impact_window_s) + p.min_flight_s + 0.5
        self._hist = _History(len(self.zones), int(p.sample_rate_hz * keep_s) + 64)
        self._heel = np.array([z.endswith("_heel") for z in self.zones])
        self._left = np.array([z.startswith("left") for z in self.zones])
        self._right = np.array([z.startswith("right") for z in self.zones])
        self._g = 0  # global index of the next sample
        self._last_t = -math.inf
        self._now = -math.inf  # time of the last sample processed
        self._nan_zones: set[int] = set()
        self._problem_told: dict[str, float] = {}
        self.first_body_weight: tuple[float, str] | None = None  # (N, how), for reports
        self.stays: list[WeightEstimate] = []  # each stay's final weight, for reports
        self.quiet_standing: list[float] = []  # each stay's first quiet-standing mean
        # Sums are exact (math.fsum over whole chunks) so that how the samples were split into
        # blocks cannot change a single bit of the results.
        self._cum = 0.0  # sum of the total force before the current chunk
        self._chunk_start_g = 0
        # contact state machine
        self._ground = False
        self._seen_unloaded = False
        self._pend_off: tuple[float, int] | None = None
        self._pend_on: tuple[float, int] | None = None  # time, sample index
        self._gap_t: float | None = None
        self._takeoff_t: float | None = None
        self._push_off = False
        self._contact: _Contact | None = None
        self._pending: list[_Contact] = []
        # quiet standing and cycles
        self._chunks: deque[tuple[int, int, float, float]] = deque(maxlen=QUIET_CHUNKS)
        self._chunk_valid = True
        self._short_quiet: tuple[int, float] | None = None  # (first sample, mean)
        self._quiet_est: WeightEstimate | None = None  # the first full quiet standing
        self._cum2 = 0.0  # Σ over samples k of the sum before k (the double integral)
        self._impulse = ImpulseWeight(p.sample_rate_hz, self._chunk / p.sample_rate_hz)
        self._takeoff_g: int | None = None
        # session tally
        self._tally = Tally(self.state, self.p.cadence_window_s)
        self._zone_quiet = [0] * len(self.zones)
        self._events: list[Event] = []
        self._set_thresholds()

    # ----------------------------------------------------------------- public

    def feed(self, t: Any, force: Any) -> list[Event]:
        """Process one block: `t` [N] seconds, `force` [N, zones] newtons. Returns the events
        it completed (Landing, MatPresence, DeviceStatus), in the order they happened."""
        self._events = []
        tb, fb = self._sanitise(t, force)
        if len(tb):
            total = fb.sum(axis=1)
            self._hist.append(tb, fb, total)
            i = 0
            n = len(tb)
            while i < n:
                room = self._chunk - (self._g % self._chunk)
                j = min(n, i + room)
                self._run(tb[i:j], total[i:j])
                if self._g % self._chunk == 0:
                    self._end_chunk()
                i = j
        return self._events

    def finish(self) -> list[Event]:
        """End of the data: close the contact in progress and judge what is still held."""
        self._events = []
        c = self._contact
        if c is not None and c.close_t == math.inf:
            c.close_t = self._last_t
            self._close(c)
        self._contact = None
        self._best_body_weight(self._last_t, forced=True)
        self._resolve_pending(force=True)
        if self.state.on_mat:
            self._end_stay(None)
        return self._events

    def update_params(self, params: PipelineParams) -> None:
        """New thresholds (a reloaded config, a preset change) for what comes next, keeping
        the session. The sample rate and quiet_s set the chunking at construction: a change to
        those (or to the zones) needs a new pipeline."""
        self.p = params
        self._tally.window = params.cadence_window_s
        self._set_thresholds()

    # --------------------------------------------------------- input checking

    def _sanitise(self, t: Any, force: Any) -> tuple[FloatArray, FloatArray]:
        tb = np.asarray(t, dtype=np.float64).reshape(-1)
        fb = np.asarray(force, dtype=np.float64)
        if fb.ndim == 1:
            fb = fb.reshape(-1, 1)
        if fb.shape != (len(tb), len(self.zones)):
            self._problem(f"mat block of shape {fb.shape} does not match {len(self.zones)} zones")
            return np.empty(0), np.empty((0, len(self.zones)))
        if (
            len(tb)
            and tb[0] > self._last_t
            and np.isfinite(fb).all()
            and np.isfinite(tb).all()
            and bool((tb[1:] > tb[:-1]).all())
        ):  # the usual case, cheaply
            if self._nan_zones:
                for z in self._nan_zones:
                    self._zone(z, "ok", float(tb[0]))
                self._nan_zones.clear()
            self._last_t = float(tb[-1])
            return tb, fb
        bad_t = ~np.isfinite(tb)
        bad_f = ~np.isfinite(fb)
        if bad_t.any():
            self._problem(f"{int(bad_t.sum())} mat samples without a valid time dropped")
        if bad_f.any():
            for z in np.flatnonzero(bad_f.any(axis=0)):
                self._zone(int(z), "no readings (NaN)", tb[np.argmax(bad_f[:, z])])
                self._nan_zones.add(int(z))
            fb = np.where(bad_f, 0.0, fb)
        keep = ~bad_t
        tb, fb = tb[keep], fb[keep]
        if len(tb):
            prev = np.maximum.accumulate(np.concatenate([[self._last_t], tb]))[:-1]
            forward = tb > prev
            if not forward.all():
                self._problem(
                    f"{int((~forward).sum())} mat samples with times out of order dropped"
                )
                tb, fb = tb[forward], fb[forward]
        if len(tb):
            self._last_t = float(tb[-1])
        return tb, fb

    def _problem(self, message: str) -> None:
        """Record an input problem; the screen hears about each kind at most every
        PROBLEM_REPEAT_S, not once per 5 ms block."""
        self.state.problems = [*self.state.problems[-9:], message]
        kind = message.split(" ", 1)[-1]
        t = self._last_t if math.isfinite(self._last_t) else 0.0
        if t - self._problem_told.get(kind, -math.inf) >= PROBLEM_REPEAT_S:
            self._problem_told[kind] = t
            self._events.append(DeviceStatus(t, "mat.input", False, message))

    def _zone(self, z: int, status: str, t: float) -> None:
        name = self.zones[z]
        if self.state.zone_status.get(name) != status:
            self.state.zone_status[name] = status
            ok = status == "ok"
            self._events.append(DeviceStatus(float(t), f"mat.{name}", ok, "" if ok else status))

    # ------------------------------------------------------ the state machine

    def _set_thresholds(self) -> None:
        p, bw = self.p, self.state.body_weight_n
        self._on = max(p.floor_n, p.contact_on_bw * bw) if bw else p.floor_n
        self._off = max(p.floor_n / 2, p.contact_off_bw * bw) if bw else p.floor_n / 2
        self._deadline = self._next_deadline()

    def _next_deadline(self) -> float:
        d = math.inf
        if self._contact is not None and self._contact.close_t == math.inf:
            d = self._contact.td_t + self.p.stop_contact_s
        if not self._ground and self.state.on_mat and self._takeoff_t is not None:
            d = min(d, self._takeoff_t + self.p.step_off_s)
        return d

    def _run(self, t: FloatArray, total: FloatArray) -> None:
        """The per-sample loop. Kept lean (locals, few branches): it runs 1000× a second per
        mat. Transitions and deadlines call out to methods."""
        p = self.p
        g0 = self._g
        tl = t.tolist()
        xl = total.tolist()
        if g0 == 0 and xl[0] > self._on:  # the recording starts loaded: on the mat already
            self._touchdown((tl[0], 0), tl[0])
            self._impulse.reset(0, 0.0, 0.0)
        valid = self._ground and self._pend_off is None and self.state.on_mat
        for k in range(len(tl)):
            ti = tl[k]
            x = xl[k]
            if ti >= self._deadline:
                self._on_deadline(ti)
            if self._ground:
                po = self._pend_off
                if po is None:
                    if x < self._off:
                        self._pend_off = (ti, g0 + k)
                        valid = False
                elif x > self._on:
                    self._pend_off = None  # a double contact: the gap was too short
                elif ti - po[0] >= p.min_flight_s:
                    self._takeoff(po, ti)
            else:
                pn = self._pend_on
                if pn is None:
                    if x > self._on:
                        self._pend_on = (ti, g0 + k)
                        self._gap_t = None
                    else:
                        self._seen_unloaded = True
                elif self._gap_t is None:
                    if x < self._off:
                        self._gap_t = ti
                    elif ti - pn[0] >= p.min_contact_s:
                        self._touchdown(pn, ti)
                        valid = False
                elif x > self._on:
                    self._gap_t = None
                elif ti - self._gap_t >= p.min_flight_s:
                    self._pend_on = None  # a glitch, not a contact
                    self._seen_unloaded = True
        self._g = g0 + len(tl)
        self._now = tl[-1]
        if not (valid and self._ground and self._pend_off is None and self.state.on_mat):
            self._chunk_valid = False

    def _touchdown(self, pn: tuple[float, int], now: float) -> None:
        t_cross, g_cross = pn
        self._pend_on = None
        self._ground = True
        td_g = self._refine_touchdown(g_cross)
        ht, _, _ = self._hist.span(td_g, td_g + 1)
        td_t = float(ht[0]) if len(ht) else t_cross
        arriving = not self.state.on_mat
        takeoff = None if arriving else self._takeoff_t
        if arriving:
            self.state.on_mat = True
            self._events.append(MatPresence(td_t, True, self.state.body_weight_n))
        push_off = takeoff is not None and self._push_off
        self._contact = _Contact(td_t, td_g, g_cross, takeoff, self._seen_unloaded, push_off)
        if arriving:
            sums = self._sums_at(td_g)
            if sums is not None:
                self._impulse.reset(td_g, *sums)
        elif push_off and self._takeoff_g is not None:
            g_mid = (self._takeoff_g + td_g) // 2
            sums = self._sums_at(g_mid)
            if sums is not None:  # the centre of mass is at rest half-way through a flight
                self._impulse.add_apex(float(g_mid), sums[0])
        self._deadline = self._next_deadline()

    def _sums_at(self, g: int) -> tuple[float, float] | None:
        """The exact running sums at sample `g` (still in the history): Σ F before g, and
        Σ_{k≤g} of that (the force integrated once and twice, in samples)."""
        gs, c, cc = self._chunk_start_g, self._cum, self._cum2
        if g < self._hist.start_g:
            return None
        if g >= gs:
            _, _, x = self._hist.span(gs, g)
            k = np.arange(len(x), 0, -1, dtype=np.float64)  # g - j for j = gs .. g-1
            return c + math.fsum(x.tolist()), cc + (g - gs) * c + math.fsum((k * x).tolist())
        _, _, x = self._hist.span(g, gs)
        k = np.arange(len(x), dtype=np.float64)  # j - g for j = g .. gs-1
        return c - math.fsum(x.tolist()), cc - (gs - g) * c + math.fsum((k * x).tolist())

    def _refine_touchdown(self, g_cross: int) -> int:
        """The touchdown is where the rise began: just after the last sample at or below the
        flight threshold, not where it crossed the (higher) contact threshold."""
        start = max(self._hist.start_g, g_cross - 20)
        _, _, total = self._hist.span(start, g_cross + 1)
        low = np.flatnonzero(total[:-1] <= self._off)
        return start + int(low[-1]) + 1 if len(low) else g_cross

    def _takeoff(self, pend: tuple[float, int], now: float) -> None:
        t_off, g_off = pend
        self._pend_off = None
        self._ground = False
        self._takeoff_t = t_off
        self._takeoff_g = g_off
        self._push_off = self._was_push_off(g_off)
        c = self._contact
        if c is not None and c.close_t == math.inf:
            c.close_t = t_off
            c.closed_by_takeoff = t_off
            self._close(c)
        self._contact = None
        self._deadline = self._next_deadline()

    def _was_push_off(self, g_off: int) -> bool:
        """Did the force fall off like a jump's push-off (from half its recent peak to nothing
        within PUSH_OFF_S), or fade like a foot lifted to step?"""
        n = round(PUSH_OFF_WINDOW_S * self.p.sample_rate_hz)
        wt, _, total = self._hist.span(g_off - n, g_off + 1)
        if len(total) < 2:
            return False
        high = np.flatnonzero(total >= 0.5 * float(total.max()))
        return float(wt[-1] - wt[high[-1]]) <= PUSH_OFF_S

    def _on_deadline(self, now: float) -> None:
        c = self._contact
        if c is not None and c.close_t == math.inf and now >= c.td_t + self.p.stop_contact_s:
            c.close_t = now
            self._close(c)
        if (
            not self._ground
            and self.state.on_mat
            and self._takeoff_t is not None
            and now >= self._takeoff_t + self.p.step_off_s
        ):
            self._step_off(now)
        self._deadline = self._next_deadline()

    def _step_off(self, now: float) -> None:
        self._best_body_weight(now, forced=True)
        self._resolve_pending(force=True)
        self._end_stay(self._takeoff_g)
        st = self.state
        st.on_mat = False
        st.still = False
        self._tally.end_presence()
        st.body_weight_n = None
        st.body_weight_source = ""
        st.body_weight_sd_n = None
        self._chunks.clear()
        self._short_quiet = None
        self._quiet_est = None
        self._takeoff_t = None
        self._takeoff_g = None
        self._events.append(MatPresence(now, False, None))
        self._set_thresholds()

    # ------------------------------------------------------------ body weight

    def _end_chunk(self) -> None:
        _, _, chunk = self._hist.span(self._chunk_start_g, self._g)
        cl = chunk.tolist()
        n, s, ss = len(chunk), math.fsum(cl), math.fsum((chunk * chunk).tolist())
        weights = np.arange(n, 0, -1, dtype=np.float64)
        self._cum2 += n * self._cum + math.fsum((weights * chunk).tolist())
        self._cum += s
        self._chunk_start_g = self._g
        valid = self._chunk_valid
        self._chunks.append((self._g, int(n), s, ss) if valid else (self._g, 0, 0, 0))
        self._chunk_valid = True
        if valid and n:
            self._standing_row(n, s, ss)
        st = self.state
        quiet, mean, cv = self._quiet(QUIET_CHUNKS)
        st.still = quiet
        if quiet and self._quiet_est is None:
            sd = cv * mean / math.sqrt(QUIET_CHUNKS)  # the chunks' means, roughly independent
            self._quiet_est = WeightEstimate(mean, sd, "quiet standing", 0, self.p.quiet_s)
            self.quiet_standing.append(mean)
        self._best_body_weight(self._now, forced=False)
        if st.body_weight_n is not None:
            return
        # The first quiet stretch (members stand still on arrival), as long as it lasts.
        for k in range(QUIET_CHUNKS - 1, SHORT_QUIET_CHUNKS - 1, -1):
            short, mean, _ = self._quiet(k)
            if short:
                start = self._chunks[-k][0] - self._chunks[-k][1]
                if self._short_quiet is None or self._short_quiet[0] == start:
                    self._short_quiet = (start, mean)
                break

    def _quiet(self, chunks: int) -> tuple[bool, float, float]:
        """Were the last `chunks` chunks quiet standing? (quiet, mean, relative sd)"""
        last = list(self._chunks)[-chunks:]
        if len(last) < chunks or not all(c[1] > 0 for c in last):
            return False, 0.0, math.inf
        n_all = sum(c[1] for c in last)
        mean = sum(c[2] for c in last) / n_all
        var = max(0.0, sum(c[3] for c in last) / n_all - mean * mean)
        if mean < 2 * self.p.floor_n:
            return False, mean, math.inf
        cv = math.sqrt(var) / mean
        return cv <= self.p.quiet_tolerance_pct / 100, mean, cv

    def _standing_row(self, n: int, s: float, ss: float) -> None:
        """A chunk on the ground whose mean is near the weight is standing (swaying, rocking,
        shifting between feet): a position row for the impulse-momentum fit."""
        mean = s / n
        ref = self.state.body_weight_n
        if ref is None:
            est = self._impulse.estimate()
            ref = est.newtons if est is not None else None
        if ref is not None:
            standing = abs(mean - ref) <= STAND_BAND * ref
        else:  # nothing yet to compare with: steady loading only
            sd = math.sqrt(max(0.0, ss / n - mean * mean))
            standing = mean >= 2 * self.p.floor_n and sd <= 0.1 * mean
        if standing and self.state.on_mat:
            self._impulse.add_standing(self._g, self._cum, self._cum2)

    def _best_body_weight(self, now: float, forced: bool) -> None:
        """The weight to judge landings with: the impulse-momentum fit once it has settled, else
        the first quiet standing; when a judgement cannot wait (`forced`), the best there is."""
        est = self._impulse.estimate()
        quiet = self._quiet_est
        choice: WeightEstimate | None = None
        within = (FORCED_PCT if forced else SETTLED_PCT) / 100
        if est is not None and est.uncertainty_n <= within * est.newtons:
            choice = est
        elif quiet is not None:
            choice = quiet
        elif forced and self._short_quiet is not None:
            mean = self._short_quiet[1]
            choice = WeightEstimate(mean, math.nan, "short quiet standing", 0, 0.0)
        if choice is not None:
            self._set_body_weight(choice, now)

    def stay_weight(self) -> WeightEstimate | None:
        """The impulse-momentum weight of the stay so far, with its honest uncertainty
        (station.mat.weight.ImpulseWeight.honest); None before there is one."""
        return self._impulse.honest()

    def _end_stay(self, last_takeoff_g: int | None) -> None:
        """The member left (or the data ended): the stay's final weight, for the reports."""
        if last_takeoff_g is not None:
            self._impulse.drop_after(last_takeoff_g - STEP_OFF_GUARD_S * self.p.sample_rate_hz)
        # The physics decides; quiet standing is its cross-check (a slow sway looks quiet
        # for a second, and its mean is then off by up to the sway's amplitude).
        est = self._impulse.honest()
        final: WeightEstimate | None = est or self._quiet_est
        if final is None and self.state.body_weight_n is not None:
            sd = self.state.body_weight_sd_n
            final = WeightEstimate(
                self.state.body_weight_n, math.nan if sd is None else sd,
                self.state.body_weight_source, 0, 0.0,
            )  # fmt: skip
        if final is not None:
            self.stays.append(final)
        self._impulse.reset()

    def _set_body_weight(self, est: WeightEstimate, now: float) -> None:
        st = self.state
        if st.body_weight_n == est.newtons and st.body_weight_source == est.source:
            return
        first = st.body_weight_n is None
        if self.first_body_weight is None:
            self.first_body_weight = (est.newtons, est.source)
        st.body_weight_n = est.newtons
        st.body_weight_source = est.source
        st.body_weight_sd_n = est.uncertainty_n
        if first:
            self._events.append(MatPresence(now, True, est.newtons))
        self._set_thresholds()
        self._resolve_pending(force=False)

    # --------------------------------------------------------------- landings

    def _close(self, c: _Contact) -> None:
        """The contact ended (take-off) or became a stop: keep its impact window and judge it
        now, or as soon as the body weight is known."""
        end_t = min(c.td_t + self.p.impact_window_s, c.close_t)
        n = max(1, round((end_t - c.td_t) * self.p.sample_rate_hz) + 1)
        wt, wf, _ = self._hist.span(c.td_g, c.td_g + n)
        sel = wt <= end_t + 1e-9
        c.window_t, c.window_f = wt[sel], wf[sel]
        if c.closed_by_takeoff is None and c.seen_touchdown:
            # a landing became a stop: judge it now, with the best weight there is
            self._best_body_weight(c.close_t, forced=True)
        if self._pending or (self.state.body_weight_n is None and c.seen_touchdown):
            self._pending.append(c)
        else:
            self._judge(c, self.state.body_weight_n)

    def _resolve_pending(self, force: bool) -> None:
        if self.state.body_weight_n is None and not force:
            return
        pending, self._pending = self._pending, []
        for c in pending:
            self._judge(c, self.state.body_weight_n)

    def _judge(self, c: _Contact, bw: float | None) -> None:
        assert c.window_t is not None and c.window_f is not None
        total = c.window_f.sum(axis=1)
        if not c.seen_touchdown or not len(total):
            self._break_streak(stop=False)
            return
        ref = bw if bw else float(total.mean())  # no body weight ever: judge on the contact
        rise = c.window_t <= c.td_t + self.p.impact_rise_s + 1e-9
        if float(total[rise].max()) < 0.5 * ref and not c.after_push_off:
            self._break_streak(stop=False)  # a foot put down, not a landing
            return
        self._emit_landing(c, total, bw)

    def _emit_landing(self, c: _Contact, total: FloatArray, bw: float | None) -> None:
        assert c.window_t is not None and c.window_f is not None
        p, st = self.p, self.state
        wt, wf = c.window_t, c.window_f
        flight = c.td_t - c.takeoff_t if c.takeoff_t is not None else None
        contact = c.closed_by_takeoff - c.td_t if c.closed_by_takeoff is not None else None
        peak_bw = rate = ttp = None
        if bw:
            peak_bw = float(total.max()) / bw
            i_first = _first_peak(total, bw)
            smooth = _moving_average(total)
            ttp = _peak_time(wt, smooth, i_first) - c.td_t
            rate = float(smooth[i_first]) / bw / max(ttp, 1.0 / p.sample_rate_hz)
        heel_first = None
        if self._heel.any() and (~self._heel).any():
            early = wt <= c.td_t + HEEL_WINDOW_S
            heel_first = bool(wf[early][:, self._heel].sum() > wf[early][:, ~self._heel].sum())
        asym = None
        if self._left.any() and self._right.any():
            left, right = float(wf[:, self._left].sum()), float(wf[:, self._right].sum())
            if left + right > 0:
                asym = 100.0 * (left - right) / (left + right)
        hard, warn, reasons = self._verdict(peak_bw, rate, heel_first)
        double = flight is not None and flight >= p.double_under_flight_s
        stopped = c.closed_by_takeoff is None
        # the tally
        self._tally.landing(c.td_t, double, hard)
        landing = Landing(
            t=c.td_t,
            takeoff_s=c.takeoff_t,
            flight_s=flight,
            contact_s=contact,
            peak_bw=peak_bw,
            loading_rate_bw_s=rate,
            time_to_peak_s=ttp,
            hard=hard,
            reasons=reasons,
            warn=warn,
            double_under=double,
            heel_first=heel_first,
            asymmetry_pct=asym,
            stopped=stopped,
            count=st.count,
        )
        st.last_landing = landing
        self._events.append(landing)
        self._check_zones(wf, c.td_t)
        if stopped:
            self._break_streak(stop=True)

    def _verdict(
        self, peak_bw: float | None, rate: float | None, heel_first: bool | None
    ) -> tuple[bool, bool, tuple[str, ...]]:
        p = self.p
        if not p.judge_landings:
            return False, False, ()
        reasons: list[str] = []
        hard = warn = False
        for value, name, unit, lo, hi in (
            (peak_bw, "peak", "× body weight", p.peak_warn_bw, p.peak_fault_bw),
            (rate, "loading rate", "body weights/s", p.loading_rate_warn_bw_s,
             p.loading_rate_fault_bw_s),
        ):  # fmt: skip
            if value is None:
                continue
            if value >= hi:
                hard = warn = True
                reasons.append(f"{name} {value:.1f} {unit} ≥ fault {hi:g}")
            elif value >= lo:
                warn = True
                reasons.append(f"{name} {value:.1f} {unit} ≥ warn {lo:g}")
        if heel_first:
            warn = True
            hard = hard or p.heel_first_is_fault
            reasons.append("heel-first touchdown")
        return hard, warn, tuple(reasons)

    def _break_streak(self, stop: bool) -> None:
        self._tally.break_streak(stop)

    def _check_zones(self, wf: FloatArray, t: float) -> None:
        """A zone whose force does not move through many landings while the others take the
        load is dead, stuck or disconnected; counting carries on from the total."""
        if len(self.zones) < 2 or not len(wf):
            return
        # a stuck zone reads a level but never moves (2-98 %: its noise is not a movement)
        low, high = np.percentile(wf, [2.0, 98.0], axis=0)
        still = np.minimum(high - low, wf.max(axis=0))
        total_peak = float(wf.sum(axis=1).max())
        for z in range(len(self.zones)):
            if still[z] < DEAD_ZONE_SHARE * total_peak:
                self._zone_quiet[z] += 1
                if self._zone_quiet[z] == DEAD_ZONE_LANDINGS:
                    self._zone(
                        z,
                        f"no force in {DEAD_ZONE_LANDINGS} landings: dead, stuck or disconnected "
                        "sensor",
                        t,
                    )
            else:
                self._zone_quiet[z] = 0
                if self.state.zone_status[self.zones[z]].startswith("no force"):
                    self._zone(z, "ok", t)


def _moving_average(x: FloatArray) -> FloatArray:
    if len(x) < SMOOTH_SAMPLES:
        return x
    kernel = np.ones(SMOOTH_SAMPLES) / SMOOTH_SAMPLES
    return np.convolve(x, kernel, mode="same")


def _first_peak(total: FloatArray, bw: float) -> int:
    """The first force peak of a landing (the impact peak): the first local maximum of the
    smoothed force (over ±PEAK_HALF_WIDTH samples) that reaches body weight; else the
    highest sample."""
    smooth = _moving_average(total)
    n = len(smooth)
    h = PEAK_HALF_WIDTH
    for i in np.flatnonzero(smooth[: n - 1] >= bw).tolist():
        if smooth[i] >= smooth[max(0, i - h) : i + h + 1].max() and smooth[i] > smooth[i + 1]:
            return int(i)
    return int(np.argmax(total))


def _peak_time(t: FloatArray, smooth: FloatArray, i: int) -> float:
    """The middle of the contiguous stretch around sample `i` within PEAK_PLATEAU of it."""
    floor = smooth[i] * (1.0 - PEAK_PLATEAU)
    lo = hi = i
    while lo > 0 and smooth[lo - 1] >= floor:
        lo -= 1
    while hi < len(smooth) - 1 and smooth[hi + 1] >= floor:
        hi += 1
    return float(t[lo] + t[hi]) / 2.0


@dataclass(frozen=True)
class MatAnalysis:
    """A whole recording analysed: what `station mat analyze` prints."""

    sample_rate_hz: float
    body_weight_n: float | None
    body_weight_source: str
    body_weight_sd_n: float | None
    quiet_standing_n: float | None  # the cross-check: the first second of quiet standing
    landings: tuple[Landing, ...]
    state: MatState
    events: tuple[Event, ...]

    @property
    def jumps(self) -> int:
        return len(self.landings)

    def to_json(self) -> dict[str, Any]:
        def r(v: float | None, nd: int = 4) -> float | None:
            return None if v is None else round(v, nd)

        return {
            "sample_rate_hz": self.sample_rate_hz,
            "body_weight_n": r(self.body_weight_n, 2),
            "body_weight_source": self.body_weight_source,
            "body_weight_sd_n": r(self.body_weight_sd_n, 2),
            "quiet_standing_n": r(self.quiet_standing_n, 2),
            "jumps": self.jumps,
            "landings": [
                {
                    "touchdown_s": r(x.t),
                    "takeoff_s": r(x.takeoff_s),
                    "flight_s": r(x.flight_s),
                    "contact_s": r(x.contact_s),
                    "peak_bw": r(x.peak_bw, 3),
                    "loading_rate_bw_s": r(x.loading_rate_bw_s, 1),
                    "time_to_peak_s": r(x.time_to_peak_s),
                    "hard": x.hard,
                    "reasons": list(x.reasons),
                }
                for x in self.landings
            ],
        }


def analyze(
    t: Any,
    force: Any,
    zones: Iterable[str],
    params: PipelineParams | None = None,
    block: int | None = None,
) -> MatAnalysis:
    """Run the pipeline over a whole recording (in blocks of `block` samples if given, as a
    live mat would feed it). The body weight reported is the first stay's final estimate."""
    pipe = MatPipeline(zones, params)
    t = np.asarray(t, dtype=np.float64)
    force = np.asarray(force, dtype=np.float64)
    events: list[Event] = []
    step = block or max(1, len(t))
    for i in range(0, len(t), step):
        events += pipe.feed(t[i : i + step], force[i : i + step])
    events += pipe.finish()
    landings = tuple(e for e in events if isinstance(e, Landing))
    final = pipe.stays[0] if pipe.stays else None
    sd = final.uncertainty_n if final is not None and math.isfinite(final.uncertainty_n) else None
    return MatAnalysis(
        pipe.p.sample_rate_hz,
        final.newtons if final is not None else None,
        final.source if final is not None else "",
        sd,
        pipe.quiet_standing[0] if pipe.quiet_standing else None,
        landings,
        pipe.state,
        tuple(events),
    )
