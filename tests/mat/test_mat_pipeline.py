"""The landing pipeline on synthetic sessions with known answers, and on bad input."""

from __future__ import annotations

import numpy as np
import pytest

from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.events import DeviceStatus, Landing, MatPresence
from station.mat.pipeline import MatPipeline, PipelineParams, analyze
from station.mat.synth import Jumps, Off, Stand, synthetic_session

LR = ("left", "right")
FOUR = ("left_heel", "left_fore", "right_heel", "right_fore")

SESSIONS = {
    "single bounce": ([Stand(2, step_on=True), Jumps(30), Stand(1.5)], LR, ()),
    "alternate foot": (
        [Stand(2), Jumps(24, style="alternate", flight_s=0.1, contact_s=0.17), Stand(1)],
        LR,
        (),
    ),
    "double-unders": (
        [Stand(2), Jumps(5), Jumps(6, flight_s=0.42, contact_s=0.22), Jumps(4), Stand(1)],
        LR,
        (),
    ),
    "a miss": ([Stand(2), Jumps(10), Stand(1.2), Jumps(12), Stand(1)], LR, ()),
    "heel slaps": ([Stand(2), Jumps(8), Jumps(6, landing="heel"), Jumps(5), Stand(1)], FOUR, ()),
    "dead zone": ([Stand(2), Jumps(25), Stand(1)], FOUR, ("right_fore",)),
    "no standing first": ([Jumps(20), Stand(1)], LR, ()),
    "stepping off and on": (
        [Stand(2), Jumps(10), Stand(1), Off(2), Stand(2, step_on=True), Jumps(7), Stand(1)],
        LR,
        (),
    ),
}


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_simulated_sessions_count_exactly_and_judge_right(name: str) -> None:
    plan, zones, dead = SESSIONS[name]
    t, force, truth = synthetic_session(plan, zones, noise_n=5.0, dead=dead, seed=7)
    result = analyze(t, force, zones)

    assert result.jumps == len(truth.touchdowns)
    found = np.array([x.t for x in result.landings])
    assert np.abs(found - np.array(truth.touchdowns)).max() <= 0.004
    assert [x.hard for x in result.landings] == truth.hard
    assert result.state.doubles == truth.doubles
    assert sum(x.double_under for x in result.landings) == truth.doubles
    assert [x.count for x in result.landings] == list(range(1, result.jumps + 1))


def test_heel_slaps_are_hard_with_reasons_and_soft_landings_are_not() -> None:
    plan, zones, _ = SESSIONS["heel slaps"]
    t, force, _ = synthetic_session(plan, zones, noise_n=5.0, seed=1)
    landings = analyze(t, force, zones).landings
    soft = [x for x in landings if not x.hard]
    hard = [x for x in landings if x.hard]
    assert len(hard) == 6
    assert all(x.heel_first for x in hard) and not any(x.heel_first for x in soft)
    assert all("heel-first touchdown" in x.reasons for x in hard)
    assert all(any(r.startswith("loading rate") for r in x.reasons) for x in hard)
    assert all(x.peak_bw is not None and 2.0 < x.peak_bw < 3.5 for x in soft)


def test_thresholds_come_from_the_preset_in_force() -> None:
    t, force, _ = synthetic_session([Stand(2), Jumps(6, flight_s=0.42, contact_s=0.22)], LR)
    cfg = build_config(
        SCHEMA,
        [
            (
                "site",
                {
                    "presets": {"strict": {"landing": {"peak_warn_bw": 2.0, "peak_fault_bw": 4.0}}},
                    "posture": {"preset": "strict"},
                },
            )
        ],
    )
    strict = analyze(t, force, LR, PipelineParams.from_config(cfg))
    default = analyze(t, force, LR, PipelineParams.from_config(build_config(SCHEMA, [])))
    assert all(x.hard for x in strict.landings)  # peaks ~4.6 BW
    assert not any(x.hard for x in default.landings)
    assert all(x.warn for x in default.landings)


def test_miss_breaks_the_streak_and_stepping_off_ends_presence() -> None:
    plan = [Stand(2), Jumps(10), Stand(1.2), Jumps(12), Stand(1), Off(2)]
    t, force, _ = synthetic_session(plan, LR, noise_n=3.0)
    result = analyze(t, force, LR)
    st = result.state
    assert (st.count, st.misses, st.best_streak, st.on_mat) == (22, 1, 12, False)
    presence = [e for e in result.events if isinstance(e, MatPresence)]
    assert presence[0].on_mat and presence[-1].on_mat is False
    assert st.body_weight_n is None  # re-captured by the next session


def test_cadence_follows_the_rhythm() -> None:
    t, force, _ = synthetic_session([Stand(2), Jumps(30, flight_s=0.13, contact_s=0.2)], LR)
    st = analyze(t, force, LR).state
    assert st.cadence_per_min == pytest.approx(60 / 0.33, rel=0.02)


def test_dead_zone_is_reported_and_counting_carries_on() -> None:
    plan, zones, dead = SESSIONS["dead zone"]
    t, force, truth = synthetic_session(plan, zones, noise_n=2.0, dead=dead)
    result = analyze(t, force, zones)
    assert result.jumps == len(truth.touchdowns)
    assert result.state.zone_status["right_fore"].startswith("no force")
    assert result.state.degraded
    statuses = [e for e in result.events if isinstance(e, DeviceStatus)]
    assert [s.device for s in statuses] == ["mat.right_fore"] and not statuses[0].ok


def test_asymmetry_when_one_foot_carries_more() -> None:
    t, force, _ = synthetic_session([Stand(2), Jumps(10)], LR)
    force[:, 0] *= 1.5
    x = analyze(t, force, LR).landings[3]
    assert x.asymmetry_pct == pytest.approx(100 * 0.5 / 2.5, abs=1.0)


def test_blocks_of_any_size_give_identical_results() -> None:
    plan, zones, dead = SESSIONS["a miss"]
    t, force, _ = synthetic_session(plan, zones, noise_n=5.0, dead=dead, seed=3)
    whole = analyze(t, force, zones)
    for block in (1, 4, 5, 99, 1000):
        assert analyze(t, force, zones, block=block).events == whole.events


def test_bad_input_degrades_and_never_raises() -> None:
    t, force, truth = synthetic_session([Stand(2), Jumps(12), Stand(1)], LR, noise_n=3.0)
    force = force.copy()
    force[3000:3010, 1] = np.nan  # a zone with missing readings
    t = t.copy()
    t[4000] = np.nan  # a sample without a time
    t[5000] = t[4990]  # a time that goes backwards
    pipe = MatPipeline(LR)
    events = []
    for i in range(0, len(t), 5):
        events += pipe.feed(t[i : i + 5], force[i : i + 5])
    events += pipe.feed(np.array([1.0, 2.0]), np.zeros((3, 2)))  # wrong shape
    events += pipe.finish()
    assert sum(isinstance(e, Landing) for e in events) == len(truth.touchdowns)
    problems = " | ".join(pipe.state.problems)
    assert "without a valid time" in problems and "out of order" in problems
    assert "does not match 2 zones" in problems
    right = [
        (e.ok, e.message) for e in events if isinstance(e, DeviceStatus) and e.device == "mat.right"
    ]
    assert right == [(False, "no readings (NaN)"), (True, "")]  # and back when readings return
    assert pipe.state.zone_status["right"] == "ok"


@pytest.mark.parametrize("level", [0.0, 4095.0])
def test_stuck_adc_gives_no_jumps_and_no_crash(level: float) -> None:
    t = np.arange(5000) / 1000.0
    force = np.full((5000, 2), level)
    result = analyze(t, force, LR)
    assert result.jumps == 0


def test_a_lasting_input_problem_is_reported_now_and_then_not_every_block() -> None:
    pipe = MatPipeline(LR)
    told = []
    for k in range(2000):  # 10 s of 5 ms blocks, each with one sample lacking a time
        t = k * 0.005 + np.arange(5) * 0.001
        t[2] = np.nan
        told += [e for e in pipe.feed(t, np.zeros((5, 2))) if isinstance(e, DeviceStatus)]
    assert 1 <= len(told) <= 3
    assert {e.device for e in told} == {"mat.input"}  # a degradation: the mat still counts
    assert "without a valid time" in pipe.state.problems[-1]


def test_a_zone_stuck_at_a_level_is_reported_like_a_dead_one() -> None:
    zones = ("left_heel", "left_fore", "right_heel", "right_fore")
    t, force, truth = synthetic_session([Stand(2), Jumps(25), Stand(1)], zones, noise_n=4.0)
    # stuck at ~12 N (below the flight threshold: a zone stuck higher makes the mat look
    # loaded all the time, and no flight is seen; docs/mat.md, Limits)
    force[:, 1] = 12.0 + np.random.default_rng(2).normal(0, 2.0, len(t))
    result = analyze(t, force, zones)
    assert result.jumps == len(truth.touchdowns)
    assert result.state.zone_status["left_fore"].startswith("no force in 10 landings")
    assert all(result.state.zone_status[z] == "ok" for z in zones if z != "left_fore")
