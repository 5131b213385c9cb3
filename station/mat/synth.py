"""Synthetic mat recordings with known answers, for tests and the benchmark.

A small plan ("stand 2 s, 20 soft jumps, a stop, 10 heel slaps, step off") becomes force per
zone at 1 kHz plus the ground truth (every touchdown, which landings are hard). Each contact's
force comes from the simulator's force model (station.sim.model: the pulse shapes, the heel's
share and the heel slap's spike), its amplitude solved so that the impulse carries the body
through the contact and the following flight (momentum balance); so peaks and loading rates
follow from the timing as they do in real jumping, and a synthetic heel slap is the
simulator's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from station.sim.model import STAND_HEEL_SHARE, G, contact_amplitude, heel_share, pulse_shape


@dataclass(frozen=True)
class Jumps:
    n: int
    flight_s: float = 0.13
    contact_s: float = 0.2
    style: str = "both"  # "both" feet or "alternate" feet
    landing: str = "soft"  # "soft" on the balls of the feet, or "heel" slap


@dataclass(frozen=True)
class Stand:
    seconds: float
    step_on: bool = False  # ramp up from an empty mat (one foot, then the other)


@dataclass(frozen=True)
class Off:
    seconds: float  # the mat empty (stepped off), after a ramp down


@dataclass
class Truth:
    touchdowns: list[float] = field(default_factory=list)
    hard: list[bool] = field(default_factory=list)
    doubles: int = 0
    body_weight_n: float = 0.0


Step = Jumps | Stand | Off


def synthetic_session(
    plan: list[Step],
    zones: tuple[str, ...] = ("left", "right"),
    body_weight_n: float = 700.0,
    rate_hz: float = 1000.0,
    noise_n: float = 0.0,
    dead: tuple[str, ...] = (),
    seed: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64], Truth]:
    """(t [N], force [N, zones], truth). The plan's first step decides how it starts."""
    rng = np.random.default_rng(seed)
    bw = body_weight_n
    dt = 1.0 / rate_hz
    total_s = sum(_duration(s) for s in plan) + 0.5
    n = int(total_s * rate_hz)
    t = np.arange(n) * dt
    left = np.zeros(n)  # per foot: [left, right] x [heel, fore]
    right = np.zeros(n)
    left_heel = np.zeros(n)
    right_heel = np.zeros(n)
    truth = Truth(body_weight_n=bw)
    now = 0.0
    foot = 0
    for step in plan:
        if isinstance(step, Stand):
            i0, i1 = _idx(now, rate_hz), _idx(now + step.seconds, rate_hz)
            seg = np.full(i1 - i0, bw / 2)
            if step.step_on:
                ramp = np.clip((t[i0:i1] - now) / 0.6, 0, 1)
                seg = bw / 2 * np.clip(ramp * 2, 0, 1)  # first foot
                seg2 = bw / 2 * np.clip(ramp * 2 - 1, 0, 1)  # then the other
                left[i0:i1] += seg  # the left foot first, then the right
                right[i0:i1] += seg2
                left_heel[i0:i1] += STAND_HEEL_SHARE * seg
                right_heel[i0:i1] += STAND_HEEL_SHARE * seg2
            else:
                left[i0:i1] += seg
                right[i0:i1] += seg
                left_heel[i0:i1] += STAND_HEEL_SHARE * seg
                right_heel[i0:i1] += STAND_HEEL_SHARE * seg
            now += step.seconds
        elif isinstance(step, Off):
            i0, i1 = _idx(now, rate_hz), _idx(now + 0.5, rate_hz)
            ramp = 1 - np.clip((t[i0:i1] - now) / 0.5, 0, 1)
            left[i0:i1] += bw / 2 * ramp
            right[i0:i1] += bw / 2 * np.clip(ramp * 2 - 1, 0, 1)
            now += 0.5 + step.seconds
        else:
            # take off from standing: the first flight starts now
            for _ in range(step.n):
                now += step.flight_s
                tc, tf = step.contact_s, step.flight_s
                i0, i1 = _idx(now, rate_hz), _idx(now + tc, rate_hz)
                t_rel = np.maximum(t[i0:i1] - now, 0.0)
                v = G * tf / 2  # a flight of tf: down at -v, up again at +v
                amp = contact_amplitude(bw / G, tc, step.landing, 0.0, 0.0, -v, v)
                pulse = amp * pulse_shape(t_rel, tc, step.landing)
                heel = heel_share(t_rel, tc, step.landing)
                truth.touchdowns.append(round(now, 6))
                truth.hard.append(step.landing == "heel")
                truth.doubles += int(tf >= 0.33)
                if step.style == "alternate":
                    feet = [foot]
                    foot = 1 - foot
                else:
                    feet = [0, 1]
                for f in feet:
                    share = pulse / len(feet)
                    heel_part = share * heel
                    if f == 0:
                        left[i0:i1] += share
                        left_heel[i0:i1] += heel_part
                    else:
                        right[i0:i1] += share
                        right_heel[i0:i1] += heel_part
                now += tc
            # land into standing: the contact after the last jump continues as standing
    force = _to_zones(zones, left, right, left_heel, right_heel)
    if noise_n:
        force = force + rng.normal(0.0, noise_n, force.shape)
    for z in dead:
        force[:, zones.index(z)] = 0.0
    return t, force, truth


def _to_zones(
    zones: tuple[str, ...],
    left: NDArray[np.float64],
    right: NDArray[np.float64],
    left_heel: NDArray[np.float64],
    right_heel: NDArray[np.float64],
) -> NDArray[np.float64]:
    parts = {
        "left": left,
        "right": right,
        "left_heel": left_heel,
        "right_heel": right_heel,
        "left_fore": left - left_heel,
        "right_fore": right - right_heel,
    }
    return np.stack([parts[z] for z in zones], axis=1)


def _idx(t: float, rate: float) -> int:
    return round(t * rate)


def _duration(step: Step) -> float:
    if isinstance(step, Stand):
        return step.seconds
    if isinstance(step, Off):
        return step.seconds + 0.5
    return step.n * (step.flight_s + step.contact_s)


def rope_session(
    seconds: float, zones: tuple[str, ...], seed: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.float64], Truth]:
    """A long plain session for the benchmark: stand, then bounce at ~180/min."""
    n = int((seconds - 2.0) / 0.33)
    return synthetic_session([Stand(2.0), Jumps(n)], zones, noise_n=4.0, seed=seed)


# ------------------------------------------------------ perturbed real members


def standing_window(
    t: NDArray[np.float64], total: NDArray[np.float64], bw: float, taper_s: float = 0.3
) -> NDArray[np.float64]:
    """1 where the member stands (the total within 10 % of the weight over the surrounding
    0.3 s), 0 where they dip, jump or land, with raised-cosine edges of `taper_s`, and 0 at the
    recording's ends: the window a sway is applied through."""
    dt = float(t[1] - t[0])
    n = max(1, round(0.3 / dt))
    near = (np.abs(total - bw) <= 0.1 * bw).astype(np.float64)
    kernel = np.ones(n) / n
    steady = (np.convolve(near, kernel, mode="same") >= 0.999).astype(np.float64)
    steady[0] = steady[-1] = 0.0
    m = max(1, round(taper_s / dt))
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(1, m + 1) / (m + 1))
    bump = np.concatenate([ramp, np.ones(1), ramp[::-1]])
    bump /= bump.sum()
    w = np.convolve(steady, bump, mode="same")
    return np.clip(w, 0.0, 1.0)


def sway(
    t: NDArray[np.float64],
    force: NDArray[np.float64],
    bw: float,
    amplitude: float,
    freq_hz: float,
    phase: float = 0.0,
) -> NDArray[np.float64]:
    """A member who sways up and down while standing, made physically: the centre of mass
    moves by z(t) = A·w(t)·sin(2πft + phase) (w: `standing_window`), and the mat carries the
    extra m·z''(t), spread over the zones in proportion to their load. A is chosen so the
    force swings ±`amplitude` × body weight. Body weight is unchanged (z starts and ends at
    rest), so impulse-momentum still gives it exactly; a short mean does not."""
    total = force.sum(axis=1)
    w = standing_window(t, total, bw)
    omega = 2 * np.pi * freq_hz
    a = amplitude * G / omega**2
    z = a * w * np.sin(omega * t + phase)
    dt = float(t[1] - t[0])
    zdd = np.gradient(np.gradient(z, dt), dt)
    extra = (bw / G) * zdd
    share = np.divide(force, total[:, None], out=np.full_like(force, 1.0 / force.shape[1]),
                      where=total[:, None] > 1.0)  # fmt: skip
    return force + extra[:, None] * share


def shift(
    force: NDArray[np.float64],
    t: NDArray[np.float64],
    fraction: float,
    freq_hz: float,
    zones_a: list[int],
    phase: float = 0.0,
) -> NDArray[np.float64]:
    """Weight shifted between zones while the total stays the same: `fraction` of the total
    moves to the zones in `zones_a` and back, sinusoidally (left/right shifting, or heel/toe
    rocking on a four-zone mat)."""
    total = force.sum(axis=1)
    moved = fraction * total * np.sin(2 * np.pi * freq_hz * t + phase)
    out = force.copy()
    a = np.zeros(force.shape[1], dtype=bool)
    a[zones_a] = True
    out[:, a] += moved[:, None] / a.sum()
    out[:, ~a] -= moved[:, None] / (~a).sum()
    return out
