"""ADC counts → newtons per zone, a zero that follows drift while the mat is empty, and the
raw-signal checks only the counts can show (a zone pinned at full scale).

Pure code on blocks of counts; the ADC reader calls it on its own thread before handing a
ForceBlock over, so the pipeline only ever sees newtons."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from station.mat.settings import MatSettings

log = logging.getLogger(__name__)

EMPTY_BEFORE_TRACKING_S = 1.0
"""The mat must have been empty this long before the zero starts following it."""

ZERO_TIME_CONSTANT_S = 5.0
"""The zero follows an empty mat's drift with this time constant (slow: a foot hovering just
above the floor threshold must not be tared away)."""

STUCK_S = 0.5
"""A zone reading full scale this long is shorted or overloaded."""

FSR_CREEP = ((0.04, 3.0), (0.03, 30.0), (0.03, 300.0))
"""An FSR's conductance creeps up under a steady load: ~10 % in all, following the datasheets'
"< 5 % per decade of time" over 3-300 s (docs/mat.md, Sensor models). The 'fsr' model divides
it out with this nominal bank, driven by whether the zone is loaded."""

FSR_LOADED_N = 20.0

FSR_HYSTERESIS = 0.06
FSR_HYSTERESIS_S = 0.05
"""An FSR reads low while the force rises and high while it falls (rate hysteresis, a few per
cent of the reading): modelled as a pull towards a 50 ms lagged copy of the force, vanishing
at no load, and divided out to first order by the 'fsr' model."""


def nominal_creep(loaded_s: NDArray[np.float64]) -> NDArray[np.float64]:
    """The nominal creep after `loaded_s` seconds of steady load from rest (a fraction)."""
    t = np.asarray(loaded_s, dtype=np.float64)
    return sum((amp * (1 - np.exp(-t / tau)) for amp, tau in FSR_CREEP), np.zeros_like(t))


REZERO_LOG_COUNTS = 2.0
"""A re-zero that moved a zone's zero by at least this many counts since the last one logged
is logged (drift since calibration is in `drift_counts()`)."""


@dataclass
class Calibration:
    zones: tuple[str, ...]
    offsets: NDArray[np.float64]
    scales: NDArray[np.float64]
    tables: dict[int, tuple[NDArray[np.float64], NDArray[np.float64]]] = field(default_factory=dict)
    full_scale: int = 1023
    zero_tracking: bool = True
    floor_n: float = 30.0
    model: str = "linear"
    exponents: NDArray[np.float64] | None = None
    _empty_s: float = 0.0
    _pinned_s: NDArray[np.float64] | None = None
    _creep: NDArray[np.float64] | None = None  # the 'fsr' creep bank's state, per zone
    _lag: NDArray[np.float64] | None = None  # the 'fsr' hysteresis lag's state, per zone
    _calibrated_offsets: NDArray[np.float64] | None = None
    _logged_offsets: NDArray[np.float64] | None = None
    rezeros: int = 0

    def __post_init__(self) -> None:
        self.offsets = np.asarray(self.offsets, dtype=np.float64)
        self._calibrated_offsets = self.offsets.copy()
        self._logged_offsets = self.offsets.copy()
        if self.exponents is None:
            self.exponents = np.ones(len(self.zones))

    @classmethod
    def from_settings(cls, mat: MatSettings) -> Calibration:
        tables = {
            mat.zones.index(name): (
                np.asarray(table.counts, dtype=np.float64),
                np.asarray(table.newtons, dtype=np.float64),
            )
            for name, table in mat.tables.items()
        }
        return cls(
            mat.zones,
            np.asarray(mat.offset_counts, dtype=np.float64),
            np.asarray(mat.scale_n_per_count, dtype=np.float64),
            tables,
            mat.adc.full_scale,
            mat.zero_tracking,
            mat.floor_n,
            mat.model,
            np.asarray(mat.exponent, dtype=np.float64) if mat.model == "fsr" else None,
        )

    def newtons(self, counts: NDArray[np.float64]) -> NDArray[np.float64]:
        """counts [N, zones] → newtons [N, zones] (no zero tracking, no creep: pure)."""
        above = counts - self.offsets
        if self.model == "fsr":
            assert self.exponents is not None
            x = fsr_conductance(above, np.full(len(self.zones), float(self.full_scale)))
            out = self.scales * signed_power(x, self.exponents)
        else:
            out = above * self.scales
        for z, (xs, ys) in self.tables.items():
            out[:, z] = piecewise_linear(above[:, z], xs, ys)
        return out

    def counts_above(self, force: NDArray[np.float64]) -> NDArray[np.float64]:
        """The inverse of :meth:`newtons` for one reading per zone: the counts above the
        offset at which each zone reads `force` newtons (exact for every model: linear, the
        FSR's power law through its divider, a table)."""
        force = np.asarray(force, dtype=np.float64)
        if self.model == "fsr":
            assert self.exponents is not None
            x = signed_power(force / self.scales, 1.0 / self.exponents)
            x = np.maximum(x, -0.999)  # the divider cannot read below 0 V
            out = x * self.full_scale / (1.0 + x)
        else:
            out = force / np.maximum(self.scales, 1e-12)
        for z, (xs, ys) in self.tables.items():
            out[z] = piecewise_linear(np.asarray([force[z]]), ys, xs)[0]
        return out

    def apply(
        self, counts: NDArray[np.float64], dt: float
    ) -> tuple[NDArray[np.float64], list[str]]:
        """Calibrate one block of `dt` seconds, follow the zero while the mat is empty, and
        return the per-zone problems seen in the raw counts ("" for a healthy zone)."""
        force = self.newtons(counts)
        if self.model == "fsr":
            force = self._uncreep(counts, force, dt)
        if self.zero_tracking:
            self._track_zero(counts, force, dt)
        return force, self._check_pinned(counts, dt)

    def drift_counts(self) -> NDArray[np.float64]:
        """How far each zone's zero has moved since calibration (ADC counts)."""
        assert self._calibrated_offsets is not None
        return self.offsets - self._calibrated_offsets

    def _uncreep(
        self, counts: NDArray[np.float64], force: NDArray[np.float64], dt: float
    ) -> NDArray[np.float64]:
        """Divide the nominal creep out of the conductance (per sample, first-order bank)."""
        n, zones = force.shape
        if n == 0:
            return force
        if self._creep is None:
            self._creep = np.zeros((len(FSR_CREEP), zones))
        if self._lag is None:
            self._lag = np.zeros(zones)
        step = dt / n
        loaded = (force > FSR_LOADED_N).astype(np.float64)
        creep = np.zeros_like(force)
        for i, (amp, tau) in enumerate(FSR_CREEP):
            y = first_order(loaded * amp, tau, step, self._creep[i])
            self._creep[i] = y[-1]
            creep += y
        assert self.exponents is not None
        f = force / (1 + creep) ** self.exponents
        lag = first_order(f, FSR_HYSTERESIS_S, step, self._lag)
        self._lag = lag[-1]
        return f - FSR_HYSTERESIS * f * (lag - f) / np.maximum(np.maximum(lag, f), 1.0)

    def _track_zero(
        self, counts: NDArray[np.float64], force: NDArray[np.float64], dt: float
    ) -> None:
        if len(force) == 0 or float(force.sum(axis=1).max()) >= self.floor_n / 2:
            self._empty_s = 0.0
            return
        self._empty_s += dt
        if self._empty_s >= EMPTY_BEFORE_TRACKING_S:
            alpha = min(1.0, dt / ZERO_TIME_CONSTANT_S)
            self.offsets = self.offsets + alpha * (counts.mean(axis=0) - self.offsets)
            assert self._logged_offsets is not None
            moved = self.offsets - self._logged_offsets
            if float(np.abs(moved).max()) >= REZERO_LOG_COUNTS:
                self.rezeros += 1
                self._logged_offsets = self.offsets.copy()
                log.info(
                    "mat re-zeroed while empty: %s (drift since calibration %s counts)",
                    ", ".join(
                        f"{z} {o:.1f}" for z, o in zip(self.zones, self.offsets, strict=True)
                    ),
                    ", ".join(f"{d:+.1f}" for d in self.drift_counts()),
                )

    def _check_pinned(self, counts: NDArray[np.float64], dt: float) -> list[str]:
        if self._pinned_s is None:
            self._pinned_s = np.zeros(len(self.zones))
        pinned = (counts >= self.full_scale - 1).all(axis=0) if len(counts) else False
        self._pinned_s = np.where(pinned, self._pinned_s + dt, 0.0)
        return [
            "reads full scale: shorted or overloaded sensor" if s >= STUCK_S else ""
            for s in self._pinned_s
        ]


def piecewise_linear(
    x: NDArray[np.float64], xs: NDArray[np.float64], ys: NDArray[np.float64]
) -> NDArray[np.float64]:
    """np.interp, but continuing the end segments' slopes instead of clamping."""
    y = np.interp(x, xs, ys)
    lo_slope = (ys[1] - ys[0]) / (xs[1] - xs[0])
    hi_slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    y = np.where(x < xs[0], ys[0] + (x - xs[0]) * lo_slope, y)
    return np.where(x > xs[-1], ys[-1] + (x - xs[-1]) * hi_slope, y)


def fsr_conductance(
    above: NDArray[np.float64], headroom: NDArray[np.float64]
) -> NDArray[np.float64]:
    """A divider's output c (counts above zero, of `headroom` to full scale) → the FSR's
    conductance relative to the fixed resistor's, c / (headroom - c). Below the zero it is
    negative, not clipped: an unloaded zone's noise and a zero that drifted down then show,
    as they do on a load cell, instead of reading exactly nothing."""
    c = np.asarray(above, dtype=np.float64)
    return c / np.maximum(headroom - c, 1.0)


def signed_power(
    x: NDArray[np.float64], exponent: NDArray[np.float64] | float
) -> NDArray[np.float64]:
    """sign(x)·|x|^exponent: the power law, continued odd-symmetrically below zero."""
    out: NDArray[np.float64] = np.sign(x) * np.abs(x) ** exponent
    return out


def fit_zone(
    model: str,
    loads_n: NDArray[np.float64],
    above: NDArray[np.float64],
    headroom: float,
    held_s: float = 0.0,
) -> tuple[float, float]:
    """One zone's model from known loads and the counts above zero they gave: (scale,
    exponent). 'linear': least squares through zero (exponent 1). 'fsr': a straight line in
    log-log of force against conductance, the conductance first freed of the creep it gained
    in the `held_s` seconds each load was held (averaged over the second half of the hold, as
    the readings are). Raises ValueError if it cannot be fitted."""
    loads_n = np.asarray(loads_n, dtype=np.float64)
    above = np.asarray(above, dtype=np.float64)
    if model == "linear":
        scale = float(loads_n @ above / (above @ above))
        return scale, 1.0
    held = np.linspace(held_s / 2, held_s, 50)
    x = fsr_conductance(above, np.asarray(headroom)) / (1 + float(nominal_creep(held).mean()))
    if len(loads_n) < 2 or (x <= 0).any():
        raise ValueError("an FSR zone needs at least two known loads that each move it")
    if np.ptp(np.log(x)) < 1e-6:
        raise ValueError("every known load read the same: use loads that differ (20, 40, 80 kg)")
    slope, intercept = np.polyfit(np.log(x), np.log(loads_n), 1)
    if not (math.isfinite(slope) and slope > 0):
        raise ValueError("the readings do not rise with the load: was each load on that zone?")
    return float(math.exp(intercept)), float(slope)


def zeroed_offsets(mat: MatSettings, empty_force_n: NDArray[np.float64]) -> list[float]:
    """New zero offsets from what each zone of an empty mat reads now (newtons, through the
    calibration in `mat`): the counts at which each zone reads that force, added to its
    offset. Exact for every model (the console's Zero button); `station mat calibrate` measures
    the offsets in counts directly."""
    cal = Calibration.from_settings(mat)
    offsets = cal.offsets + cal.counts_above(np.asarray(empty_force_n, dtype=np.float64))
    return [round(float(v), 2) for v in offsets]


def rescaled(
    mat: MatSettings,
    known_n: float,
    force_n: NDArray[np.float64],
    zones: list[int],
) -> tuple[list[float], float, float]:
    """One known load on `zones` (indices), read as `force_n` per zone: each of those zones'
    scale × known / read. A gain error is a factor on the force in both models (for an FSR
    it is the part's force at a given conductance), so one load corrects it. Returns (scales,
    factor, force read)."""
    scales = np.asarray(mat.scale_n_per_count, dtype=np.float64)
    measured = float(np.asarray(force_n, dtype=np.float64)[zones].sum())
    factor = known_n / measured
    scales[zones] = scales[zones] * factor
    return [round(float(v), 6) for v in scales], factor, measured


def refit_from_readings(
    mat: MatSettings,
    zone: int,
    loads_n: NDArray[np.float64],
    readings_n: NDArray[np.float64],
    held_s: float,
) -> tuple[float, float]:
    """Multi-point calibration from what the station reads (the console): each known load's
    reading on `zone`, through the calibration in force, turned back into counts above the
    zero (:meth:`Calibration.counts_above`) and fitted afresh with the zone's model
    (:func:`fit_zone`). Returns (scale, exponent); ValueError if a load did not move it."""
    cal = Calibration.from_settings(mat)
    above = []
    for reading in np.asarray(readings_n, dtype=np.float64):
        per_zone = np.zeros(len(cal.zones))
        per_zone[zone] = reading
        above.append(float(cal.counts_above(per_zone)[zone]))
    if min(above) <= 0:
        raise ValueError(f"zone {cal.zones[zone]!r} read nothing under a load: is it on that zone?")
    return fit_zone(cal.model, loads_n, np.asarray(above), float(cal.full_scale), held_s)


def first_order(
    x: NDArray[np.float64], tau_s: float, dt: float, state: NDArray[np.float64] | float
) -> NDArray[np.float64]:
    """y' = (x - y)/tau sampled every `dt` (exact for x held over each step), from y = `state`
    just before the first sample; `x` is [N] or [N, zones]. Plain numpy, vectorised: a
    geometric kernel for short time constants, exact scaled cumulative sums otherwise."""
    x = np.asarray(x, dtype=np.float64)
    flat = x.ndim == 1
    xs = x.reshape(len(x), -1)
    y0 = np.broadcast_to(np.asarray(state, dtype=np.float64), xs.shape[1:]).copy()
    a = math.exp(-dt / tau_s)
    out = np.empty_like(xs)
    length = max(1, int(30.0 * tau_s / dt))  # a**-length stays below e**30
    for i in range(0, len(xs), length):
        seg = xs[i : i + length]
        k = np.arange(len(seg), dtype=np.float64)[:, None]
        grow = a ** (-k)  # a^-j
        decay = a ** (k + 1)  # a^(k+1)
        out[i : i + length] = decay * y0 + (1 - a) * a**k * np.cumsum(seg * grow, axis=0)
        y0 = out[i + len(seg) - 1].copy()
    return out[:, 0] if flat else out
