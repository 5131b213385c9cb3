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


def run_queue(
    visits: list[tuple[float, float, list[float]]], until: float, *, camera_only: bool = False
) -> tuple[Session, list[tuple[float, str]], list[tuple[int, float]]]:
    """Members on the mat (or, camera only, in view) over (on, off) with their jump times.
    Returns the session, its phase changes and each finished session's (jumps, duration)."""
    session = Session(SETTINGS)
    pending = sorted((t, i) for i, (_, _, jumps) in enumerate(visits) for t in jumps)
    changes: list[tuple[float, str]] = []
    finished: list[tuple[int, float]] = []
    t = 0.0
    while t < until:
        there = any(on <= t < off for on, off, _ in visits)
        obs = (
            Observation(t, person_in_view=there, baseline_ready=there)
            if camera_only
            else Observation(t, on_mat=there, mat_still=there)
        )
        changed = session.observe(obs)
        if changed:
            changes.append((t, changed))
            if changed == "summary":
                assert session.last_summary is not None
                summary = session.last_summary
                finished.append((summary.jumps, round(summary.duration_s, 2)))
        while pending and pending[0][0] <= t:
            session.add_jump(pending.pop(0)[0])
        t = round(t + 0.02, 6)
    return session, changes, finished


def jumps_between(t0: float, t1: float) -> list[float]:
    return [round(t0 + 0.5 * i, 6) for i in range(int((t1 - t0) / 0.5))]


@pytest.mark.parametrize("camera_only", [False, True], ids=["mat", "camera-only"])
def test_next_member_on_during_the_summary_gets_a_new_session_from_their_first_jump(
    camera_only: bool,
) -> None:
    # A leaves at 20 s: summary from 25 s to 40 s. B arrives at 28 s and jumps at once.
    first = (1.0, 20.0, jumps_between(4.0, 19.0))
    second = (28.0, 45.0, jumps_between(28.1, 44.0))
    _, changes, finished = run_queue([first, second], 60.0, camera_only=camera_only)
    arrive = 28.0 + (1.0 if camera_only else 0.0)  # without a mat: a moment in view first
    assert [c for _, c in changes[:3]] == ["calibrating", "active", "summary"]
    assert changes[3] == (pytest.approx(arrive), "calibrating")  # the summary ends early
    counted_from = arrive if camera_only else 28.1
    active_a = 3.0 + (1.0 if camera_only else 0.0)  # calibrated 2 s after arriving
    active_b = arrive + 0.12  # B jumps at once: active at the frame after their first jump
    assert finished == [
        (len(first[2]), pytest.approx(20.0 - active_a, abs=0.05)),
        (
            len([j for j in second[2] if j >= counted_from]),
            pytest.approx(45.0 - active_b, abs=0.05),
        ),
    ]


def test_a_glance_in_view_during_the_summary_is_no_session_without_a_mat() -> None:
    visit = (1.0, 10.0, jumps_between(4.0, 9.0))
    passer_by = (17.0, 17.6, [])  # in view 0.6 s during the summary
    session, changes, finished = run_queue([visit, passer_by], 40.0, camera_only=True)
    assert [c for _, c in changes] == ["calibrating", "active", "summary", "idle"]
    assert changes[-1][0] == pytest.approx(15.0 + 15.0, abs=0.05)  # the full summary_s
    assert len(finished) == 1 and session.stats is None


def test_back_to_back_within_the_grace_time_is_one_session() -> None:
    # Off the mat for less than end_after_off_s: the station cannot tell a new member from a
    # brief step off (the grace time), so every jump is counted in one session, none lost.
    first = (1.0, 15.0, jumps_between(4.0, 14.5))
    second = (17.0, 30.0, jumps_between(17.5, 29.5))
    _, changes, finished = run_queue([first, second], 55.0)
    assert [c for _, c in changes] == ["calibrating", "active", "summary", "idle"]
    assert finished == [(len(first[2]) + len(second[2]), pytest.approx(30.0 - 3.0, abs=0.05))]


def test_a_member_who_only_stands_gets_no_session_and_leaves_the_next_one_alone() -> None:
    stands = (1.0, 12.0, [])
    jumps = (19.0, 30.0, jumps_between(21.5, 29.0))  # after the standing member left
    _, changes, finished = run_queue([stands, jumps], 60.0)
    assert [c for _, c in changes] == [
        "calibrating", "active", "dropped", "calibrating", "active", "summary", "idle",
    ]  # fmt: skip
    assert changes[2][0] == pytest.approx(12.0 + 5.0)  # ended as a session would, then idle
    assert finished == [(len(jumps[2]), 9.0)]


def screens(
    visits: list[tuple[float, float, list[float]]], until: float
) -> tuple[list[tuple[float, str]], list[tuple[float, str]], list[tuple[int, float]]]:
    """The screen's spans [(from, screen)], the phase changes and the finished sessions."""
    session = Session(SETTINGS)
    pending = sorted(t for _, _, jumps in visits for t in jumps)
    spans: list[tuple[float, str]] = []
    changes: list[tuple[float, str]] = []
    finished: list[tuple[int, float]] = []
    t = 0.0
    while t < until:
        there = any(on <= t < off for on, off, _ in visits)
        changed = session.observe(Observation(t, on_mat=there, mat_still=there))
        if changed:
            changes.append((t, changed))
            if changed == "summary":
                assert session.last_summary is not None
                finished.append((session.last_summary.jumps, session.last_summary.duration_s))
        while pending and pending[0] <= t:
            session.add_jump(pending.pop(0))
        shown = session.screen(t)
        if not spans or spans[-1][1] != shown:
            spans.append((t, shown))
        t = round(t + 0.02, 6)
    return spans, changes, finished


A = (1.0, 20.0, jumps_between(4.0, 19.0))  # leaves at 20 s: summary from 25 s to 40 s


def test_stepping_back_on_to_scan_the_qr_code_keeps_the_summary_and_logs_nothing() -> None:
    back_to_scan = (30.0, 38.0, [])  # on the mat 8 s during their own summary, no jump
    spans, changes, finished = screens([A, back_to_scan], 60.0)
    # the summary stays up the whole time (their session under it never counts), then idle
    assert [(round(t, 2), s) for t, s in spans] == [
        (0.0, "idle"), (1.0, "calibrating"), (3.0, "active"), (25.0, "summary"), (43.0, "idle"),
    ]  # fmt: skip
    assert [c for _, c in changes] == [
        "calibrating", "active", "summary", "calibrating", "active", "dropped",
    ]  # fmt: skip
    assert finished == [(len(A[2]), pytest.approx(17.0))]


def test_a_step_on_and_off_during_the_summary_leaves_it_to_its_own_time() -> None:
    glance = (28.0, 28.5, [])
    spans, changes, _ = screens([A, glance], 60.0)
    assert [(round(t, 2), s) for t, s in spans][-2:] == [(25.0, "summary"), (40.0, "idle")]
    assert [c for _, c in changes][2:] == ["summary", "calibrating", "dropped", "idle"]


def test_the_next_member_replaces_the_summary_at_their_first_jump() -> None:
    b = (30.0, 50.0, jumps_between(36.0, 49.0))  # steps on, stands 6 s, then jumps
    spans, _, finished = screens([A, b], 70.0)
    shown = [(round(t, 2), s) for t, s in spans]
    # under the summary B calibrated and became active; their count shows at their first jump
    assert shown[3:6] == [(25.0, "summary"), (36.0, "active"), (55.0, "summary")]
    assert finished == [
        (len(A[2]), pytest.approx(17.0)),
        (len(b[2]), pytest.approx(50.0 - 32.0)),  # active since calibrated at 32 s
    ]


def test_a_late_filled_contact_takes_its_place_in_time() -> None:
    """The camera reports a contact filled from the rhythm with the event that confirmed it,
    after later ones: the session keeps its times and its cadence chart in time order, so
    the chart does not run backwards and the span is first to last jump."""
    session = run_mat_session([], off_at=30.0, until=4.0)
    for t in (5.0, 5.5, 6.5, 6.0, 7.0):  # 6.0 arrives late, with 6.5's successor
        session.add_jump(t)
    stats = session.stats
    assert stats is not None
    assert stats.jump_times == [5.0, 5.5, 6.0, 6.5, 7.0]
    chart_times = [x for x, _rate in stats.cadence_series]
    assert chart_times == sorted(chart_times) and len(chart_times) == 5
    assert stats.misses == 0
