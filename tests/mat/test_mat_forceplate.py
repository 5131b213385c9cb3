"""The pipeline on real 1 kHz force-plate recordings (../shared/data/forceplate).

The true events below were established independently of the pipeline: by plotting each file
(both plates and their sum) and reading where the summed force leaves and returns to the
unloaded level (below 30 N), and which stretches are quiet standing. Counter-movement dips
(BFR011 at ~3.0, ~6.9 and ~10.7 s, down to ~250 N), the squat's dip and the stepping off at
the end of BFR012 (one foot lifted at 9.55-9.83 s, both gone from 11.33 s) are not flights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from station.events import MatPresence
from station.mat.pipeline import PipelineParams, analyze
from station.mat.recording import read_mat_csv

# file: (quiet-standing interval s, [(take-off s or None, touchdown s), ...]) from the plots
TRUTH: dict[str, tuple[tuple[float, float], list[tuple[float | None, float]]]] = {
    "cmj_dual": ((0.0, 1.5), [(2.354, 2.866)]),
    "dj_dual": ((3.6, 5.0), [(None, 1.894), (2.144, 2.633)]),
    "sj_dual": ((0.0, 1.8), [(2.162, 2.635)]),
    "squat_jump_BFR003": ((0.0, 0.9), [(2.401, 2.691), (5.918, 6.230), (9.674, 9.980)]),
    "squat_jump_BFR010": ((0.0, 0.55), [(1.924, 2.236), (4.114, 4.433), (6.232, 6.560)]),
    "squat_jump_BFR011": ((0.0, 1.2), [(3.563, 3.811), (7.360, 7.744), (11.138, 11.521)]),
    "squat_jump_BFR012": ((0.0, 3.3), [(4.784, 4.985), (6.378, 6.637), (8.100, 8.343)]),
}
TOL_S = 0.005
PLATE_TOL_S = 0.045  # one foot may leave ~40 ms before the other (BFR012 right: 4.746 s)


def _load(shared_data: Path, name: str):  # type: ignore[no-untyped-def]
    path = shared_data / "forceplate" / f"{name}.csv"
    if not path.exists():
        pytest.skip(f"{path} not present")
    return read_mat_csv(path)


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_summed_plates_find_every_jump_and_the_body_weight(shared_data: Path, name: str) -> None:
    rec = _load(shared_data, name)
    (q0, q1), events = TRUTH[name]
    result = analyze(rec.t, rec.force, rec.zones, PipelineParams(sample_rate_hz=1000.0))

    assert result.jumps == len(events), [(x.takeoff_s, x.t) for x in result.landings]
    for landing, (takeoff, touchdown) in zip(result.landings, events, strict=True):
        assert landing.t == pytest.approx(touchdown, abs=TOL_S)
        if takeoff is None:
            assert landing.takeoff_s is None and landing.flight_s is None
        else:
            assert landing.takeoff_s == pytest.approx(takeoff, abs=TOL_S)
            assert landing.flight_s == pytest.approx(touchdown - takeoff, abs=2 * TOL_S)
        assert landing.peak_bw is not None and landing.peak_bw > 1.5
    quiet = (rec.t >= q0) & (rec.t < q1)
    reference = float(rec.force[quiet].sum(axis=1).mean())
    assert result.body_weight_n is not None
    assert abs(result.body_weight_n - reference) / reference < 0.01


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_each_plate_alone_finds_the_same_jumps(shared_data: Path, name: str) -> None:
    rec = _load(shared_data, name)
    _, events = TRUTH[name]
    for zone in rec.zones:
        one = rec.select([zone])
        result = analyze(one.t, one.force, one.zones, PipelineParams(sample_rate_hz=1000.0))
        assert result.jumps == len(events), (zone, [(x.takeoff_s, x.t) for x in result.landings])
        for landing, (takeoff, touchdown) in zip(result.landings, events, strict=True):
            assert landing.t == pytest.approx(touchdown, abs=PLATE_TOL_S)
            if takeoff is not None:
                assert landing.takeoff_s == pytest.approx(takeoff, abs=PLATE_TOL_S)
        # One plate does not carry a whole body, so impulse-momentum gives the plate's mean
        # share over the stay, not its share while standing (the member shifts between feet
        # as they jump: up to 11 % apart here); the load is still the plate's own.
        (q0, q1), _ = TRUTH[name]
        quiet = (one.t >= q0) & (one.t < q1)
        reference = float(one.force[quiet, 0].mean())
        assert result.body_weight_n is not None
        assert abs(result.body_weight_n - reference) / reference < 0.15


@pytest.mark.parametrize("name", ["squat_jump_BFR012", "dj_dual"])
def test_live_blocks_give_the_same_answer_as_the_whole_file(shared_data: Path, name: str) -> None:
    rec = _load(shared_data, name)
    params = PipelineParams(sample_rate_hz=1000.0)
    whole = analyze(rec.t, rec.force, rec.zones, params)
    for block in (1, 5, 37):
        live = analyze(rec.t, rec.force, rec.zones, params, block=block)
        assert live.to_json() == whole.to_json()
        assert live.events == whole.events


def test_stepping_off_ends_presence_without_a_landing(shared_data: Path) -> None:
    rec = _load(shared_data, "squat_jump_BFR012")
    # The recording ends 0.4 s after the member left (11.33 s): let the empty mat run on.
    extra = np.arange(1, 1501) * 0.001 + rec.t[-1]
    t = np.concatenate([rec.t, extra])
    force = np.concatenate([rec.force, np.zeros((len(extra), 2))])
    params = PipelineParams(sample_rate_hz=1000.0)
    pipe_result = analyze(t, force, rec.zones, params)
    assert pipe_result.jumps == 3
    assert pipe_result.state.on_mat is False
    presence = [e for e in pipe_result.events if isinstance(e, MatPresence)]
    assert presence[-1].on_mat is False
    assert presence[-1].t == pytest.approx(11.33 + params.step_off_s, abs=0.01)
    assert analyze(rec.t, rec.force, rec.zones, params).state.on_mat is True  # not yet


def test_no_landing_while_standing_still(shared_data: Path) -> None:
    rec = _load(shared_data, "cmj_dual")
    standing = rec.t < 1.5
    t, f = rec.t[standing], rec.force[standing]
    noisy = f + np.random.default_rng(3).normal(0, 8.0, f.shape)
    assert analyze(t, noisy, rec.zones, PipelineParams(sample_rate_hz=1000.0)).jumps == 0
