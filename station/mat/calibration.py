"""ADC counts → newtons per zone, a zero that follows drift while the mat is empty, and the
raw-signal checks only the counts can show (a zone pinned at full scale).

Pure code on blocks of counts; the ADC reader calls it on its own thread before handing a
ForceBlock over, so the pipeline only ever sees newtons."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

FULL_SCALE = {"mcp3008": 1023, "mcp3208": 4095}

EMPTY_BEFORE_TRACKING_S = 1.0
"""The mat must have been empty this long before the zero starts following it."""

ZERO_TIME_CONSTANT_S = 5.0
"""The zero follows an empty mat's drift with this time constant (slow: a foot hovering just
above the floor threshold must not be tared away)."""

STUCK_S = 0.5
"""A zone reading full scale this long is shorted or overloaded."""


@dataclass
class Calibration:
    zones: tuple[str, ...]
    offsets: NDArray[np.float64]
    scales: NDArray[np.float64]
    tables: dict[int, tuple[NDArray[np.float64], NDArray[np.float64]]] = field(default_factory=dict)
    full_scale: int = 1023
    zero_tracking: bool = True
    floor_n: float = 30.0
    _empty_s: float = 0.0
    _pinned_s: NDArray[np.float64] | None = None

    @classmethod
    def from_config(cls, mat: Mapping[str, Any]) -> Calibration:
        zones = tuple(mat["zones"])
        tables = {}
        for name, table in mat.get("tables", {}).items():
            tables[zones.index(name)] = (
                np.asarray(table["counts"], dtype=np.float64),
                np.asarray(table["newtons"], dtype=np.float64),
            )
        return cls(
            zones,
            np.asarray(mat["offset_counts"], dtype=np.float64),
            np.asarray(mat["scale_n_per_count"], dtype=np.float64),
            tables,
            FULL_SCALE[mat["adc_chip"]],
            bool(mat["zero_tracking"]),
            float(mat["floor_n"]),
        )

    def newtons(self, counts: NDArray[np.float64]) -> NDArray[np.float64]:
        """counts [N, zones] → newtons [N, zones] (no zero tracking: a pure function)."""
        above = counts - self.offsets
        out = above * self.scales
        for z, (xs, ys) in self.tables.items():
            out[:, z] = piecewise_linear(above[:, z], xs, ys)
        return out

    def apply(
        self, counts: NDArray[np.float64], dt: float
    ) -> tuple[NDArray[np.float64], list[str]]:
        """Calibrate one block of `dt` seconds, follow the zero while the mat is empty, and
        return the per-zone problems seen in the raw counts ("" for a healthy zone)."""
        force = self.newtons(counts)
        if self.zero_tracking:
            self._track_zero(counts, force, dt)
        return force, self._check_pinned(counts, dt)

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
