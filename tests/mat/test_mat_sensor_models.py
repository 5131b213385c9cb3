"""The whole mat pipeline through simulated real sensors (station.sim.sensors), after their
calibration procedure (station.mat.evaluate), against the same data on an ideal plate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from station.config.loader import ConfigInvalid, build_config
from station.config.sections import SCHEMA
from station.mat.calibration import fit_zone
from station.mat.evaluate import MODELS, compare, measure, recordings
from station.mat.pipeline import PipelineParams, analyze
from station.mat.synth import rope_session

PARAMS = PipelineParams(sample_rate_hz=1000.0)


def _check(name: str, t, force, zones, kind: str) -> None:  # type: ignore[no-untyped-def]
    ideal = analyze(t, force, zones, PARAMS)
    measured, _ = measure(kind, t, force, zones, seed=3)
    e = compare(ideal, analyze(t, measured, zones, PARAMS))
    assert e.count_ok, name
    assert e.peak_pct <= 5.0, (name, e)
    assert e.rate_pct <= 10.0, (name, e)
    assert e.asym_points <= 5.0, (name, e)
    assert max(e.touchdown_ms, e.takeoff_ms) <= 2.0 + 1e-6, (name, e)  # 2 samples
    assert e.body_weight_pct <= 2.0, (name, e)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_force_plate_files_and_a_rope_session_through_each_sensor(
    shared_data: Path, kind: str
) -> None:
    for name, t, force, zones in recordings(shared_data, quick=True):
        _check(name, t, force, zones, kind)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_synthetic_rope_sessions_through_each_sensor(kind: str) -> None:
    zones = ("left_heel", "left_fore", "right_heel", "right_fore")
    t, force, _ = rope_session(40.0, zones, seed=2)
    _check("rope 4 zones", t, np.maximum(force, 0.0), zones, kind)


def test_the_simulators_heel_slaps_on_four_fsr_zones() -> None:
    """The session behind the issue's 11.1 %: the simulator's `default` script (soft landings
    and 16 heel slaps) on four FSR zones. The error came from the time of a flat-topped soft
    peak, decided by noise to ±15 ms; the plateau's middle holds it within 10 %."""
    from station.config.loader import build_config as build
    from station.sim import sources as sim
    from station.sim.script import packaged_scripts

    zones = ("left_heel", "left_fore", "right_heel", "right_fore")
    mat = {"zones": list(zones), "channels": [0, 1, 2, 3], "offset_counts": [0.0] * 4,
           "scale_n_per_count": [1.0] * 4, "exponent": [1.0] * 4}  # fmt: skip
    source = sim.simulated_mat(
        build(SCHEMA, [("t", {"mat": mat})]), packaged_scripts()["default"], 5
    )
    t, f = source.samples(0.0, source.model.script.duration_s, np.random.default_rng(5))
    _check("sim default (4 zones)", t, np.maximum(f, 0.0), zones, "fsr")


def test_twenty_minutes_on_a_creeping_drifting_fsr_mat() -> None:
    """Creep (~10 % under steady load), zero drift of 15 counts, part spread: the weight holds
    within 2 % and every jump is counted."""
    zones = ("left", "right")
    t, force, truth = rope_session(1200.0, zones, seed=4)
    measured, _ = measure("fsr", t, np.maximum(force, 0.0), zones, seed=4, block=200)
    result = analyze(t, measured, zones, PARAMS)
    assert result.jumps == len(truth.touchdowns)
    assert result.body_weight_n is not None
    assert abs(result.body_weight_n / truth.body_weight_n - 1) < 0.02
    # the weight the pipeline judged the last landings with, twenty minutes in, and the zero
    # drift it re-zeroed away (none here: the member never leaves; see the re-zero test)
    assert result.state.body_weight_n is not None
    assert abs(result.state.body_weight_n / truth.body_weight_n - 1) < 0.02


def test_the_calibration_recovers_a_power_law() -> None:
    loads = np.array([200.0, 400.0, 800.0])
    x = (loads / 900.0) ** 1.1  # conductance relative to the divider's resistor
    above = 4095 * x / (1 + x)
    scale, exponent = fit_zone("fsr", loads, above, 4095.0)
    assert exponent == pytest.approx(1 / 1.1, rel=1e-6)
    assert scale == pytest.approx(900.0, rel=1e-6)
    assert fit_zone("linear", loads, loads / 2, 4095.0) == pytest.approx((2.0, 1.0))
    with pytest.raises(ValueError):
        fit_zone("fsr", loads[:1], above[:1], 4095.0)


def test_the_fsr_model_is_stored_in_the_site_config_and_validated() -> None:
    mat = {"model": "fsr", "exponent": [0.9, 1.05], "scale_n_per_count": [950.0, 1010.0]}
    cfg = build_config(SCHEMA, [("site", {"mat": mat})])
    assert cfg["mat"]["model"] == "fsr"
    with pytest.raises(ConfigInvalid, match=r"mat\.exponent"):
        build_config(SCHEMA, [("site", {"mat": {"model": "fsr", "exponent": [1.0]}})])
    with pytest.raises(ConfigInvalid, match=r"mat\.model"):
        build_config(SCHEMA, [("site", {"mat": {"model": "velostat"}})])


def test_the_empty_mat_is_re_zeroed_and_the_drift_logged(caplog: pytest.LogCaptureFixture) -> None:
    from station.mat.calibration import Calibration

    cal = Calibration(("left", "right"), np.array([10.0, 10.0]), np.array([1.0, 1.0]), {}, 4095)
    rng = np.random.default_rng(0)
    with caplog.at_level("INFO", logger="station.mat.calibration"):
        for k in range(0, 60_000, 5):  # a minute of empty mat, zero drifting 30 counts
            drift = 10.0 + 30.0 * k / 60_000
            counts = drift + rng.normal(0, 1.0, (5, 2))
            force, _ = cal.apply(counts, 0.005)
    # followed with the zero's 5 s time constant: a lag of 0.5 count/s × 5 s behind the ramp
    assert cal.drift_counts() == pytest.approx([27.5, 27.5], abs=1.0)
    assert np.abs(force).max() < 5.0  # the empty mat still reads ~0 N
    assert cal.rezeros >= 10 and "re-zeroed while empty" in caplog.text
    # someone on the mat: the zero stays put
    before = cal.offsets.copy()
    for _ in range(400):
        cal.apply(np.full((5, 2), 400.0), 0.005)
    assert cal.offsets == pytest.approx(before)


def test_health_of_an_empty_mat() -> None:
    from station.mat.health import health_from_counts
    from station.mat.settings import MatSettings

    mat = MatSettings.from_config(build_config(SCHEMA, [("test", {"mat": {
        "zones": ["left", "right", "heel"], "channels": [0, 1, 2],
        "offset_counts": [10.0, 10.0, 10.0], "scale_n_per_count": [1.0, 1.0, 1.0],
        "exponent": [1.0, 1.0, 1.0], "adc_chip": "mcp3208", "zero_tracking": True,
        "floor_n": 30.0, "model": "linear"}})]))  # fmt: skip
    rng = np.random.default_rng(1)
    counts = np.column_stack(
        [10 + rng.normal(0, 1, 500), 60 + rng.normal(0, 40, 500), np.full(500, 4095.0)]
    )
    left, right, heel = health_from_counts(mat, counts).zones
    assert left.problem == "" and abs(left.drift_n) < 1 and left.noise_n < 2
    assert right.problem.startswith("noisy") and right.drift_n == pytest.approx(50, abs=5)
    assert heel.problem.startswith("reads full scale")
