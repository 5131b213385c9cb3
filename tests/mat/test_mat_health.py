"""The mat's health (station.mat.health): one pure judgement for `station diag` and the
console, from raw counts or from the running pipeline."""

from __future__ import annotations

import json

import numpy as np

from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.events import ForceBlock
from station.mat.health import FAIL, OK, WARN, health_from_counts, health_from_force
from station.mat.settings import MatSettings
from station.mat.synth import Jumps, Stand, synthetic_session
from station.mat.tracker import MatTracker

ZONES = ("left_heel", "left_fore", "right_heel", "right_fore")


def test_a_dead_zone_found_by_the_pipeline_shows_in_the_health() -> None:
    """A dead zone reads like an unloaded one on an empty mat; under jumping the pipeline
    names it, and the health the console shows carries that verdict."""
    t, force, _ = synthetic_session([Stand(2.0), Jumps(15)], ZONES, dead=("right_fore",))
    mat = {"zones": list(ZONES), "channels": [0, 1, 2, 3], "offset_counts": [0.0] * 4,
           "scale_n_per_count": [1.0] * 4}  # fmt: skip
    tracker = MatTracker(build_config(SCHEMA, [("t", {"mat": mat})]))
    for i in range(0, len(t), 5):
        tracker.handle(ForceBlock(float(t[i : i + 5][-1]), t[i : i + 5], force[i : i + 5], ZONES))
    health = health_from_force(ZONES, None, tracker.state.zone_status, 30.0)
    assert health.status == FAIL
    assert "right_fore" in health.summary() and "no force in 10 landings" in health.summary()
    assert [z.severity for z in health.zones] == [OK, OK, OK, FAIL]
    json.dumps(health.to_dict())  # what the console gets


def test_the_empty_live_mat_drifting_or_noisy() -> None:
    rng = np.random.default_rng(2)
    blocks = np.column_stack(
        [rng.normal(0, 0.5, 100), rng.normal(22, 0.5, 100), rng.normal(0, 14, 100)]
    )
    health = health_from_force(("a", "b", "c"), blocks, {}, 30.0)
    a, b, c = health.zones
    assert a.problem == "" and b.severity == WARN and "drifted by +22 N" in b.problem
    assert c.problem.startswith("noisy")
    assert health.status == WARN and health.summary().endswith("(and 1 more)")


def test_raw_counts_of_a_saturating_fsr_zone() -> None:
    mat = MatSettings.from_config(build_config(SCHEMA, [("test", {"mat": {
        "zones": ["left", "right"], "offset_counts": [5.0, 5.0], "model": "fsr",
        "scale_n_per_count": [900.0, 900.0], "exponent": [1.0, 1.0], "adc_chip": "mcp3008",
        "zero_tracking": True, "floor_n": 30.0}})]))  # fmt: skip
    counts = np.column_stack([np.full(200, 5.0), np.r_[np.full(199, 600.0), 1023.0]])
    left, right = health_from_counts(mat, counts).zones
    assert left.problem == "" and left.drift_n == 0.0
    assert right.problem == "touches full scale: saturating"
