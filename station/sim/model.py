"""The one physical model behind both simulated sensors, and the one force model of the
station's simulations: the synthetic mat sessions of tests and benchmarks
(station.mat.synth) build their contacts from the same pulse shapes, heel shares and momentum
balance (:func:`pulse_shape`, :func:`heel_share`, :func:`contact_amplitude`).

A script becomes a *schedule* of support events: standing (body weight shared by the feet,
with a slow sway), stepping on and off, and ground contacts between ballistic flights. Every
contact is a force pulse whose impulse is exactly what the flights around it need
(impulse = m·(v_out − v_in) + m·g·t_contact), so the mat's force and the centre of mass
(CoM) that moves the skeleton come from the same numbers and cannot disagree:

    jump schedule → vertical ground reaction per foot (heel / forefoot) → the mat's zones
                  → CoM height (flights are parabolas; contacts integrate F/m − g)
                  → the skeleton's hips, knees and ankles → landmarks

The ground truth (:class:`GroundTruth`) is read off the same schedule.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import numpy as np
from numpy.typing import NDArray

from station.sim.script import Episode, Phase, Script

G = 9.81
Foot = Literal["left", "right"]
FloatArray = NDArray[np.float64]

# Timing of a jump cycle: the fraction of each cycle spent in the air. With a half-sine contact
# force the mean force in contact is 1/(1 − FLIGHT_FRACTION) body weights, so the peak is
# ≈ π/2 of that: 2.9 BW for two-foot jumps, whatever the cadence.
FLIGHT_FRACTION = {"two-foot": 0.45, "alternate-foot": 0.40, "double-under": 0.55}
TURNS_PER_JUMP = {"two-foot": 1, "alternate-foot": 1, "double-under": 2}
CADENCE_JITTER = 0.012  # relative s.d. of each cycle's period
PUSH_OFF_S = 0.28  # the first push from standing
SETTLE_S = 0.32  # the last landing, into standing
MISS_STAND_S = 1.0  # standing still after the rope catches
PHASE_MARGIN_S = 0.6  # a jump phase lands for good this long before it ends
STAND_HEEL_SHARE = 0.55
# Stepping on and off, as (start, length) fractions of the phase for each foot's loading; the
# body walks in during the first STEP_WALK fraction of a step_on (out in the last of a step_off).
STEP_ON_RIGHT = (0.30, 0.30)
STEP_ON_LEFT = (0.60, 0.35)
STEP_OFF_LEFT = (0.0, 0.35)
STEP_OFF_RIGHT = (0.35, 0.30)
STEP_WALK = 0.35  # standing: the heel carries a little more than the forefoot

# Heel slap: an impact spike on the heel zone on top of the active peak.
HEEL_SPIKE_AT_S = 0.012
HEEL_SPIKE_SD_S = 0.0045
HEEL_SPIKE_GAIN = 2.0  # spike height relative to the pulse amplitude: peak ≈ 5.5 BW


def smoothstep(u: FloatArray) -> FloatArray:
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def pulse_shape(t_rel: FloatArray, tc: float, landing: str) -> FloatArray:
    """The active part of a contact force, relative units, over [0, tc].

    soft: a half-sine (forefoot first, peak mid-contact, moderate loading rate);
    heel: a half-sine skewed early plus a sharp heel-impact spike ~12 ms after touchdown.
    """
    u = np.clip(t_rel / tc, 0.0, 1.0)
    if landing == "heel":
        base = np.sin(np.pi * u**0.8)
        spike = np.exp(-0.5 * ((t_rel - HEEL_SPIKE_AT_S) / HEEL_SPIKE_SD_S) ** 2)
        out: FloatArray = base + HEEL_SPIKE_GAIN * spike * (t_rel < tc)
        return out
    return np.sin(np.pi * u)


def heel_fraction(t_rel: FloatArray, tc: float, landing: str) -> FloatArray:
    """The share of the active force under the heel (the rest is under the forefoot)."""
    u = np.clip(t_rel / tc, 0.0, 1.0)
    if landing == "heel":
        return 0.25 + 0.75 * np.exp(-t_rel / 0.025)
    if landing == "push":
        return 0.35 * (1.0 - u)
    # Soft: on the balls of the feet; the heel kisses the mat mid-contact at most.
    return 0.18 * np.sin(np.pi * u) ** 3


def heel_spike_fraction(t_rel: FloatArray, tc: float, landing: str) -> FloatArray:
    """For heel landings: the share of the shape that is the spike (all of it on the heel)."""
    if landing != "heel":
        return np.zeros_like(t_rel)
    u = np.clip(t_rel / tc, 0.0, 1.0)
    base = np.sin(np.pi * u**0.8)
    spike = HEEL_SPIKE_GAIN * np.exp(-0.5 * ((t_rel - HEEL_SPIKE_AT_S) / HEEL_SPIKE_SD_S) ** 2)
    total = base + spike
    return np.where(total > 1e-9, spike / np.maximum(total, 1e-9), 0.0)


def heel_share(t_rel: FloatArray, tc: float, landing: str) -> FloatArray:
    """The share of a foot's active force under its heel: the heel slap's spike, all of it,
    plus the heel's part of the rest."""
    spike = heel_spike_fraction(t_rel, tc, landing)
    out: FloatArray = spike + (1.0 - spike) * heel_fraction(t_rel, tc, landing)
    return out


def contact_amplitude(
    mass: float,
    tc: float,
    landing: str,
    entry: float,
    exit_: float,
    v_in: float,
    v_out: float,
) -> float:
    """The active pulse's amplitude (newtons) that makes a contact of `tc` seconds take the
    CoM from `v_in` to `v_out` (m/s, up positive), its standing weight fading from `entry` to
    `exit_` body weights: impulse = m·(v_out − v_in) + m·g·tc (momentum balance)."""
    weight = mass * G
    t_rel = np.linspace(0.0, tc, 2001)
    shape = pulse_shape(t_rel, tc, landing)
    shape_integral = float(np.sum(0.5 * (shape[1:] + shape[:-1]) * np.diff(t_rel)))
    # Impulse of the standing weight fading in/out: m·g·tc·(entry + exit)/2.
    stand_impulse = weight * tc * (entry + exit_) / 2.0
    needed = mass * (v_out - v_in) + weight * tc
    return (needed - stand_impulse) / shape_integral


@dataclass(frozen=True)
class Contact:
    """A ground contact: feet on the mat from `t0` to `t1`.

    The vertical force is  m·g·(entry·(1 − s(u)) + exit·s(u))  (standing weight fading out of a
    push-off or into a settle) plus `amplitude`·shape(t − t0), spread over `feet`. The amplitude
    is solved so the impulse takes the CoM from `v_in` to `v_out` (m/s, up positive).
    """

    t0: float
    t1: float
    feet: tuple[tuple[Foot, float, float], ...]  # (foot, share of the active force, delay s)
    landing: Literal["soft", "heel", "push"]
    entry: float
    exit: float
    v_in: float
    v_out: float
    amplitude: float  # newtons
    counted: bool  # a landing after a flight: one jump
    missed: bool = False  # the rope caught on this jump; the jumper stops after landing
    double: bool = False

    @property
    def tc(self) -> float:
        return self.t1 - self.t0


@dataclass(frozen=True)
class Flight:
    t0: float  # take-off
    t1: float  # touchdown
    v0: float  # take-off velocity, m/s up
    cycle_end: float  # the next take-off (or end of the settle): the rope's turn ends here
    turns: int
    style: str


@dataclass(frozen=True)
class Stand:
    """Weight on the feet: `left`/`right` give (fraction of body weight at t0, at t1)."""

    t0: float
    t1: float
    left: tuple[float, float]
    right: tuple[float, float]
    kind: str  # stand, step_on, step_off


@dataclass(frozen=True)
class Jump:
    """One counted jump (a landing after a flight)."""

    t: float  # touchdown, s
    takeoff_s: float
    flight_s: float
    foot: Literal["both", "left", "right"]
    style: str
    heel_first: bool
    double: bool
    missed: bool  # the rope caught on this jump (the jumper then stands ~1 s)


@dataclass(frozen=True)
class GroundTruth:
    """What really happened, from the same schedule that drives both sensors."""

    duration_s: float
    jumps: tuple[Jump, ...]
    faults: tuple[Episode, ...]  # name in station.events.FAULTS; landing includes heel phases
    on_mat: tuple[tuple[float, float], ...]  # first foot on → last foot off
    in_view: tuple[tuple[float, float], ...]  # someone in the scene: step_on start → step_off end
    outages: tuple[Episode, ...]  # name is the device
    misses_s: tuple[float, ...]  # the scripted rope catches
    dead_zones: tuple[tuple[str, float, float], ...]
    mass_kg: float
    height_m: float

    @property
    def jump_count(self) -> int:
        return len(self.jumps)

    @property
    def landings_s(self) -> FloatArray:
        return np.array([j.t for j in self.jumps], dtype=np.float64)

    def count_between(self, t0: float, t1: float) -> int:
        return sum(1 for j in self.jumps if t0 <= j.t < t1)

    def episodes(self, name: str) -> tuple[Episode, ...]:
        return tuple(e for e in self.faults if e.name == name)


@dataclass
class _Builder:
    mass: float
    rng: np.random.Generator
    contacts: list[Contact] = field(default_factory=list)
    flights: list[Flight] = field(default_factory=list)
    stands: list[Stand] = field(default_factory=list)

    @property
    def weight(self) -> float:
        return self.mass * G

    def stand(self, t0: float, t1: float, kind: str = "stand") -> None:
        if t1 - t0 > 1e-9:
            self.stands.append(Stand(t0, t1, (0.5, 0.5), (0.5, 0.5), kind))

    def contact(
        self,
        t0: float,
        tc: float,
        feet: tuple[tuple[Foot, float, float], ...],
        landing: Literal["soft", "heel", "push"],
        entry: float,
        exit_: float,
        v_in: float,
        v_out: float,
        *,
        counted: bool,
        missed: bool = False,
        double: bool = False,
    ) -> Contact:
        amplitude = contact_amplitude(self.mass, tc, landing, entry, exit_, v_in, v_out)
        c = Contact(
            t0,
            t0 + tc,
            feet,
            landing,
            entry,
            exit_,
            v_in,
            v_out,
            amplitude,
            counted,
            missed,
            double,
        )
        self.contacts.append(c)
        return c


def _both_feet(rng: np.random.Generator) -> tuple[tuple[Foot, float, float], ...]:
    """Two-foot contact: a small left/right imbalance and a few ms between the feet."""
    left = float(np.clip(0.5 + rng.normal(0.0, 0.03), 0.4, 0.6))
    lag = float(abs(rng.normal(0.0, 0.003)))
    first_left = bool(rng.random() < 0.5)
    return (
        ("left", left, 0.0 if first_left else lag),
        ("right", 1 - left, lag if first_left else 0),
    )


def _schedule_jumps(b: _Builder, phase: Phase, heel_at: Sequence[Episode]) -> None:
    """Fill one jump phase: stand briefly, push off, jump until the phase (or a miss) ends."""
    style = phase.style
    period = 60.0 / phase.cadence_per_min
    ff = FLIGHT_FRACTION[style]
    turns = TURNS_PER_JUMP[style]
    end_by = phase.end_s - PHASE_MARGIN_S
    misses = list(phase.misses_s)
    t = phase.start_s + 0.2
    b.stand(phase.start_s, t)
    next_foot: Foot = "left"

    def landing_at(td: float) -> Literal["soft", "heel"]:
        if phase.landing == "heel" or any(e.covers(td) for e in heel_at):
            return "heel"
        return "soft"

    while t + PUSH_OFF_S + period < end_by:
        # Push off from standing.
        cycle = period * (1.0 + b.rng.normal(0.0, CADENCE_JITTER))
        tf = ff * cycle
        v = G * tf / 2.0
        push = b.contact(t, PUSH_OFF_S, _both_feet(b.rng), "push", 1.0, 0.0, 0.0, v, counted=False)
        takeoff = push.t1
        while True:
            td = takeoff + tf
            miss = bool(misses and misses[0] <= td)
            next_cycle = period * (1.0 + b.rng.normal(0.0, CADENCE_JITTER))
            tc = (1.0 - ff) * next_cycle
            last = miss or td + tc + ff * next_cycle + SETTLE_S > end_by
            kind = landing_at(td)
            if style == "alternate-foot":
                feet: tuple[tuple[Foot, float, float], ...] = ((next_foot, 1.0, 0.0),)
                next_foot = "right" if next_foot == "left" else "left"
            else:
                feet = _both_feet(b.rng)
            if last:
                c = b.contact(
                    td, SETTLE_S, feet, kind, 0.0, 1.0, -v, 0.0,
                    counted=True, missed=miss, double=turns == 2,
                )  # fmt: skip
                b.flights.append(Flight(takeoff, td, v, c.t1, turns, style))
                break
            next_tf = ff * next_cycle
            next_v = G * next_tf / 2.0
            c = b.contact(td, tc, feet, kind, 0.0, 0.0, -v, next_v, counted=True, double=turns == 2)
            b.flights.append(Flight(takeoff, td, v, c.t1, turns, style))
            takeoff, tf, v = c.t1, next_tf, next_v
        t = c.t1
        if miss:
            misses.pop(0)
            b.stand(t, t + MISS_STAND_S)
            t += MISS_STAND_S
        else:
            break
    b.stand(t, phase.end_s)


class JumperModel:
    """The simulated jumper: schedule, forces, CoM height and ground truth. Deterministic
    from (script, seed); sensor noise is drawn by the sources, not here."""

    def __init__(self, script: Script, seed: int = 0) -> None:
        self.script = script
        self.seed = seed
        self.mass = script.mass_kg
        self.weight = script.mass_kg * G
        rng = np.random.default_rng([seed, 0])
        b = _Builder(self.mass, rng)
        heel_faults = [e for e in script.faults if e.name == "landing"]
        on_mat: list[tuple[float, float]] = []
        in_view: list[tuple[float, float]] = []
        on_since: float | None = None
        in_since = 0.0
        for phase in script.phases:
            d = phase.duration_s
            if phase.kind == "step_on":
                b.stands.append(
                    Stand(phase.start_s, phase.end_s, (0.0, 0.5), (0.0, 0.5), "step_on")
                )
                on_since = phase.start_s + STEP_ON_RIGHT[0] * d
                in_since = phase.start_s
            elif phase.kind == "step_off":
                b.stands.append(
                    Stand(phase.start_s, phase.end_s, (0.5, 0.0), (0.5, 0.0), "step_off")
                )
                off_at = phase.start_s + (STEP_OFF_RIGHT[0] + STEP_OFF_RIGHT[1]) * d
                on_mat.append((on_since if on_since is not None else 0.0, off_at))
                in_view.append((in_since, phase.end_s))
                on_since = None
            elif phase.kind == "stand":
                b.stand(phase.start_s, phase.start_s + d)
            elif phase.kind == "jump":
                _schedule_jumps(b, phase, heel_faults)
        if on_since is not None:
            on_mat.append((on_since, script.duration_s))
            in_view.append((in_since, script.duration_s))
        self.contacts = sorted(b.contacts, key=lambda c: c.t0)
        self.flights = sorted(b.flights, key=lambda f: f.t0)
        self.stands = sorted(b.stands, key=lambda s: s.t0)
        self._contact_starts = [c.t0 for c in self.contacts]
        self._flight_starts = [f.t0 for f in self.flights]
        self._stand_starts = [s.t0 for s in self.stands]
        self._sway = _Sway(np.random.default_rng([seed, 3]))
        self._com = [self._contact_com(c) for c in self.contacts]
        self.truth = self._truth(script, tuple(on_mat), tuple(in_view))

    # ---- ground truth -----------------------------------------------------------------------

    def _truth(
        self,
        script: Script,
        on_mat: tuple[tuple[float, float], ...],
        in_view: tuple[tuple[float, float], ...],
    ) -> GroundTruth:
        jumps = []
        flights_by_td = {round(f.t1, 9): f for f in self.flights}
        for c in self.contacts:
            if not c.counted:
                continue
            f = flights_by_td[round(c.t0, 9)]
            foot: Literal["both", "left", "right"] = c.feet[0][0] if len(c.feet) == 1 else "both"
            jumps.append(
                Jump(
                    t=c.t0,
                    takeoff_s=f.t0,
                    flight_s=c.t0 - f.t0,
                    foot=foot,
                    style=f.style,
                    heel_first=c.landing == "heel",
                    double=c.double,
                    missed=c.missed,
                )
            )
        faults = list(script.faults)
        faults += [Episode("landing", p.start_s, p.end_s) for p in script.phases if
                   p.kind == "jump" and p.landing == "heel"]  # fmt: skip
        return GroundTruth(
            duration_s=script.duration_s,
            jumps=tuple(jumps),
            faults=tuple(sorted(faults, key=lambda e: (e.start_s, e.name))),
            on_mat=on_mat,
            in_view=in_view,
            outages=script.outages,
            misses_s=tuple(m for p in script.phases for m in p.misses_s),
            dead_zones=tuple((d.zone, d.start_s, d.end_s) for d in script.dead_zones),
            mass_kg=script.mass_kg,
            height_m=script.height_m,
        )

    # ---- forces -------------------------------------------------------------------------------

    def foot_forces(self, t: FloatArray) -> FloatArray:
        """Noise-free vertical force, newtons, [len(t), 4]: left heel, left forefoot, right heel,
        right forefoot. `t` must be sorted."""
        out = np.zeros((len(t), 4))
        if len(t) == 0:
            return out
        lo, hi = float(t[0]), float(t[-1])
        for s in _overlapping(self.stands, self._stand_starts, lo, hi):
            self._add_stand(s, t, out)
        for c in _overlapping(self.contacts, self._contact_starts, lo, hi, lookback=1.0):
            self._add_contact(c, t, out)
        return out

    def _add_stand(self, s: Stand, t: FloatArray, out: FloatArray) -> None:
        i0, i1 = np.searchsorted(t, [s.t0, s.t1])
        if i1 <= i0:
            return
        ts = t[i0:i1]
        u = (ts - s.t0) / (s.t1 - s.t0)
        if s.kind == "step_on":  # walks in, right foot on first, then the left
            wr = 0.5 * smoothstep((u - STEP_ON_RIGHT[0]) / STEP_ON_RIGHT[1])
            wl = 0.5 * smoothstep((u - STEP_ON_LEFT[0]) / STEP_ON_LEFT[1])
        elif s.kind == "step_off":  # left foot leaves first, then the right, walks away
            wl = 0.5 * (1.0 - smoothstep((u - STEP_OFF_LEFT[0]) / STEP_OFF_LEFT[1]))
            wr = 0.5 * (1.0 - smoothstep((u - STEP_OFF_RIGHT[0]) / STEP_OFF_RIGHT[1]))
        else:
            wl = np.full_like(ts, 0.5)
            wr = np.full_like(ts, 0.5)
        lateral, forward = self._sway.at(ts)
        wl = wl * (1.0 + lateral)
        wr = wr * (1.0 - lateral)
        heel = STAND_HEEL_SHARE - forward
        w = self.weight
        out[i0:i1, 0] += w * wl * heel
        out[i0:i1, 1] += w * wl * (1.0 - heel)
        out[i0:i1, 2] += w * wr * heel
        out[i0:i1, 3] += w * wr * (1.0 - heel)

    def _add_contact(self, c: Contact, t: FloatArray, out: FloatArray) -> None:
        i0, i1 = np.searchsorted(t, [c.t0, c.t1 + 0.01])
        if i1 <= i0:
            return
        ts = t[i0:i1]
        inside = ts < c.t1
        u = np.clip((ts - c.t0) / c.tc, 0.0, 1.0)
        standing = self.weight * (c.entry * (1.0 - smoothstep(u)) + c.exit * smoothstep(u))
        standing = np.where(inside, standing, 0.0)
        # The standing part is shared by both feet, heel and forefoot alike.
        for col in range(4):
            out[i0:i1, col] += standing * 0.25
        for foot, share, delay in c.feet:
            tr = ts - c.t0 - delay
            active = np.where((tr >= 0) & (tr < c.tc), c.amplitude * share, 0.0)
            active = active * pulse_shape(np.maximum(tr, 0.0), c.tc, c.landing)
            heel = heel_share(np.maximum(tr, 0.0), c.tc, c.landing)
            col = 0 if foot == "left" else 2
            out[i0:i1, col] += active * heel
            out[i0:i1, col + 1] += active * (1.0 - heel)

    # ---- centre of mass -------------------------------------------------------------------------

    def _contact_com(self, c: Contact) -> tuple[FloatArray, FloatArray]:
        """CoM height (m, relative to the touchdown/take-off height) through one contact:
        integrate a = F/m − g from v_in, then remove the small linear drift so it ends at 0."""
        n = max(int(c.tc / 0.001), 20)
        ts = np.linspace(c.t0, c.t1, n + 1)
        force = self.foot_forces_of(c, ts)
        a = force / self.mass - G
        dt = np.diff(ts)
        v = c.v_in + np.concatenate([[0.0], np.cumsum(0.5 * (a[1:] + a[:-1]) * dt)])
        z = np.concatenate([[0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * dt)])
        z -= (ts - c.t0) / c.tc * z[-1]
        return ts, z

    def foot_forces_of(self, c: Contact, ts: FloatArray) -> FloatArray:
        out = np.zeros((len(ts), 4))
        self._add_contact(c, ts, out)
        total: FloatArray = out.sum(axis=1)
        return total

    def com_height(self, t: float) -> float:
        """CoM height above its standing height, metres (0 when standing or off the mat)."""
        i = bisect.bisect_right(self._flight_starts, t) - 1
        if i >= 0:
            f = self.flights[i]
            if f.t0 <= t < f.t1:
                dt = t - f.t0
                return f.v0 * dt - 0.5 * G * dt * dt
        j = bisect.bisect_right(self._contact_starts, t) - 1
        if j >= 0 and self.contacts[j].t0 <= t < self.contacts[j].t1:
            ts, z = self._com[j]
            return float(np.interp(t, ts, z))
        return 0.0

    # ---- what the skeleton needs --------------------------------------------------------------

    def contact_at(self, t: float) -> Contact | None:
        j = bisect.bisect_right(self._contact_starts, t) - 1
        if j >= 0 and self.contacts[j].t0 <= t < self.contacts[j].t1:
            return self.contacts[j]
        return None

    def flight_at(self, t: float) -> Flight | None:
        i = bisect.bisect_right(self._flight_starts, t) - 1
        if i >= 0 and self.flights[i].t0 <= t < self.flights[i].cycle_end:
            return self.flights[i]
        return None

    def next_contact(self, t: float) -> Contact | None:
        j = bisect.bisect_right(self._contact_starts, t)
        return self.contacts[j] if j < len(self.contacts) else None

    def phase_at(self, t: float) -> Phase | None:
        for p in self.script.phases:
            if p.start_s <= t < p.end_s:
                return p
        return None


_Span = TypeVar("_Span", Contact, Stand)


class _Sway:
    """Quiet-standing sway: a few slow sinusoids with seeded phases. Returns the lateral
    weight shift (fraction, ± about 4 %) and the forward shift of the heel share (± 5 %)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.freqs = np.array([0.11, 0.23, 0.41])
        self.lat_phase = rng.uniform(0, 2 * math.pi, 3)
        self.fwd_phase = rng.uniform(0, 2 * math.pi, 3)

    def at(self, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        arg = 2 * math.pi * self.freqs[None, :] * t[:, None]
        lateral = 0.02 * np.sin(arg + self.lat_phase).sum(axis=1) / 1.5
        forward = 0.025 * np.sin(arg + self.fwd_phase).sum(axis=1) / 1.5
        return lateral, forward


def _overlapping(
    items: Sequence[_Span], starts: Sequence[float], lo: float, hi: float, lookback: float = 3600.0
) -> list[_Span]:
    """Items whose span may overlap [lo, hi] (items are sorted by start)."""
    j1 = bisect.bisect_right(starts, hi)
    j0 = bisect.bisect_left(starts, lo - lookback)
    return [x for x in items[j0:j1] if x.t1 >= lo]
