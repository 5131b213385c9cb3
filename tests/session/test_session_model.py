from __future__ import annotations

import pytest

from station.config.loader import build_config
from station.config.sections import SCHEMA
from station.session.model import Observation, Session

SETTINGS = build_config(SCHEMA, [])["session"]  # calibrate 2 s, end after 5 s off, summary 15 s


def run_mat_session(jump_times: list[float], off_at: float, until: float) -> Session:
    """Step on at 1 s, stand still, jump at `jump_times`, step off at `off_at`."""
    session = Session(SETTINGS)
    jumps = iter(sorted(jump_times))
    nxt = next(jumps, None)
    t = 0.0
    while t < until:
        on = 1.0 <= t < off_at
        session.observe(
            Observation(
                t,
                on_mat=on,
                mat_still=on and t > 2.0,
                person_in_view=on,
                baseline_ready=on and t > 2.5,
            )
        )
        while nxt is not None and nxt <= t:
            session.add_jump(nxt)
            nxt = next(jumps, None)
        t = round(t + 0.02, 6)
    return session


def test_full_lifecycle_counts_and_summarises() -> None:
    jumps = [5.0 + 0.5 * i for i in range(40)]  # 120 jumps/min from 5 s to 24.5 s
    session = run_mat_session(jumps, off_at=26.0, until=40.0)
    summary = session.last_summary
    assert summary is not None
    assert summary.jumps == 40 and summary.best_streak == 40 and summary.misses == 0
    assert summary.cadence_avg_per_min == pytest.approx(120.0)
    assert summary.duration_s == pytest.approx(26.0 - 3.0, abs=0.05)  # active at 3 s
    assert session.phase == "summary"


def test_summary_returns_to_idle() -> None:
    session = run_mat_session([5.0, 5.5], off_at=6.0, until=6.0 + 5.0 + 15.0 + 0.1)
    assert session.phase == "idle" and session.stats is None


def test_brief_step_off_does_not_end_session() -> None:
    session = Session(SETTINGS)
    t = 0.0
    phases = []
    while t < 20.0:
        on = not (10.0 <= t < 13.0)  # 3 s off: shorter than end_after_off_s
        changed = session.observe(Observation(t, on_mat=on, mat_still=True))
        if changed:
            phases.append(changed)
        t = round(t + 0.1, 6)
    assert phases == ["calibrating", "active"]


def test_miss_breaks_streak() -> None:
    jumps = [5.0 + 0.5 * i for i in range(10)] + [12.0 + 0.5 * i for i in range(6)]
    summary = run_mat_session(jumps, off_at=16.0, until=22.0).last_summary
    assert summary is not None
    assert summary.jumps == 16 and summary.misses == 1 and summary.best_streak == 10


def test_passer_by_in_camera_does_not_start_a_session_when_a_mat_is_fitted() -> None:
    session = Session(SETTINGS)
    for i in range(100):
        session.observe(Observation(i * 0.1, on_mat=False, person_in_view=True))
    assert session.phase == "idle"


def test_camera_only_needs_a_moment_in_view() -> None:
    session = Session(SETTINGS)
    assert session.observe(Observation(0.0, person_in_view=True)) is None
    assert session.observe(Observation(0.5, person_in_view=True)) is None
    assert session.observe(Observation(1.0, person_in_view=True)) == "calibrating"
    assert session.stats is not None and session.stats.count_source == "camera"


def test_fault_seconds_and_onsets() -> None:
    session = run_mat_session([4.0], off_at=100.0, until=5.0)
    assert session.phase == "active"
    ok = dict.fromkeys(("shoulders", "back", "landing", "arms", "head"), "ok")
    for i in range(100):
        t = 5.0 + i * 0.1
        lights = {**ok, "head": "fault"} if 6.0 <= t < 8.0 else ok
        session.update_lights(t, lights)
    assert session.stats is not None
    head = session.stats.faults["head"]
    assert head.seconds == pytest.approx(2.0, abs=0.11)
    assert head.onsets == [pytest.approx(5.0, abs=0.11)]  # 6 s, session started at 1 s
    assert session.stats.faults["back"].seconds == 0.0
