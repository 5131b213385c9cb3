"""What a real mat's sensors make of the true force: ADC counts per zone.

Two models, with parameters from datasheets and published measurements (docs/mat.md, "Sensor
models", cites each number), each drawn per zone from a seeded generator so zones differ as
parts do:

* :class:`FsrModel` - a force-sensing resistor (or Velostat pad) in a voltage divider into an
  MCP3208: conductance a power law of force (G ∝ F^n), creep (conductance rising under a
  steady load, with three time constants, ~10 % in all), rate hysteresis (reads low while the
  force rises, high while it falls), part-to-part gain spread, the divider's own saturation
  and the ADC's full scale, zero drift and noise.
* :class:`LoadCellModel` - a strain-gauge bridge with an INA125 instrumentation amplifier into
  an MCP3208: linear, ±10 % rated-output spread, tiny creep and non-linearity, the amplifier's
  offset drift, its bandwidth, noise and full scale.

`counts(t, force)` runs a whole recording (or a block, keeping the state) through the zones.
Everything is vectorised (the first-order dynamics with station.mat.calibration.first_order):
a 20-minute session at 1 kHz goes through in about a second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from station.mat.adc import chip
from station.mat.calibration import first_order as _first_order

FloatArray = NDArray[np.float64]

ADC_CHIP = "mcp3208"  # both models read through it (station.mat.adc)
ADC_FULL_SCALE = chip(ADC_CHIP).full_scale

# FSR: creep as a bank of first-order processes (amplitude, time constant s) that together
# follow the datasheets' "drift < 5 % per decade of time" over 3-300 s and reach the ~10 %
# reported for a steady load; the calibration's FSR model compensates the nominal bank.
FSR_CREEP = ((0.04, 3.0), (0.03, 30.0), (0.03, 300.0))
FSR_LOADED_N = 20.0  # creep runs while a zone carries more than this
FSR_HYSTERESIS = 0.06  # Tekscan FlexiForce: < 4.5 % FS; Interlink: ~10 % in conductance
FSR_HYSTERESIS_S = 0.05
FSR_HALF_SCALE_N = 1000.0  # divider: the force that gives half the supply (R_fsr = R_fixed)


def first_order(x: FloatArray, tau_s: float, dt: float, state: float) -> tuple[FloatArray, float]:
    """y' = (x - y)/tau from `state`; returns (y, last y)."""
    y = _first_order(x, tau_s, dt, state)
    return y, float(y[-1]) if len(y) else state


@dataclass
class FsrModel:
    """Per-zone FSRs in dividers. `spread` is the part-to-part gain spread (±, uniform)."""

    zones: int
    seed: int = 0
    spread: float = 0.25
    creep_spread: float = 0.2
    exponent_range: tuple[float, float] = (0.9, 1.2)
    drift_counts_per_hour: float = 45.0
    noise_counts: float = 1.5
    offset_counts: float = 8.0
    hysteresis: float = FSR_HYSTERESIS
    creep: tuple[tuple[float, float], ...] = FSR_CREEP
    half_scale_n: FloatArray = field(init=False)
    exponent: FloatArray = field(init=False)
    creep_gain: FloatArray = field(init=False)
    hysteresis_z: FloatArray = field(init=False)
    _creep_state: FloatArray = field(init=False)
    _lag_state: FloatArray = field(init=False)
    _rng: np.random.Generator = field(init=False)
    _t0: float | None = None

    def __post_init__(self) -> None:
        rng = np.random.default_rng([self.seed, 13])
        z = self.zones
        self.half_scale_n = FSR_HALF_SCALE_N * (1 + rng.uniform(-self.spread, self.spread, z))
        self.exponent = rng.uniform(*self.exponent_range, z)
        self.creep_gain = 1 + rng.uniform(-self.creep_spread, self.creep_spread, z)
        self.hysteresis_z = self.hysteresis * (1 + rng.uniform(-0.3, 0.3, z))
        self._creep_state = np.zeros((len(self.creep), z))
        self._lag_state = np.zeros(z)
        self._rng = np.random.default_rng([self.seed, 14])

    def counts(self, t: FloatArray, force: FloatArray) -> FloatArray:
        dt = float(t[1] - t[0]) if len(t) > 1 else 0.001
        if self._t0 is None:
            self._t0 = float(t[0])
        out = np.empty_like(force)
        for z in range(self.zones):
            f = np.maximum(force[:, z], 0.0)
            # rate hysteresis: towards a lagged copy of the force, vanishing at no load
            lag, self._lag_state[z] = first_order(f, FSR_HYSTERESIS_S, dt, self._lag_state[z])
            f_h = f + self.hysteresis_z[z] * f * (lag - f) / np.maximum(np.maximum(lag, f), 1.0)
            loaded = (f > FSR_LOADED_N).astype(np.float64)
            creep = np.zeros_like(f)
            for i, (amp, tau) in enumerate(self.creep):
                c, self._creep_state[i, z] = first_order(
                    loaded * amp, tau, dt, self._creep_state[i, z]
                )
                creep += c
            x = (f_h / self.half_scale_n[z]) ** self.exponent[z] * (1 + self.creep_gain[z] * creep)
            out[:, z] = ADC_FULL_SCALE * x / (1 + x)  # the divider
        return self._adc(t, out)

    def _adc(self, t: FloatArray, volts_counts: FloatArray) -> FloatArray:
        assert self._t0 is not None
        drift = self.drift_counts_per_hour * (t - self._t0) / 3600.0
        noisy = volts_counts + self.offset_counts + drift[:, None]
        noisy += self._rng.normal(0.0, self.noise_counts, noisy.shape)
        return np.clip(np.round(noisy), 0, ADC_FULL_SCALE)


@dataclass
class LoadCellModel:
    """Per-zone load-cell bridges (rated output 1 mV/V ± `spread`) with INA125 amplifiers."""

    zones: int
    seed: int = 0
    spread: float = 0.10
    capacity_n: float = 2000.0  # the force that gives 2.0 V out of the amplifier
    offset_v: float = 0.25
    drift_counts_per_hour: float = 8.0
    noise_counts: float = 1.0
    bandwidth_hz: float = 400.0
    nonlinearity: float = 0.0005  # of full scale, at mid-range
    creep: float = 0.001  # of the load, time constant CREEP_S
    gain: FloatArray = field(init=False)
    _lp_state: FloatArray = field(init=False)
    _creep_state: FloatArray = field(init=False)
    _rng: np.random.Generator = field(init=False)
    _t0: float | None = None

    def __post_init__(self) -> None:
        rng = np.random.default_rng([self.seed, 15])
        self.gain = 1 + rng.uniform(-self.spread, self.spread, self.zones)
        self._lp_state = np.zeros(self.zones)
        self._creep_state = np.zeros(self.zones)
        self._rng = np.random.default_rng([self.seed, 16])

    def counts(self, t: FloatArray, force: FloatArray) -> FloatArray:
        dt = float(t[1] - t[0]) if len(t) > 1 else 0.001
        if self._t0 is None:
            self._t0 = float(t[0])
        counts_per_n = 2.0 / 4.096 * ADC_FULL_SCALE / self.capacity_n
        out = np.empty_like(force)
        tau = 1.0 / (2 * math.pi * self.bandwidth_hz)
        for z in range(self.zones):
            f = force[:, z]
            u = f / self.capacity_n
            f_nl = f + self.nonlinearity * self.capacity_n * 4 * u * (1 - u)
            c, self._creep_state[z] = first_order(f * self.creep, 180.0, dt, self._creep_state[z])
            v, self._lp_state[z] = first_order(f_nl + c, tau, dt, self._lp_state[z])
            out[:, z] = v * self.gain[z] * counts_per_n
        assert self._t0 is not None
        drift = self.drift_counts_per_hour * (t - self._t0) / 3600.0
        offset = self.offset_v / 4.096 * ADC_FULL_SCALE
        noisy = out + offset + drift[:, None]
        noisy += self._rng.normal(0.0, self.noise_counts, noisy.shape)
        return np.clip(np.round(noisy), 0, ADC_FULL_SCALE)


SensorModel = FsrModel | LoadCellModel
