"""The mat's health, judged in one place for `station diag` and the console's Mat page.

Pure functions on what each side can see:

* :func:`health_from_counts` – raw ADC counts of an empty mat (`station diag` reads them through
  the station's own sampling loop): each zone's zero drift since calibration and noise, in
  newtons through its calibration, and full scale (shorted, overloaded or saturating);
* :func:`health_from_force` – what the running station has: the calibrated force of the last
  half second per zone (`recent_force`: block means) and the pipeline's own zone verdicts (a
  zone that carried no force through ten landings while the others did is dead or stuck, one
  pinned at full scale is shorted, NaN readings are a broken input).

A dead or stuck zone shows only under load (an unloaded FSR reads a steady 0 V, exactly like a
disconnected one), so the counts of an empty mat cannot tell; the pipeline's verdict can.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from station.mat.calibration import Calibration
from station.mat.settings import MatSettings

NOISY_N = 10.0
"""An empty zone noisier than this (sd, newtons) cannot see the contact threshold's floor."""

FAR_FROM_ZERO_FLOORS = 5.0
"""An empty zone reading more than this many contact floors (`mat.floor_n`) away from its zero
needs recalibrating (or someone is standing on it)."""

DRIFTED_FLOORS = 0.5
"""An empty zone off its zero by more than half the contact floor is drifting: the automatic
re-zeroing follows it while the mat is empty, but it is worth knowing."""

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class ZoneHealth:
    """One zone of the mat."""

    zone: str
    drift_n: float | None  # the empty zone's reading: its zero's error (None: not measured)
    noise_n: float | None  # standard deviation at the zero, newtons (None: not measured)
    problem: str  # "" when healthy
    severity: str = OK  # ok, warn or fail
    level_counts: float | None = None  # raw counts, when they were read

    def line(self) -> str:
        parts = []
        if self.level_counts is not None:
            parts.append(f"reads {self.level_counts:.0f} counts")
        if self.drift_n is not None:
            parts.append(f"{self.drift_n:+.0f} N from its calibrated zero")
        if self.noise_n is not None:
            parts.append(f"noise {self.noise_n:.1f} N")
        text = f"{self.zone}: " + (", ".join(parts) or "no readings")
        return text + (f": {self.problem}" if self.problem else "")


@dataclass(frozen=True)
class MatHealth:
    """Every zone's health, and the mat's as a whole (the worst zone)."""

    zones: tuple[ZoneHealth, ...]
    measured: str  # what it was judged from, in words

    @property
    def status(self) -> str:
        severities = {z.severity for z in self.zones}
        return FAIL if FAIL in severities else WARN if WARN in severities else OK

    def summary(self) -> str:
        bad = [z for z in self.zones if z.problem]
        if not bad:
            return "every zone reads its calibrated zero, quietly"
        worst = sorted(bad, key=lambda z: z.severity != FAIL)[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        return f"zone {worst.zone}: {worst.problem}{more}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "summary": self.summary(),
            "measured": self.measured,
            "zones": [asdict(z) for z in self.zones],
        }


def judge_zone(
    zone: str,
    drift_n: float | None,
    noise_n: float | None,
    floor_n: float,
    *,
    pinned: bool = False,
    saturating: bool = False,
    verdict: str = "",
    level_counts: float | None = None,
) -> ZoneHealth:
    """One zone's health from what was measured of it; the first problem found is named."""
    problem, severity = "", OK
    if pinned:
        problem, severity = "reads full scale: shorted or overloaded sensor", FAIL
    elif verdict and verdict != "ok":
        problem, severity = verdict, FAIL  # the pipeline's: dead, stuck, pinned, NaN
    elif saturating:
        problem, severity = "touches full scale: saturating", WARN
    elif drift_n is not None and abs(drift_n) > FAR_FROM_ZERO_FLOORS * floor_n:
        problem = "far from its zero: recalibrate (or is someone on the mat?)"
        severity = WARN
    elif noise_n is not None and noise_n > NOISY_N:
        problem, severity = "noisy: check the wiring and the ADC's reference", WARN
    elif drift_n is not None and abs(drift_n) > DRIFTED_FLOORS * floor_n:
        problem = f"zero drifted by {drift_n:+.0f} N since calibration (re-zeroed while empty)"
        severity = WARN
    return ZoneHealth(zone, drift_n, noise_n, problem, severity, level_counts)


def health_from_counts(mat: MatSettings, counts: NDArray[np.float64]) -> MatHealth:
    """Health from raw counts [samples, zones] read while the mat is empty: zero drift since
    calibration and noise through each zone's calibration, and full scale."""
    cal = Calibration.from_settings(mat)
    counts = np.asarray(counts, dtype=np.float64)
    level = counts.mean(axis=0)
    sd = counts.std(axis=0)
    at_level = cal.newtons(level[None, :])[0]
    step = np.maximum(sd, 1.0)
    slope = (cal.newtons((level + step)[None, :])[0] - at_level) / step
    zones = []
    for z, name in enumerate(cal.zones):
        col = counts[:, z]
        zones.append(
            judge_zone(
                name,
                float(at_level[z]),
                float(sd[z] * abs(slope[z])),
                cal.floor_n,
                pinned=bool(col.min() >= cal.full_scale - 1),
                saturating=bool(col.max() >= cal.full_scale - 1),
                level_counts=float(level[z]),
            )
        )
    return MatHealth(tuple(zones), f"{len(counts)} raw readings of the empty mat")


def health_from_force(
    zones: Sequence[str],
    empty_force_n: NDArray[np.float64] | None,
    zone_status: Mapping[str, str],
    floor_n: float,
) -> MatHealth:
    """Health from the running station: `empty_force_n` [blocks, zones] of calibrated force
    while the mat is empty (None when someone is on it: zero and noise cannot be judged then)
    and the pipeline's verdict per zone ("ok" or its problem)."""
    zones_out = []
    for z, name in enumerate(zones):
        drift = noise = None
        if empty_force_n is not None and len(empty_force_n):
            col = np.asarray(empty_force_n, dtype=np.float64)[:, z]
            drift, noise = float(col.mean()), float(col.std())
        zones_out.append(
            judge_zone(name, drift, noise, floor_n, verdict=zone_status.get(name, "ok"))
        )
    what = "the live mat, empty" if empty_force_n is not None else "the live mat (in use)"
    return MatHealth(tuple(zones_out), what)
