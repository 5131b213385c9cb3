"""The one home of the calibration maths (station.mat.calibration), as the console's Zero,
Scale and multi-point buttons use it: exact for both sensor models, not only for load cells."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.mat.calibration import (
    Calibration,
    refit_from_readings,
    rescaled,
    zeroed_offsets,
)
from station.mat.settings import MatSettings

FSR_MAT = {
    "zones": ["left", "right"],
    "offset_counts": [40.0, 55.0],
    "scale_n_per_count": [900.0, 1300.0],
    "exponent": [1.1, 0.93],
    "model": "fsr",
    "adc_chip": "mcp3208",
    "zero_tracking": False,
    "floor_n": 30.0,
}
LINEAR_MAT = {**FSR_MAT, "model": "linear", "scale_n_per_count": [0.8, 1.2]}


def settings(mat: dict[str, Any]) -> MatSettings:
    """[mat] as a site file sets it, through the schema's checks."""
    return MatSettings.from_config(build_config(SCHEMA, [("test", {"mat": mat})]))


def calibration(mat: dict[str, Any]) -> Calibration:
    return Calibration.from_settings(settings(mat))


@pytest.mark.parametrize("mat", [FSR_MAT, LINEAR_MAT], ids=["fsr", "linear"])
def test_counts_above_inverts_newtons(mat: dict[str, Any]) -> None:
    cal = calibration(mat)
    counts = np.array([[10.0, 55.0], [700.0, 2400.0], [30.0, 40.0]])  # above and below the zero
    force = cal.newtons(counts)
    for row, f in zip(counts, force, strict=True):
        assert cal.counts_above(f) + cal.offsets == pytest.approx(row, abs=1e-6)


@pytest.mark.parametrize("mat", [FSR_MAT, LINEAR_MAT], ids=["fsr", "linear"])
@pytest.mark.parametrize("drift", [+25.0, -18.0])
def test_zero_is_exact_whichever_way_the_zero_drifted(mat: dict[str, Any], drift: float) -> None:
    """The empty mat now reads the drifted zero; the new offsets are that zero, to the count,
    for an FSR too (it used to divide the force by the scale: right for load cells only)."""
    cal = calibration(mat)
    true_zero = np.asarray(mat["offset_counts"]) + drift
    empty_force = cal.newtons(true_zero[None, :])[0]
    assert zeroed_offsets(settings(mat), empty_force) == pytest.approx(true_zero.tolist(), abs=0.01)


def test_one_known_load_corrects_a_gain_error_of_an_fsr() -> None:
    """A part whose force at a given conductance is 20 % above what the calibration says:
    scaled once with one load, it reads every other load right."""
    true = {**FSR_MAT, "scale_n_per_count": [1080.0, 1300.0]}
    counts_for_load = calibration(true).counts_above(np.array([600.0, 0.0]))
    offsets = np.asarray(FSR_MAT["offset_counts"])
    read = calibration(FSR_MAT).newtons((offsets + counts_for_load)[None, :])[0]
    scales, factor, measured = rescaled(settings(FSR_MAT), 600.0, read, [0])
    assert factor == pytest.approx(1.2, rel=1e-6) and measured == pytest.approx(600 / 1.2)
    fixed = calibration({**FSR_MAT, "scale_n_per_count": scales})
    other = calibration(true).counts_above(np.array([150.0, 0.0]))
    assert fixed.newtons((offsets + other)[None, :])[0][0] == pytest.approx(150.0, rel=1e-5)


def test_multi_point_fit_from_readings_recovers_the_part() -> None:
    """The console's multi-point calibration: three known loads read through a wrong model
    (scale and exponent off) give back the part's own model."""
    part = {**FSR_MAT, "scale_n_per_count": [700.0, 1300.0], "exponent": [1.2, 0.93]}
    loads = np.array([200.0, 400.0, 800.0])
    offsets = np.asarray(FSR_MAT["offset_counts"])
    wrong = calibration(FSR_MAT)
    readings = []
    for load in loads:
        counts = offsets + calibration(part).counts_above(np.array([load, 0.0]))
        readings.append(wrong.newtons(counts[None, :])[0][0])
    scale, exponent = refit_from_readings(
        settings(FSR_MAT), 0, loads, np.array(readings), held_s=0.0
    )
    assert (scale, exponent) == pytest.approx((700.0, 1.2), rel=1e-6)
    with pytest.raises(ValueError, match="read nothing"):
        refit_from_readings(settings(FSR_MAT), 1, loads, np.zeros(3), held_s=0.0)
